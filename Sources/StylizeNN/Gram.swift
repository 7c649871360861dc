import CDNNL
import COpenBLAS
import StylizeTensor

/// Gram matrices of feature maps, G = F Fᵀ / (H·W) with F the C×(H·W) matrix of a [1, C, H, W]
/// activation: the style statistics of Gatys et al., through BLAS.
public enum Gram {
    /// G for `features` [1, C, H, W]; shape [C, C]. G is symmetric, so a rank-k update (SYRK)
    /// computes one triangle at half a GEMM's cost and the other is mirrored.
    public static func forward(_ features: Tensor) -> Tensor {
        let c = features.shape[1], n = features.count / c
        var g = Tensor(shape: [c, c])
        let f = features.storage.pointer
        g.withUnsafeMutableBufferPointer { out in
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(c), Int32(n),
                        1 / Float(n), f, Int32(n), 0, out.baseAddress, Int32(c))
            for i in 0..<c {
                for j in 0..<i { out[i * c + j] = out[j * c + i] }
            }
        }
        return g
    }

    /// dL/dF given dL/dG (shape [C, C]) and F: (dG + dGᵀ) F / (H·W), shaped like `features`.
    public static func backward(features: Tensor, gradient: Tensor) -> Tensor {
        var f = features
        backward(replacing: &f, gradient: gradient)
        return f
    }

    /// Replaces F by dL/dF = (dG + dGᵀ) F / (H·W) without a second feature-sized buffer: each
    /// block of columns of the result depends only on the same columns of F, so the blocks are
    /// computed into a small scratch matrix and copied back.
    public static func backward(replacing features: inout Tensor, gradient: Tensor) {
        let c = features.shape[1], n = features.count / c
        precondition(gradient.shape == [c, c], "Gram gradient must be [\(c), \(c)], got \(gradient.shape)")
        // Symmetrise first so one GEMM per block does the rest.
        var sym = gradient
        sym.withUnsafeMutableBufferPointer { s in
            for i in 0..<c {
                for j in (i + 1)..<max(c, i + 1) {
                    let v = s[i * c + j] + s[j * c + i]
                    s[i * c + j] = v
                    s[j * c + i] = v
                }
                s[i * c + i] *= 2
            }
        }
        let block = min(n, 2048)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: c * block)
        defer { scratch.deallocate() }
        let gs = sym.storage.pointer
        features.withUnsafeMutableBufferPointer { f in
            let base = f.baseAddress!
            for start in stride(from: 0, to: n, by: block) {
                let width = min(block, n - start)
                // oneDNN's GEMM (row-major like the CBLAS call it replaced): Debian's OpenBLAS
                // 0.3.21 does not know this CPU and runs its AVX2 (Haswell) kernels, 2–3× slower
                // here than oneDNN's AVX-512 ones (about 0.03 s of a 512×384 iteration).
                let status = dnnl_sgemm(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "N")), Int64(c), Int64(width), Int64(c),
                               1 / Float(n), gs, Int64(c), base + start, Int64(n), 0, scratch, Int64(width))
                precondition(status == dnnl_success, "dnnl_sgemm failed: \(status)")
                for row in 0..<c {
                    (base + row * n + start).update(from: scratch + row * width, count: width)
                }
            }
        }
    }
}
