import StylizeTensor

/// Pads each side of every plane by `padding` pixels mirrored about the edge (PyTorch's
/// ReflectionPad2d: the edge pixel itself is not repeated), so convolutions see no artificial
/// dark border; Johnson et al.'s networks use it in front of every convolution.
public final class ReflectionPad2D: Layer {
    public let padding: Int
    private var inputShape: [Int]?

    public init(padding: Int) {
        precondition(padding >= 0, "padding ≥ 0")
        self.padding = padding
    }

    public var parameters: [Parameter] { [] }

    /// Source index of each padded position along a side of `size` pixels.
    private func sources(_ size: Int) -> [Int] {
        (0..<(size + 2 * padding)).map { i in
            let j = i - padding
            return j < 0 ? -j : j >= size ? 2 * (size - 1) - j : j
        }
    }

    public func forward(_ input: Tensor) throws(NNError) -> Tensor {
        guard input.shape.count == 4 else { throw .wrongInputShape(input.shape) }
        let (h, w) = (input.shape[2], input.shape[3])
        guard h > padding, w > padding else {
            throw .imageTooSmall(height: h, width: w, layer: "reflection padding \(padding)", minimum: padding + 1)
        }
        inputShape = input.shape
        let (ph, pw) = (h + 2 * padding, w + 2 * padding)
        let rows = sources(h), columns = sources(w)
        let planes = input.shape[0] * input.shape[1]
        var output = Tensor(shape: [input.shape[0], input.shape[1], ph, pw])
        let p = padding
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for plane in 0..<planes {
                    let src = x.baseAddress! + plane * h * w, dst = y.baseAddress! + plane * ph * pw
                    for oy in 0..<ph {
                        let from = src + rows[oy] * w, to = dst + oy * pw
                        (to + p).update(from: from, count: w)
                        for ox in 0..<p {
                            to[ox] = from[columns[ox]]
                            to[p + w + ox] = from[columns[p + w + ox]]
                        }
                    }
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) throws(NNError) -> Tensor? {
        guard needsInputGradient else { return nil }
        guard let shape = inputShape else { preconditionFailure("reflection padding: backward before forward") }
        let (h, w) = (shape[2], shape[3])
        let (ph, pw) = (h + 2 * padding, w + 2 * padding)
        let rows = sources(h), columns = sources(w)
        let planes = shape[0] * shape[1]
        var input = Tensor(shape: shape)
        let p = padding
        outputGradient.withUnsafeBufferPointer { dy in
            input.withUnsafeMutableBufferPointer { dx in
                for plane in 0..<planes {
                    let src = dy.baseAddress! + plane * ph * pw, dst = dx.baseAddress! + plane * h * w
                    for oy in 0..<ph {
                        let from = src + oy * pw, to = dst + rows[oy] * w
                        for x in 0..<w { to[x] += from[p + x] }
                        for ox in 0..<p {
                            to[columns[ox]] += from[ox]
                            to[columns[p + w + ox]] += from[p + w + ox]
                        }
                    }
                }
            }
        }
        return input
    }
}
