import StylizeTensor

/// What DeepDream increases at a layer, as a value (the layer's mean) and its gradient with
/// respect to the activation.
public enum DreamObjective: Sendable {
    /// Half the squared activation, averaged over the layer: what the layer sees grows.
    case norm
    /// The same on one channel only.
    case channel(Int)
    /// For each position, the best dot product with one of the guide's feature vectors ([C, N]
    /// per layer), averaged: the positions grow towards what the guide shows.
    case guide([String: Tensor])

    /// Replaces `activation` ([1, C, h, w]) by the gradient of the objective with respect to it
    /// and returns the objective's value.
    func apply(layer: String, to activation: inout Tensor) -> Double {
        let (c, n) = (activation.shape[1], activation.shape[2] * activation.shape[3])
        switch self {
        case .norm:
            let value = 0.5 * activation.squaredNorm / Double(c * n)
            activation.scale(by: 1 / Float(c * n))
            return value
        case .channel(let k):
            var value = 0.0
            activation.withUnsafeMutableBufferPointer { a in
                for i in 0..<(c * n) where i / n != k { a[i] = 0 }
                for i in (k * n)..<((k + 1) * n) {
                    value += 0.5 * Double(a[i] * a[i])
                    a[i] /= Float(n)
                }
            }
            return value / Double(n)
        case .guide(let features):
            guard let g = features[layer] else { return 0 }
            // S[i, j] = ⟨x_i, g_j⟩ for every position i of the picture and j of the guide.
            let x = activation.reshaped([c, n])
            let scores = Tensor.matrixProduct(x, transposingFirst: true, g)
            let m = g.shape[1]
            var value = 0.0
            var out = Tensor(shape: activation.shape)
            scores.withUnsafeBufferPointer { s in
                g.withUnsafeBufferPointer { gp in
                    out.withUnsafeMutableBufferPointer { o in
                        for i in 0..<n {
                            var best = 0, bestScore = -Float.infinity
                            for j in 0..<m where s[i * m + j] > bestScore { best = j; bestScore = s[i * m + j] }
                            value += Double(bestScore)
                            for ch in 0..<c { o[ch * n + i] = gp[ch * m + best] / Float(n) }
                        }
                    }
                }
            }
            activation = out
            return value / Double(n)
        }
    }
}
