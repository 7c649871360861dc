/// Everything that can go wrong reading or running an ONNX network, each with a one-line message
/// that names the operator, attribute, node or file concerned.
public enum ONNXError: Error, CustomStringConvertible, Equatable {
    /// The graph uses an operator this executor does not implement.
    case unsupportedOperator(String, node: String)
    /// A supported operator with an attribute (or attribute value) this executor does not implement.
    case unsupportedAttribute(op: String, attribute: String, node: String)
    /// The bytes are not a valid ONNX model, or the graph is inconsistent.
    case malformed(String)
    /// A graph input was not fed, or a node reads a value nothing produces.
    case missingInput(String)
    /// Shapes that do not fit together (a feed, a broadcast, a reshape, a convolution).
    case shapeMismatch(String)
    /// The file could not be read.
    case io(path: String, String)

    public var description: String {
        switch self {
        case let .unsupportedOperator(op, node):
            return "unsupported ONNX operator \(op) (node '\(node)')"
        case let .unsupportedAttribute(op, attribute, node):
            return "unsupported attribute \(attribute) of \(op) (node '\(node)')"
        case let .malformed(why):
            return "malformed ONNX model: \(why)"
        case let .missingInput(name):
            return "missing input '\(name)'"
        case let .shapeMismatch(why):
            return "shape mismatch: \(why)"
        case let .io(path, why):
            return "\(path): \(why)"
        }
    }
}
