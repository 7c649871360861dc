import StylizeIO
import StylizeTensor

/// The pixel plumbing around feed-forward networks: padding to the sizes a network accepts,
/// cropping back, square crops for style images, NHWC for networks converted from TensorFlow,
/// and mixing with the photo.
extension Image {
    /// The image grown to `width`×`height` (each at least the current size) by mirroring at the
    /// right and bottom edges without repeating the edge pixel, as numpy's and ONNX's `reflect`
    /// (and back and forth again where the growth exceeds the picture). Reflection keeps the
    /// statistics the networks' instance normalization sees close to the photo's, where zeros or
    /// a stretched picture would shift them.
    public func reflectPadded(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth >= width && newHeight >= height, "padding cannot shrink \(width)×\(height) to \(newWidth)×\(newHeight)")
        if newWidth == width && newHeight == height { return self }
        let (w, h) = (width, height)
        var out = Tensor(shape: [1, 3, newHeight, newWidth])
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    for y in 0..<newHeight {
                        let row = src.baseAddress! + (c * h + mirrored(y, h)) * w
                        let target = dst.baseAddress! + (c * newHeight + y) * newWidth
                        target.update(from: row, count: w)
                        for x in w..<newWidth { target[x] = row[mirrored(x, w)] }
                    }
                }
            }
        }
        return Image(pixels: out)
    }

    /// The image shrunk, keeping its proportions, to the largest size with at most `maxPixels`
    /// pixels (itself when it has no more than that).
    public func fitted(maxPixels: Int) -> Image {
        guard width * height > maxPixels else { return self }
        let longer = max(width, height)
        var side = Int((Double(longer) * (Double(maxPixels) / Double(width * height)).squareRoot()).rounded(.up))
        while side > 1 {
            let (w, h) = scaledDimensions(width: width, height: height, longerSide: side)
            if w * h <= maxPixels { break }
            side -= 1
        }
        return resized(longerSide: side)
    }

    /// The image padded by reflection up to the next multiples of `multiple` in each direction.
    public func reflectPadded(toMultipleOf multiple: Int) -> Image {
        let round = { (n: Int) in (n + multiple - 1) / multiple * multiple }
        return reflectPadded(width: round(width), height: round(height))
    }

    /// The `width`×`height` rectangle whose top-left corner is (`x`, `y`).
    ///
    /// - Precondition: the rectangle lies inside the image.
    public func cropped(x: Int, y: Int, width newWidth: Int, height newHeight: Int) -> Image {
        precondition(x >= 0 && y >= 0 && newWidth >= 1 && newHeight >= 1 && x + newWidth <= width && y + newHeight <= height,
                     "crop \(newWidth)×\(newHeight) at (\(x), \(y)) is outside \(width)×\(height)")
        if x == 0 && y == 0 && newWidth == width && newHeight == height { return self }
        let (w, h) = (width, height)
        var out = Tensor(shape: [1, 3, newHeight, newWidth])
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    for row in 0..<newHeight {
                        (dst.baseAddress! + (c * newHeight + row) * newWidth)
                            .update(from: src.baseAddress! + (c * h + y + row) * w + x, count: newWidth)
                    }
                }
            }
        }
        return Image(pixels: out)
    }

    /// The largest centred square, resized to `side`×`side` (how Ghiasi et al.'s style predictor,
    /// and the anchor, prepare a style image).
    public func centreSquare(side: Int) -> Image {
        let s = min(width, height)
        return cropped(x: (width - s) / 2, y: (height - s) / 2, width: s, height: s).resized(width: side, height: side)
    }

    /// The pixels as one NHWC tensor [1, H, W, 3] (TensorFlow's layout, which networks converted
    /// from TensorFlow Lite keep at their inputs).
    public var nhwc: Tensor {
        let plane = width * height
        var out = Tensor(shape: [1, height, width, 3])
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<plane {
                    dst[3 * i] = src[i]; dst[3 * i + 1] = src[plane + i]; dst[3 * i + 2] = src[2 * plane + i]
                }
            }
        }
        return out
    }

    /// An image from an NHWC tensor [1, H, W, 3].
    public init(nhwc: Tensor) {
        precondition(nhwc.shape.count == 4 && nhwc.shape[0] == 1 && nhwc.shape[3] == 3, "NHWC image is [1, H, W, 3], got \(nhwc.shape)")
        let (h, w) = (nhwc.shape[1], nhwc.shape[2])
        let plane = h * w
        var out = Tensor(shape: [1, 3, h, w])
        nhwc.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<plane {
                    dst[i] = src[3 * i]; dst[plane + i] = src[3 * i + 1]; dst[2 * plane + i] = src[3 * i + 2]
                }
            }
        }
        self.init(pixels: out)
    }

    /// `amount`·self + (1 − `amount`)·`other`, clamped to [0, 1]: 1 gives self, 0 gives `other`.
    ///
    /// - Precondition: both images have the same size.
    public func mixed(with other: Image, amount: Float) -> Image {
        precondition(pixels.shape == other.pixels.shape, "cannot mix \(width)×\(height) with \(other.width)×\(other.height)")
        if amount >= 1 { return self }
        if amount <= 0 { return other }
        var out = Tensor(shape: pixels.shape)
        pixels.withUnsafeBufferPointer { a in
            other.pixels.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    for i in o.indices { o[i] = min(max(amount * a[i] + (1 - amount) * b[i], 0), 1) }
                }
            }
        }
        return Image(pixels: out)
    }

    /// Values clamped to [0, 1] (networks whose last layer is not a sigmoid overshoot).
    public func clamped() -> Image {
        var copy = self
        copy.clamp()
        return copy
    }

    /// Clamps the values to [0, 1] in place (no copy when the pixels are not shared: a
    /// full-resolution result is large).
    public mutating func clamp() {
        pixels.withUnsafeMutableBufferPointer { v in
            for i in v.indices { v[i] = v[i] > 0 ? (v[i] < 1 ? v[i] : 1) : 0 }
        }
    }
}

/// Index `i` ≥ 0 folded into 0..<n by reflection without repeating the edges (period 2n − 2).
@inline(__always) func mirrored(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    let j = i % (2 * n - 2)
    return j < n ? j : 2 * n - 2 - j
}
