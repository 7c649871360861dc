import StylizeTensor

/// Errors building or running a network.
public enum NNError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownLayer(String)
    case wrongWeightShape(layer: String, expected: [Int], got: [Int])
    case wrongLayerCount(expected: Int, got: Int)
    case wrongInputShape([Int])
    case imageTooSmall(height: Int, width: Int, layer: String, minimum: Int)
    /// The requested arithmetic has no kernels on this CPU (bf16 without AVX-512).
    case precisionUnavailable(Precision, cpu: String)
    /// oneDNN could not build one of the network's kernels.
    case kernelUnavailable(DNNLError)
    /// A network's saved parameters lack one it needs.
    case missingParameter(String)

    public var description: String {
        switch self {
        case .unknownLayer(let name):
            return "unknown layer '\(name)' (VGG-19 has relu1_1 … relu5_4; see `stylize layers`)"
        case .wrongWeightShape(let layer, let expected, let got):
            return "weights for \(layer) have shape \(got), VGG-19 needs \(expected)"
        case .wrongLayerCount(let expected, let got):
            return "VGG-19 has \(expected) convolutions, the weights have \(got)"
        case .wrongInputShape(let shape):
            return "network input must be [N, 3, H, W], got \(shape)"
        case .imageTooSmall(let h, let w, let layer, let minimum):
            return "a \(w)×\(h) image is too small to reach \(layer): both sides must be at least \(minimum) px"
        case .precisionUnavailable(let precision, let cpu):
            return "\(precision.rawValue) needs AVX512_BF16 or AMX (or AVX-512 to emulate it); this CPU has \(cpu): use fp32"
        case .kernelUnavailable(let error):
            return "\(error)"
        case .missingParameter(let name):
            return "the parameters have no '\(name)'"
        }
    }
}
