import Dispatch
import Glibc

/// Runs work on the OpenMP threads that oneDNN's kernels use (libgomp, which libdnnl loads), so
/// that code between two primitives does not compete with those threads while they spin down;
/// Dispatch's threads where libgomp's entry points cannot be found.
public enum OpenMPParallel {
    private typealias Parallel = @convention(c) (@convention(c) (UnsafeMutableRawPointer?) -> Void, UnsafeMutableRawPointer?, UInt32, UInt32) -> Void
    private typealias ThreadQuery = @convention(c) () -> Int32

    private struct Entry: @unchecked Sendable {
        let parallel: Parallel, threadNumber: ThreadQuery, threadCount: ThreadQuery
    }

    /// libgomp's GOMP_parallel (the call GCC emits for `#pragma omp parallel`), looked up once.
    private static let entry: Entry? = {
        guard let p = dlsym(nil /* RTLD_DEFAULT: every loaded library */, "GOMP_parallel"),
              let n = dlsym(nil, "omp_get_thread_num"),
              let c = dlsym(nil, "omp_get_num_threads") else { return nil }
        return Entry(parallel: unsafeBitCast(p, to: Parallel.self), threadNumber: unsafeBitCast(n, to: ThreadQuery.self),
                     threadCount: unsafeBitCast(c, to: ThreadQuery.self))
    }()

    /// Calls `body(i)` for every i in 0..<iterations, spread over the threads; returns when all
    /// are done. Iterations must not depend on one another.
    public static func forEach(_ iterations: Int, _ body: @Sendable (Int) -> Void) {
        guard iterations > 1 else {
            if iterations == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            guard let entry else {
                DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
                return
            }
            var job = Job(iterations: iterations, body: body, entry: entry)
            withUnsafeMutablePointer(to: &job) { pointer in
                entry.parallel({ raw in
                    let job = raw!.assumingMemoryBound(to: Job.self).pointee
                    let (me, all) = (Int(job.entry.threadNumber()), Int(job.entry.threadCount()))
                    for i in stride(from: me, to: job.iterations, by: max(all, 1)) { job.body(i) }
                }, pointer, 0, 0)
            }
        }
    }

    private struct Job {
        let iterations: Int
        let body: @Sendable (Int) -> Void
        let entry: Entry
    }
}
