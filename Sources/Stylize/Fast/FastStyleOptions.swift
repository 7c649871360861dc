import StylizeIO

/// What is done around a feed-forward network's result: how much of it to keep, and whether to
/// keep the photo's colours.
public struct FastStyleOptions: Sendable, Equatable {
    /// 1 keeps the stylized picture, 0 the photo; in between mixes the two pixel by pixel.
    public var strength: Float = 1
    /// Keep the photo's colours: the result's luminance with the photo's chrominance (as
    /// `ColorPreservation.originalColors`).
    public var preserveColor = false

    /// Photos above this many pixels are shrunk to it unless the caller picks a size: the
    /// networks' activations cost about 440 bytes per pixel (multistyle26: 1388 MiB at
    /// 2048×1536), so 16 megapixels need about 7 GB and a 48-megapixel camera picture would need
    /// 21 GB.
    public static let fullResolutionPixelLimit = 16_000_000

    public init(strength: Float = 1, preserveColor: Bool = false) {
        self.strength = strength
        self.preserveColor = preserveColor
    }

    /// - Throws: `.invalidOption` when the strength is outside [0, 1].
    public func validate() throws(FastStyleError) {
        guard strength.isFinite, (0...1).contains(strength) else {
            throw .invalidOption("strength must be between 0 and 1, got \(strength)")
        }
    }

    /// `stylized` (the network's output for `photo`, of the same size) with these options applied:
    /// colours first, then the mix, so that strength 0 gives back the photo exactly.
    public func finish(_ stylized: Image, photo: Image) -> Image {
        let coloured = preserveColor ? ColorPreservation.originalColors(result: stylized, content: photo) : stylized
        return coloured.mixed(with: photo, amount: strength)
    }
}
