#if canImport(Glibc)
import Glibc
#endif

/// Lowers the OpenMP thread count of oneDNN calls made from this thread, for small convolutions.
///
/// oneDNN splits a convolution statically over OpenMP's threads and waits for all of them. On a
/// shared machine a worker that has gone to sleep since the last region may take milliseconds to
/// be scheduled again, which is nothing next to a large convolution but everything next to a small
/// one: the int8 arbitrary-style network's 42 convolutions (1 G multiply-adds in all at 384²)
/// took 0.04 s on one thread and 0.55 s on two under load. OpenMP's thread count is a per-thread
/// setting (`omp_set_num_threads` affects regions this thread starts), so this changes nothing for
/// other threads. Looked up at run time: a oneDNN built without OpenMP is left alone.
enum OpenMPThreads {
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias MaxThreads = @convention(c) () -> Int32

    private struct Entry: @unchecked Sendable {
        let set: SetThreads
        let max: MaxThreads
    }

    private static let entry: Entry? = {
        #if canImport(Glibc)
        guard let s = dlsym(nil, "omp_set_num_threads"), let m = dlsym(nil, "omp_get_max_threads") else { return nil }
        return Entry(set: unsafeBitCast(s, to: SetThreads.self), max: unsafeBitCast(m, to: MaxThreads.self))
        #else
        return nil
        #endif
    }()

    /// Below this many multiply-adds a convolution runs on one thread (about 5 ms of one core's
    /// work, well above the cost of waking a sleeping worker on a busy machine).
    static let smallWork = 400_000_000

    /// Runs `body` with oneDNN limited to one thread when `work` (multiply-adds) is small.
    static func forWork<T, E: Error>(_ work: Int, _ body: () throws(E) -> T) throws(E) -> T {
        guard work < smallWork, let entry else { return try body() }
        let before = entry.max()
        if before <= 1 { return try body() }
        entry.set(1)
        defer { entry.set(before) }
        return try body()
    }
}
