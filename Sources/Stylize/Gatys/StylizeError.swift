import StylizeNN
import StylizeIO

/// What can go wrong in a style transfer or texture synthesis run, each with a one-line message.
public enum StylizeError: Error, Sendable, CustomStringConvertible {
    /// An option out of range, an unknown layer name, a blend weight count that does not match.
    case invalidOption(String)
    /// An image the run had to read itself (the `.image(path:)` initialisation).
    case image(ImageError)
    /// The network refused its input or a layer (for instance an image too small for relu5_1).
    case network(NNError)
    /// The objective became NaN or infinite (weights or learning rate far too large).
    case diverged(iteration: Int)
    /// The caller's cancellation check said stop; `partial` is the result so far.
    case cancelled(iteration: Int, partial: Image)

    public var description: String {
        switch self {
        case .invalidOption(let m): return "invalid option: \(m)"
        case .network(let e): return "network: \(e)"
        case .image(let e): return "\(e)"
        case .diverged(let i): return "the loss became NaN or infinite at iteration \(i); lower the weights or the learning rate"
        case .cancelled(let i, _): return "cancelled after iteration \(i)"
        }
    }
}
