import StylizeTensor

/// y = scale · x + offset[c], fixed (nothing learns): puts a network's output on the scale of its
/// target, so training starts from a grey picture of the right contrast instead of spending its
/// first thousand steps growing the last layer's weights.
public final class ChannelAffine: Layer {
    public let scale: Float
    public let offsets: [Float]

    public init(scale: Float, offsets: [Float]) {
        self.scale = scale
        self.offsets = offsets
    }

    public var parameters: [Parameter] { [] }

    public func forward(_ input: Tensor) throws(NNError) -> Tensor {
        guard input.shape.count == 4, input.shape[1] == offsets.count else { throw .wrongInputShape(input.shape) }
        let plane = input.shape[2] * input.shape[3], channels = offsets.count
        var y = input
        let (s, o) = (scale, offsets)
        y.withUnsafeMutableBufferPointer { p in
            for n in 0..<input.shape[0] {
                for c in 0..<channels {
                    let base = (n * channels + c) * plane
                    for i in base..<(base + plane) { p[i] = s * p[i] + o[c] }
                }
            }
        }
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) throws(NNError) -> Tensor? {
        guard needsInputGradient else { return nil }
        var g = outputGradient
        g.scale(by: scale)
        return g
    }
}
