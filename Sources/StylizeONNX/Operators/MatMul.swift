import COpenBLAS
import StylizeTensor

/// MatMul (NumPy semantics, batched with broadcasting) and Gemm, through OpenBLAS's SGEMM.
final class MatMulKernel: Kernel {
    let gemm: Bool
    var alpha: Float = 1, beta: Float = 1, transA = false, transB = false

    init(_ a: Attributes, gemm: Bool) throws(ONNXError) {
        self.gemm = gemm
        if gemm {
            alpha = try a.float("alpha", default: 1)
            beta = try a.float("beta", default: 1)
            transA = try a.int("transA", default: 0) != 0
            transB = try a.int("transB", default: 0) != 0
            _ = try a.int("broadcast", default: 1)  // opset < 7: C always broadcasts here
        }
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        var a = try inputs.floatTensor(0), b = try inputs.floatTensor(1)
        let what = "\(inputs.op) '\(inputs.node)'"
        if gemm {
            guard a.shape.count == 2, b.shape.count == 2 else { throw .shapeMismatch("\(what): needs 2-D inputs, got \(a.shape) and \(b.shape)") }
            let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
            let (k2, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
            guard k == k2 else { throw .shapeMismatch("\(what): \(a.shape) and \(b.shape) with transA \(transA), transB \(transB)") }
            var out = Tensor(shape: [m, n])
            if let c = inputs.optional(2), beta != 0 {
                let bc = try Broadcast(c.shape, [m, n], what: what)
                guard bc.shape == [m, n] else { throw .shapeMismatch("\(what): C \(c.shape) for output \([m, n])") }
                out = BinaryKernel.apply(c.tensor, out, bc) { x, _ in x }
            }
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a.storage.pointer, Int32(a.shape[1]),
                        b.storage.pointer, Int32(b.shape[1]), inputs.optional(2) != nil ? beta : 0, out.storage.pointer, Int32(n))
            return [Value(floats: out)]
        }
        // MatMul: 1-D operands gain a dimension that is removed from the result again.
        let aVector = a.shape.count == 1, bVector = b.shape.count == 1
        if aVector { a = a.reshaped([1] + a.shape) }
        if bVector { b = b.reshaped(b.shape + [1]) }
        guard a.shape.count >= 2, b.shape.count >= 2 else { throw .shapeMismatch("\(what): \(a.shape) and \(b.shape)") }
        let m = a.shape[a.shape.count - 2], k = a.shape.last!, n = b.shape.last!
        guard b.shape[b.shape.count - 2] == k else { throw .shapeMismatch("\(what): \(a.shape) times \(b.shape)") }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let bc = try Broadcast(batchA, batchB, what: what)
        var outShape = bc.shape + [m, n]
        let out = Tensor(shape: outShape)
        let strideA = rowMajorStrides(Array(repeating: 1, count: bc.shape.count - batchA.count) + batchA)
        let strideB = rowMajorStrides(Array(repeating: 1, count: bc.shape.count - batchB.count) + batchB)
        let paddedA = Array(repeating: 1, count: bc.shape.count - batchA.count) + batchA
        let paddedB = Array(repeating: 1, count: bc.shape.count - batchB.count) + batchB
        forEachIndex(bc.shape) { i, idx in
            var ia = 0, ib = 0
            for d in idx.indices {
                ia += (paddedA[d] == 1 ? 0 : idx[d]) * strideA[d]
                ib += (paddedB[d] == 1 ? 0 : idx[d]) * strideB[d]
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                        a.storage.pointer + ia * m * k, Int32(k), b.storage.pointer + ib * k * n, Int32(n),
                        0, out.storage.pointer + i * m * n, Int32(n))
        }
        if aVector { outShape.remove(at: outShape.count - 2) }
        if bVector { outShape.removeLast() }
        return [Value(floats: out.reshaped(outShape))]
    }
}
