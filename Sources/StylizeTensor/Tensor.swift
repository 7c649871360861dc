import COpenBLAS

/// Owns one 64-byte-aligned float32 buffer. Shared between tensor copies until one of them writes
/// (copy-on-write in `Tensor`), so passing tensors around never copies pixels by accident.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// The owner of memory this storage only views (nil: the storage allocated it).
    private let owner: AnyObject?

    public init(count: Int) {
        precondition(count >= 0, "negative tensor size")
        self.count = count
        // 64-byte alignment: what oneDNN's AVX-512 kernels and OpenBLAS prefer.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        owner = nil
    }

    /// Views `count` floats at `pointer`, memory that `owner` allocated and keeps alive (a
    /// scratch buffer lent for a while: its lender must not reuse it while the storage is in use).
    public init(viewing pointer: UnsafeMutableRawPointer, count: Int, owner: AnyObject) {
        self.count = count
        self.pointer = pointer.bindMemory(to: Float.self, capacity: max(count, 1))
        self.owner = owner
    }

    deinit { if owner == nil { UnsafeMutableRawPointer(pointer).deallocate() } }
}

/// A dense float32 tensor in row-major order. Images and activations are NCHW with batch 1.
///
/// `Tensor` is a value: copies share storage until one is mutated.
public struct Tensor: Sendable {
    public private(set) var shape: [Int]
    public private(set) var storage: TensorStorage

    /// Number of elements.
    public var count: Int { storage.count }

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        let n = shape.reduce(1, *)
        self.shape = shape
        storage = TensorStorage(count: n)
        storage.pointer.initialize(repeating: value, count: n)
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        let n = shape.reduce(1, *)
        precondition(n == scalars.count, "shape \(shape) needs \(n) values, got \(scalars.count)")
        self.shape = shape
        storage = TensorStorage(count: n)
        scalars.withUnsafeBufferPointer { storage.pointer.initialize(from: $0.baseAddress!, count: n) }
    }

    /// A tensor over existing storage holding at least the shape's element count.
    public init(shape: [Int], storage: TensorStorage) {
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not match storage of \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// The elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// Read-only access to the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Write access; copies the storage first if another tensor shares it.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = newShape
        return t
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(count: count)
            copy.pointer.initialize(from: storage.pointer, count: count)
            storage = copy
        }
    }
}

// MARK: - Vector arithmetic on whole tensors, through BLAS (used by losses and optimizers).

extension Tensor {
    /// Σ selfᵢ·otherᵢ, accumulated in double precision.
    public func dot(_ other: Tensor) -> Double {
        precondition(count == other.count, "dot of \(shape) and \(other.shape)")
        return cblas_dsdot(Int32(count), storage.pointer, 1, other.storage.pointer, 1)
    }

    /// self += alpha·x
    public mutating func add(_ x: Tensor, scaledBy alpha: Float = 1) {
        precondition(count == x.count, "add of \(shape) and \(x.shape)")
        let xp = x.storage.pointer, n = Int32(count)
        withUnsafeMutableBufferPointer { cblas_saxpy(n, alpha, xp, 1, $0.baseAddress, 1) }
    }

    /// self *= alpha
    public mutating func scale(by alpha: Float) {
        let n = Int32(count)
        withUnsafeMutableBufferPointer { cblas_sscal(n, alpha, $0.baseAddress, 1) }
    }

    /// Σ selfᵢ², in double precision.
    public var squaredNorm: Double { dot(self) }

    /// Whether every value is finite (no NaN, no ±∞): Σ selfᵢ² in double precision cannot
    /// overflow for finite floats, and is NaN or ∞ as soon as one value is.
    public var allFinite: Bool { squaredNorm.isFinite }

    /// max |selfᵢ|
    public var maxAbs: Float {
        guard count > 0 else { return 0 }
        let i = cblas_isamax(Int32(count), storage.pointer, 1)
        return abs(storage.pointer[Int(i)])
    }
}

extension Tensor {
    /// The matrix product op(a)·op(b) of two 2-D tensors (row-major), where op transposes when
    /// asked; on OpenBLAS.
    public static func matrixProduct(_ a: Tensor, transposingFirst ta: Bool = false, _ b: Tensor,
                                     transposingSecond tb: Bool = false) -> Tensor {
        precondition(a.shape.count == 2 && b.shape.count == 2, "matrixProduct needs 2-D tensors, got \(a.shape) and \(b.shape)")
        let (m, k) = ta ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = tb ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(k == k2, "matrixProduct: inner sizes \(k) and \(k2) differ")
        let out = Tensor(shape: [m, n])
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), 1, pa.baseAddress, Int32(a.shape[1]),
                            pb.baseAddress, Int32(b.shape[1]), 0, out.storage.pointer, Int32(n))
            }
        }
        return out
    }
}
