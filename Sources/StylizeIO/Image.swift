import StylizeTensor

/// An RGB picture as the networks see it: planar float32, values in [0, 1].
public struct Image: Sendable {
    /// Pictures above this many pixels are refused rather than decoded (about 100 megapixels),
    /// so that a forged header cannot exhaust memory.
    public static let defaultMaxPixels = 100_000_000

    public var width: Int { pixels.shape[3] }
    public var height: Int { pixels.shape[2] }
    /// Shape [1, 3, height, width]; channels R, G, B; values in [0, 1].
    public var pixels: Tensor

    public init(pixels: Tensor) {
        precondition(pixels.shape.count == 4 && pixels.shape[0] == 1 && pixels.shape[1] == 3,
                     "an image is [1, 3, H, W], got \(pixels.shape)")
        self.pixels = pixels
    }
}
