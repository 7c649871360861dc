import StylizeTensor
import StylizeNN

/// Li & Wand's MRF loss (CNNMRF, 2016): every k×k patch of the picture's features (at every
/// position: a stride there would print its grid into the picture) is matched to the style patch
/// (taken every `stride` positions) with the highest normalised cross-correlation, and the loss is
/// the mean squared difference to the matched patches. The matching is one
/// convolution on oneDNN with the normalised style patches as its kernels; the matches are then
/// fixed, so the gradient, 2(patch − match) summed where patches overlap, is exact wherever no
/// match changes. Patches of all style images are pooled (blend weights do not apply).
public final class MRFStyleTarget: StyleTarget {
    public let patchSize: Int, stride: Int
    /// The style patches, [P, C, k, k], as they are (the loss compares with them).
    public let patches: Tensor
    /// The same patches scaled to unit length: the matching convolution's kernels.
    private let matcher: Conv2D
    public var patchCount: Int { patches.shape[0] }

    /// - Throws: `.invalidOption` when a style image's activation is smaller than a patch.
    public init(_ styles: WeightedFeatures, layer: String, patchSize k: Int, stride: Int,
                precision: Precision) throws(StylizeError) {
        let c = styles[0].features.shape[1], dim = c * k * k
        var raw: [Float] = []
        for (features, _) in styles {
            let h = features.shape[2], w = features.shape[3]
            guard h >= k && w >= k else {
                throw .invalidOption("MRF patch size \(k) does not fit \(layer) of a style image (\(w)×\(h) there): use a smaller --mrf-patch-size or a larger style")
            }
            features.withUnsafeBufferPointer { f in
                for y in Swift.stride(from: 0, through: h - k, by: stride) {
                    for x in Swift.stride(from: 0, through: w - k, by: stride) {
                        for ch in 0..<c {
                            for dy in 0..<k {
                                let row = ch * h * w + (y + dy) * w + x
                                raw.append(contentsOf: f[row..<(row + k)])
                            }
                        }
                    }
                }
            }
        }
        let count = raw.count / dim
        patches = Tensor(shape: [count, c, k, k], scalars: raw)
        var normalised = patches
        normalised.withUnsafeMutableBufferPointer { p in
            for i in 0..<count {
                var s: Float = 0
                for j in (i * dim)..<((i + 1) * dim) { s += p[j] * p[j] }
                let inverse = s > 0 ? 1 / s.squareRoot() : 0
                for j in (i * dim)..<((i + 1) * dim) { p[j] *= inverse }
            }
        }
        matcher = Conv2D(name: "mrf.\(layer)", weight: normalised, bias: Tensor(shape: [count]), stride: 1,
                         precision: precision, context: DNNLContext())
        patchSize = k
        self.stride = stride
    }

    /// For each picture patch (row-major over the positions), the index of its best style patch.
    func matches(_ features: Tensor) throws(NNError) -> (indices: [Int], rows: Int, columns: Int) {
        let scores = try matcher.forward(features)
        let count = scores.shape[1], rows = scores.shape[2], columns = scores.shape[3], positions = rows * columns
        var best = [Float](repeating: -.infinity, count: positions), index = [Int](repeating: 0, count: positions)
        scores.withUnsafeBufferPointer { s in
            for p in 0..<count {
                let plane = p * positions
                for i in 0..<positions where s[plane + i] > best[i] {
                    best[i] = s[plane + i]
                    index[i] = p
                }
            }
        }
        return (index, rows, columns)
    }

    public func loss(replacing features: inout Tensor) throws(NNError) -> Double {
        let (index, rows, columns) = try matches(features)
        let c = features.shape[1], h = features.shape[2], w = features.shape[3], k = patchSize
        let dim = c * k * k
        let scale = 1 / Double(rows * columns * dim)
        var gradient = Tensor(shape: features.shape)
        var value = 0.0
        features.withUnsafeBufferPointer { f in
            patches.withUnsafeBufferPointer { p in
                gradient.withUnsafeMutableBufferPointer { g in
                    let g2 = Float(2 * scale)
                    for oy in 0..<rows {
                        for ox in 0..<columns {
                            let patch = index[oy * columns + ox] * dim
                            var sum: Float = 0
                            for ch in 0..<c {
                                for dy in 0..<k {
                                    let row = ch * h * w + (oy + dy) * w + ox
                                    let prow = patch + (ch * k + dy) * k
                                    for dx in 0..<k {
                                        let d = f[row + dx] - p[prow + dx]
                                        sum += d * d
                                        g[row + dx] += g2 * d
                                    }
                                }
                            }
                            value += Double(sum)
                        }
                    }
                }
            }
        }
        features = gradient
        return value * scale
    }
}
