import StylizeTensor

/// Nearest-neighbour upsampling by 2 in each direction. Followed by a convolution it replaces the
/// transposed convolution, whose uneven overlap paints checkerboards (Odena, Dumoulin & Olah 2016).
public final class Upsample2x: Layer {
    private var inputShape: [Int]?

    public init() {}

    public var parameters: [Parameter] { [] }

    public func forward(_ input: Tensor) throws(NNError) -> Tensor {
        guard input.shape.count == 4 else { throw .wrongInputShape(input.shape) }
        inputShape = input.shape
        let (h, w) = (input.shape[2], input.shape[3])
        let planes = input.shape[0] * input.shape[1]
        var output = Tensor(shape: [input.shape[0], input.shape[1], 2 * h, 2 * w])
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for row in 0..<(planes * h) {
                    let from = x.baseAddress! + row * w, to = y.baseAddress! + row * 4 * w
                    for i in 0..<w {
                        to[2 * i] = from[i]
                        to[2 * i + 1] = from[i]
                    }
                    (to + 2 * w).update(from: to, count: 2 * w)
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) throws(NNError) -> Tensor? {
        guard needsInputGradient else { return nil }
        guard let shape = inputShape else { preconditionFailure("upsampling: backward before forward") }
        let (h, w) = (shape[2], shape[3])
        let planes = shape[0] * shape[1]
        var input = Tensor(shape: shape)
        outputGradient.withUnsafeBufferPointer { dy in
            input.withUnsafeMutableBufferPointer { dx in
                for row in 0..<(planes * h) {
                    let top = dy.baseAddress! + row * 4 * w, bottom = top + 2 * w, to = dx.baseAddress! + row * w
                    for i in 0..<w {
                        to[i] = top[2 * i] + top[2 * i + 1] + bottom[2 * i] + bottom[2 * i + 1]
                    }
                }
            }
        }
        return input
    }
}
