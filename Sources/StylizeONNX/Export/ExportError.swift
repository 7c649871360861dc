/// Why a network could not be written as ONNX, each with a one-line message that names the
/// parameter concerned.
public enum ExportError: Error, CustomStringConvertible, Equatable {
    /// The architecture's numbers make no network (`TransformerNetArchitecture.problem`).
    case invalidArchitecture(String)
    /// A parameter the architecture needs is not among those given.
    case missingParameter(String)
    /// A parameter has another shape than the architecture gives it.
    case wrongShape(parameter: String, expected: [Int], actual: [Int])
    /// A parameter the architecture does not have: most likely one for another architecture
    /// (more residual blocks, other names), which an export must not silently drop.
    case unexpectedParameter(String)
    /// A parameter holds NaN or ±∞ (diverged training); the file would compute nothing useful.
    case nonFiniteParameter(String)
    /// The protobuf encoder refused the model.
    case serialization(String)

    public var description: String {
        switch self {
        case let .invalidArchitecture(why):
            return "cannot export this network: \(why)"
        case let .missingParameter(name):
            return "cannot export the network: parameter '\(name)' is missing"
        case let .wrongShape(name, expected, actual):
            return "cannot export the network: parameter '\(name)' has shape \(actual), the architecture expects \(expected)"
        case let .unexpectedParameter(name):
            return "cannot export the network: parameter '\(name)' is not part of the architecture"
        case let .nonFiniteParameter(name):
            return "cannot export the network: parameter '\(name)' holds NaN or infinite values"
        case let .serialization(why):
            return "cannot export the network: \(why)"
        }
    }
}
