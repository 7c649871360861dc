import Foundation
import StylizeTensor

/// What kernels share while a graph runs: oneDNN's engine and stream, the thread count of the
/// executor's own loops, and scratch buffers.
final class ExecutionContext {
    let dnnl = DNNLContext()
    /// OMP_NUM_THREADS when set (the count oneDNN's OpenMP uses), else every core.
    let threads: Int
    private var buffers: [String: DNNLBuffer] = [:]

    init() {
        let omp = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"].flatMap { Int($0) }
        threads = max(1, omp ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    /// A buffer of at least `byteCount` bytes for `role`, shared by every kernel: steps run one at a
    /// time, so one buffer per role (grown to the largest need) keeps peak memory to one copy
    /// instead of one per node and input size.
    func scratch(_ role: String, _ byteCount: Int) -> DNNLBuffer {
        if let b = buffers[role], b.byteCount >= byteCount { return b }
        buffers[role] = nil  // free the small one before allocating the large one
        let b = DNNLBuffer(byteCount: byteCount)
        buffers[role] = b
        return b
    }

    private var pool: [TensorStorage] = []

    /// Float storage of at least `count` values, contents undefined, for a kernel's output. A
    /// storage in the pool that nothing else holds any more (its value was released) is reused:
    /// its pages stay mapped, where a fresh large allocation pays a page fault per 4 KiB on first
    /// write, about as long as the kernel's own work for memory-bound kernels.
    func recycledStorage(_ count: Int) -> TensorStorage {
        var best: Int? = nil
        for i in pool.indices where pool[i].count >= count && isKnownUniquelyReferenced(&pool[i]) {
            if best == nil || pool[i].count < pool[best!].count { best = i }
        }
        if let best { return pool[best] }
        // Free ones too small for this are likely from an earlier, smaller input size.
        var kept: [TensorStorage] = []
        for i in pool.indices where !isKnownUniquelyReferenced(&pool[i]) { kept.append(pool[i]) }
        pool = kept
        let s = TensorStorage(count: count)
        pool.append(s)
        return s
    }

    /// A tensor of `shape` over recycled storage (see `recycledStorage`), contents undefined: for
    /// kernels that write every element.
    func recycledTensor(_ shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        // Small tensors (per-channel statistics) come from malloc, which recycles them well.
        if count < 16_384 { return Tensor(shape: shape) }
        let pooled = recycledStorage(count)
        return Tensor(shape: shape, storage: TensorStorage(viewing: pooled.pointer, count: count, owner: pooled))
    }

    /// Runs `body` on `count` items split into contiguous ranges, several per thread; the ranges
    /// must write disjoint memory.
    func parallel(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        if threads == 1 || count < 2 * max(minimumPerThread, 1) { body(0..<count); return }
        // Eight parts per thread, handed out as threads come free: on a shared machine a thread
        // that is not scheduled for a while leaves its parts to the others (the caller included)
        // instead of holding everyone at the end, as one part per thread did.
        let parts = max(1, min(threads * 8, count / max(minimumPerThread, 1)))
        // The parts touch disjoint memory (the callers' contract), and concurrentPerform returns
        // only after all of them: sharing the non-Sendable closure across its threads is safe.
        withoutActuallyEscaping(body) { body in
            let shared = unsafeBitCast(body, to: (@Sendable (Range<Int>) -> Void).self)
            DispatchQueue.concurrentPerform(iterations: parts) { k in
                shared(count * k / parts..<count * (k + 1) / parts)
            }
        }
    }
}

/// One node's computation, built at load from the node's attributes (which it validates) and
/// run with the node's inputs (nil entries for omitted optional inputs). Kernels may cache work that
/// depends on input shapes (compiled oneDNN primitives, reordered weights) between runs.
protocol Kernel: AnyObject {
    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value]
}

/// Helpers for reading a kernel's inputs with node-named errors.
struct KernelInputs {
    let values: [Value?]
    let op: String
    let node: String

    func required(_ i: Int) throws(ONNXError) -> Value {
        guard i < values.count, let v = values[i] else { throw .missingInput("input \(i) of \(op) node '\(node)'") }
        return v
    }

    func optional(_ i: Int) -> Value? { i < values.count ? values[i] : nil }

    func floatTensor(_ i: Int) throws(ONNXError) -> Tensor {
        let v = try required(i)
        guard v.type.isFloatCoded else { throw .malformed("input \(i) of \(op) node '\(node)' is \(v.type), expected float") }
        return v.tensor
    }

    func integers(_ i: Int) throws(ONNXError) -> [Int] {
        try required(i).integers("input \(i) of \(op) node '\(node)'")
    }
}
