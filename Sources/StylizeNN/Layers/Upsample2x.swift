import StylizeTensor

/// How `Upsample2x` fills the new pixels.
public enum UpsamplingMode: String, Sendable, Codable, CaseIterable {
    /// Each pixel repeated 2 × 2 (PyTorch's `interpolate(mode="nearest")`).
    case nearest
    /// Bilinear with half-pixel centres and clamped edges (PyTorch's
    /// `interpolate(mode="bilinear", align_corners=False)`, ONNX Resize `linear`/`half_pixel`):
    /// each new pixel is ¾ of its source and ¼ of the neighbour on its side, per axis.
    case bilinear
}

/// Upsampling by 2 in each direction. Followed by a convolution it replaces the transposed
/// convolution, whose uneven overlap paints checkerboards (Odena, Dumoulin & Olah 2016).
public final class Upsample2x: Layer {
    public let mode: UpsamplingMode
    private var inputShape: [Int]?

    public init(mode: UpsamplingMode = .nearest) { self.mode = mode }

    public var parameters: [Parameter] { [] }

    public func forward(_ input: Tensor) throws(NNError) -> Tensor {
        guard input.shape.count == 4 else { throw .wrongInputShape(input.shape) }
        inputShape = input.shape
        let (h, w) = (input.shape[2], input.shape[3])
        let planes = input.shape[0] * input.shape[1]
        var output = Tensor(shape: [input.shape[0], input.shape[1], 2 * h, 2 * w])
        let mode = mode
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                let buffers = Planes(source: x.baseAddress!, destination: y.baseAddress!)
                OpenMPParallel.forEach(planes) { p in
                    let from = buffers.source + p * h * w, to = buffers.destination + p * 4 * h * w
                    switch mode {
                    case .nearest: Self.nearestPlane(from, to, h, w)
                    case .bilinear: Self.bilinearPlane(from, to, h, w)
                    }
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
        let mode = mode
        outputGradient.withUnsafeBufferPointer { dy in
            input.withUnsafeMutableBufferPointer { dx in
                let buffers = Planes(source: dy.baseAddress!, destination: dx.baseAddress!)
                OpenMPParallel.forEach(planes) { p in
                    let from = buffers.source + p * 4 * h * w, to = buffers.destination + p * h * w
                    switch mode {
                    case .nearest: Self.nearestPlaneBackward(from, to, h, w)
                    case .bilinear: Self.bilinearPlaneBackward(from, to, h, w)
                    }
                }
            }
        }
        return input
    }

    private static func nearestPlane(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int) {
        for row in 0..<h {
            let from = x + row * w, to = y + row * 4 * w
            for i in 0..<w {
                to[2 * i] = from[i]
                to[2 * i + 1] = from[i]
            }
            (to + 2 * w).update(from: to, count: 2 * w)
        }
    }

    private static func nearestPlaneBackward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int) {
        for row in 0..<h {
            let top = dy + row * 4 * w, bottom = top + 2 * w, to = dx + row * w
            for i in 0..<w {
                to[i] = top[2 * i] + top[2 * i + 1] + bottom[2 * i] + bottom[2 * i + 1]
            }
        }
    }

    /// One row widened: new pixel 2i is ¾·x[i] + ¼·x[i−1], 2i+1 is ¾·x[i] + ¼·x[i+1], the
    /// neighbours clamped to the row.
    private static func widen(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ w: Int) {
        for i in 0..<w {
            let left = x[max(i - 1, 0)], right = x[min(i + 1, w - 1)], c = 0.75 * x[i]
            y[2 * i] = c + 0.25 * left
            y[2 * i + 1] = c + 0.25 * right
        }
    }

    /// Rows widened, then each pair of output rows mixed from the widened rows in the same way.
    private static func bilinearPlane(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int) {
        let w2 = 2 * w
        let wide = UnsafeMutablePointer<Float>.allocate(capacity: h * w2)
        defer { wide.deallocate() }
        for row in 0..<h { widen(x + row * w, wide + row * w2, w) }
        for row in 0..<h {
            let centre = wide + row * w2, above = wide + max(row - 1, 0) * w2, below = wide + min(row + 1, h - 1) * w2
            let top = y + 2 * row * w2, bottom = top + w2
            for i in 0..<w2 {
                let c = 0.75 * centre[i]
                top[i] = c + 0.25 * above[i]
                bottom[i] = c + 0.25 * below[i]
            }
        }
    }

    /// The transpose of `bilinearPlane`: each output row pair's gradient goes back to the
    /// widened rows, then each widened row's to its source row.
    private static func bilinearPlaneBackward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int) {
        let w2 = 2 * w
        let wide = UnsafeMutablePointer<Float>.allocate(capacity: h * w2)
        defer { wide.deallocate() }
        wide.initialize(repeating: 0, count: h * w2)
        for row in 0..<h {
            let top = dy + 2 * row * w2, bottom = top + w2
            let centre = wide + row * w2, above = wide + max(row - 1, 0) * w2, below = wide + min(row + 1, h - 1) * w2
            for i in 0..<w2 { centre[i] += 0.75 * (top[i] + bottom[i]) }
            for i in 0..<w2 { above[i] += 0.25 * top[i] }
            for i in 0..<w2 { below[i] += 0.25 * bottom[i] }
        }
        for row in 0..<h {
            let g = wide + row * w2, to = dx + row * w
            to.update(repeating: 0, count: w)
            for i in 0..<w {
                to[i] += 0.75 * (g[2 * i] + g[2 * i + 1])
                to[max(i - 1, 0)] += 0.25 * g[2 * i]
                to[min(i + 1, w - 1)] += 0.25 * g[2 * i + 1]
            }
        }
    }
}

/// The tensors of one pass, handed to the threads of `OpenMPParallel.forEach`, each of which
/// writes its own planes only.
private struct Planes: @unchecked Sendable {
    let source: UnsafePointer<Float>, destination: UnsafeMutablePointer<Float>
}
