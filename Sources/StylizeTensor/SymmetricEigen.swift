import CLAPACKE

/// The eigendecomposition A = Q·diag(λ)·Qᵀ of a symmetric matrix, through LAPACK's divide and
/// conquer (`ssyevd`, OpenBLAS's LAPACK on Debian), and the matrix functions built on it.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues, ascending.
    public let values: [Float]
    /// Eigenvectors as the columns of an n×n row-major matrix.
    public let vectors: Tensor

    /// Decomposes `matrix` ([n, n], symmetric; only its upper triangle is read).
    /// Returns nil when LAPACK does not converge.
    public init?(_ matrix: Tensor) {
        precondition(matrix.shape.count == 2 && matrix.shape[0] == matrix.shape[1], "SymmetricEigen needs a square matrix, got \(matrix.shape)")
        let n = matrix.shape[0]
        var a = Tensor(shape: matrix.shape, scalars: matrix.scalars)
        var w = [Float](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { p in
            LAPACKE_ssyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(n),
                           p.baseAddress, Int32(n), &w)
        }
        guard info == 0 else { return nil }
        values = w
        vectors = a
    }

    /// Q·diag(f(λ))·Qᵀ: the matrix function f applied to the decomposed matrix.
    public func map(_ f: (Float) -> Float) -> Tensor {
        let n = values.count
        var scaled = vectors
        scaled.withUnsafeMutableBufferPointer { q in
            for j in 0..<n {
                let s = f(values[j])
                for i in 0..<n { q[i * n + j] *= s }
            }
        }
        return Tensor.matrixProduct(scaled, vectors, transposingSecond: true)
    }
}
