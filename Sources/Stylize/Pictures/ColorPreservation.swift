import StylizeTensor
import StylizeIO

/// Keeping the content's colours (Gatys, Bethge, Hertzmann & Shechtman 2016, "Preserving color
/// in neural artistic style transfer"). YUV as torch's image.rgb2yuv, which neural-style's
/// `-original_colors` uses.
public enum ColorPreservation {
    /// The luminance of `result` with the chrominance (U, V) of `content`, of the same size.
    public static func originalColors(result: Image, content: Image) -> Image {
        precondition(result.pixels.shape == content.pixels.shape, "original colours need equal sizes")
        let plane = result.width * result.height
        var out = Tensor(shape: result.pixels.shape)
        result.pixels.withUnsafeBufferPointer { r in
            content.pixels.withUnsafeBufferPointer { c in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<plane {
                        let y = luma(r[i], r[plane + i], r[2 * plane + i])
                        let (u, v) = chroma(c[i], c[plane + i], c[2 * plane + i])
                        let (red, green, blue) = rgb(y, u, v)
                        o[i] = clamp(red); o[plane + i] = clamp(green); o[2 * plane + i] = clamp(blue)
                    }
                }
            }
        }
        return Image(pixels: out)
    }

    /// The luminance of `image` as a grey picture (Y in all three channels).
    public static func luminance(_ image: Image) -> Image {
        matchedLuminance(image, mean: nil, deviation: nil)
    }

    /// The luminance of `image` as a grey picture, shifted and scaled to the mean and standard
    /// deviation of `reference`'s luminance: the paper's luminance-only transfer, whose style
    /// image must not bring its own brightness and contrast.
    public static func luminance(_ image: Image, matching reference: Image) -> Image {
        let (mean, deviation) = statistics(of: reference)
        return matchedLuminance(image, mean: mean, deviation: deviation)
    }

    private static func matchedLuminance(_ image: Image, mean: Double?, deviation: Double?) -> Image {
        let plane = image.width * image.height
        var scale: Float = 1, shift: Float = 0
        if let mean, let deviation {
            let (m, d) = statistics(of: image)
            scale = d > 1e-8 ? Float(deviation / d) : 1
            shift = Float(mean) - scale * Float(m)
        }
        var out = Tensor(shape: image.pixels.shape)
        image.pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<plane {
                    let y = clamp(scale * luma(p[i], p[plane + i], p[2 * plane + i]) + shift)
                    o[i] = y; o[plane + i] = y; o[2 * plane + i] = y
                }
            }
        }
        return Image(pixels: out)
    }

    private static func statistics(of image: Image) -> (mean: Double, deviation: Double) {
        let plane = image.width * image.height
        var sum = 0.0, squares = 0.0
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<plane {
                let y = Double(luma(p[i], p[plane + i], p[2 * plane + i]))
                sum += y; squares += y * y
            }
        }
        let mean = sum / Double(max(plane, 1))
        return (mean, max(squares / Double(max(plane, 1)) - mean * mean, 0).squareRoot())
    }

    @inline(__always) private static func luma(_ r: Float, _ g: Float, _ b: Float) -> Float {
        0.299 * r + 0.587 * g + 0.114 * b
    }
    @inline(__always) private static func chroma(_ r: Float, _ g: Float, _ b: Float) -> (u: Float, v: Float) {
        (-0.14713 * r - 0.28886 * g + 0.436 * b, 0.615 * r - 0.51499 * g - 0.10001 * b)
    }
    @inline(__always) private static func rgb(_ y: Float, _ u: Float, _ v: Float) -> (Float, Float, Float) {
        (y + 1.13983 * v, y - 0.39465 * u - 0.58060 * v, y + 2.03211 * u)
    }
    @inline(__always) private static func clamp(_ x: Float) -> Float { min(max(x, 0), 1) }
}
