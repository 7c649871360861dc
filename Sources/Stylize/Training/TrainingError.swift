import StylizeNN
import StylizeIO
import StylizeONNX

/// What can stop a training run, each with a one-line message.
public enum TrainingError: Error, Sendable, CustomStringConvertible {
    case invalidOption(String)
    /// The loss network or the generator refused (a kernel missing on this CPU, a picture too small).
    case network(NNError)
    /// A checkpoint that cannot be read or does not fit this run.
    case checkpoint(path: String, reason: String)
    /// The loss became NaN or infinite.
    case diverged(step: Int)
    /// The trained network could not be written as ONNX.
    case export(ExportError)

    public var description: String {
        switch self {
        case .invalidOption(let m): "invalid option: \(m)"
        case .network(let e): "network: \(e)"
        case let .checkpoint(path, reason): "\(path): \(reason)"
        case .diverged(let step): "the loss became NaN or infinite at step \(step); lower the learning rate or the style weight"
        case .export(let e): "ONNX export: \(e)"
        }
    }
}
