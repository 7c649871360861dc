import StylizeTensor
import StylizeIO
import StylizeNN

/// Pictures to network inputs and back. The optimisation runs in network-input space, as
/// neural-style's does, so the loss gradient needs no mapping back to pixels.
extension Preprocessing {
    /// Network channel c = scale[c] · RGB channel source[c] + offset[c].
    private var affine: (source: [Int], scale: [Float], offset: [Float]) {
        switch self {
        case .caffeBGR:
            // BGR in 0–255 minus the ImageNet mean pixel that Caffe's VGG was trained with.
            return ([2, 1, 0], [255, 255, 255], [-103.939, -116.779, -123.68])
        case .torchvisionRGB:
            let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
            return ([0, 1, 2], std.map { 1 / $0 }, zip(mean, std).map { -$0 / $1 })
        }
    }

    /// How far one step of 1/255 in a pixel value moves the network input (about), so that step
    /// sizes given in 0–255 pixel units mean the same whatever the weights' preprocessing.
    public var pixelStep: Float {
        switch self {
        case .caffeBGR: return 1
        case .torchvisionRGB: return 1 / (255 * 0.226)
        }
    }

    /// `image` ([1, 3, H, W] RGB in [0, 1]) as this network's input.
    public func networkInput(_ image: Image) -> Tensor {
        networkInput(pixels: image.pixels, range: 1)
    }

    /// `pixels` ([N, 3, H, W] RGB in 0…`range`) as the network's input, image by image.
    public func networkInput(pixels: Tensor, range: Float) -> Tensor {
        let (source, scale, offset) = affine
        let plane = pixels.shape[2] * pixels.shape[3]
        var out = Tensor(shape: pixels.shape)
        pixels.withUnsafeBufferPointer { rgb in
            out.withUnsafeMutableBufferPointer { x in
                for image in 0..<pixels.shape[0] {
                    let base = image * 3 * plane
                    for c in 0..<3 {
                        let s = scale[c] / range, o = offset[c], src = base + source[c] * plane, dst = base + c * plane
                        for i in 0..<plane { x[dst + i] = s * rgb[src + i] + o }
                    }
                }
            }
        }
        return out
    }

    /// Clamps a network input to the values that pictures in [0, 1] map to, channel by channel.
    public func clampToPictureRange(_ x: inout Tensor) {
        let (_, scale, offset) = affine
        let plane = x.shape[2] * x.shape[3]
        x.withUnsafeMutableBufferPointer { x in
            for image in 0..<(x.count / (3 * plane)) {
                for c in 0..<3 {
                    let (low, high) = (min(offset[c], offset[c] + scale[c]), max(offset[c], offset[c] + scale[c]))
                    let base = (image * 3 + c) * plane
                    for i in base..<(base + plane) { x[i] = min(max(x[i], low), high) }
                }
            }
        }
    }

    /// The picture of a network input, clamped to [0, 1].
    public func image(fromNetworkInput x: Tensor) -> Image {
        let (source, scale, offset) = affine
        let plane = x.shape[2] * x.shape[3]
        var out = Tensor(shape: x.shape)
        x.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { rgb in
                for c in 0..<3 {
                    let s = 1 / scale[c], o = offset[c], src = c * plane, dst = source[c] * plane
                    for i in 0..<plane { rgb[dst + i] = min(max((x[src + i] - o) * s, 0), 1) }
                }
            }
        }
        return Image(pixels: out)
    }
}

extension Preprocessing {
    /// `pixels` ([N, 3, H, W] RGB in 0–255, as style networks work) as the network's input.
    public func networkInput(pixels255 pixels: Tensor) -> Tensor {
        networkInput(pixels: pixels, range: 255)
    }

    /// dLoss/dPixels (0–255 RGB) from dLoss/dInput: the transpose of `networkInput(pixels255:)`,
    /// added into `pixelGradient` ([N, 3, H, W]) at image `index` after scaling by `factor`.
    public func addPixelGradient(_ inputGradient: Tensor, to pixelGradient: inout Tensor, image index: Int, factor: Float) {
        let (source, scale, _) = affine
        let plane = inputGradient.shape[2] * inputGradient.shape[3]
        inputGradient.withUnsafeBufferPointer { g in
            pixelGradient.withUnsafeMutableBufferPointer { out in
                let base = index * 3 * plane
                for c in 0..<3 {
                    let s = factor * scale[c] / 255, src = c * plane, dst = base + source[c] * plane
                    for i in 0..<plane { out[dst + i] += s * g[src + i] }
                }
            }
        }
    }
}
