import StylizeTensor
import StylizeNN

/// The three terms of Gatys et al.'s objective, each with its gradient. The normalisation is
/// neural-style's (and that of ../shared/reference/vgg19 "gatys"), so its weights carry over.
public enum Losses {
    /// mean((F − F_content)²) over all elements.
    public static func content(_ features: Tensor, target: Tensor) -> (value: Double, gradient: Tensor) {
        var f = features
        let value = content(replacing: &f, target: target)
        return (value, f)
    }

    /// The content loss; replaces `features` by its gradient (no second feature-sized buffer).
    public static func content(replacing features: inout Tensor, target: Tensor) -> Double {
        precondition(features.shape == target.shape, "content features \(features.shape) vs target \(target.shape)")
        features.add(target, scaledBy: -1)
        let n = Double(features.count)
        let value = features.squaredNorm / n
        features.scale(by: Float(2 / n))
        return value
    }

    /// (1/C²) · mean((G − G_style)²) over the C² entries, G the Gram matrix of `features`
    /// ([1, C, H, W]); its gradient flows back through the Gram matrix to the features.
    public static func style(_ features: Tensor, targetGram: Tensor) -> (value: Double, gradient: Tensor) {
        var f = features
        let value = style(replacing: &f, targetGram: targetGram)
        return (value, f)
    }

    /// The style loss; replaces `features` by its gradient (no second feature-sized buffer).
    public static func style(replacing features: inout Tensor, targetGram: Tensor) -> Double {
        var diff = Gram.forward(features)
        precondition(diff.shape == targetGram.shape, "Gram \(diff.shape) vs target \(targetGram.shape)")
        diff.add(targetGram, scaledBy: -1)
        let c = Double(diff.shape[0]), c4 = c * c * c * c
        let value = diff.squaredNorm / c4
        diff.scale(by: Float(2 / c4))
        Gram.backward(replacing: &features, gradient: diff)
        return value
    }

    /// Σ of squared differences between horizontal and between vertical neighbours, over every
    /// channel of `image` ([N, C, H, W]).
    public static func totalVariation(_ image: Tensor) -> (value: Double, gradient: Tensor) {
        let h = image.shape[image.shape.count - 2], w = image.shape[image.shape.count - 1]
        let planes = image.count / max(h * w, 1)
        var gradient = Tensor(shape: image.shape)
        var value = 0.0
        image.withUnsafeBufferPointer { x in
            gradient.withUnsafeMutableBufferPointer { g in
                for p in 0..<planes {
                    for y in 0..<h {
                        let row = p * h * w + y * w
                        var rowSum: Float = 0
                        for i in row..<(row + w) {
                            if i + 1 < row + w {
                                let d = x[i + 1] - x[i]
                                rowSum += d * d
                                g[i + 1] += 2 * d
                                g[i] -= 2 * d
                            }
                            if y + 1 < h {
                                let d = x[i + w] - x[i]
                                rowSum += d * d
                                g[i + w] += 2 * d
                                g[i] -= 2 * d
                            }
                        }
                        value += Double(rowSum)
                    }
                }
            }
        }
        return (value, gradient)
    }
}
