import Glibc

/// How VGG-19's 3×3 convolutions are computed in float32 (bf16 is always oneDNN's direct kernel).
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable {
    /// oneDNN's direct convolution for every layer.
    case direct
    /// Winograd F(2×2, 3×3) (`WinogradConv3x3`) for the layers with at least `winogradChannels`
    /// channels in and out, where its transforms cost less than the multiplications it saves;
    /// oneDNN's direct convolution for the rest.
    case winograd

    /// The narrowest layer that takes the Winograd path.
    public static let winogradChannels = 128

    /// `winograd`, unless the environment variable STYLIZE_CONVOLUTION says `direct` (for
    /// comparisons).
    public static var automatic: ConvolutionAlgorithm {
        guard let value = getenv("STYLIZE_CONVOLUTION") else { return .winograd }
        return ConvolutionAlgorithm(rawValue: String(cString: value)) ?? .winograd
    }
}
