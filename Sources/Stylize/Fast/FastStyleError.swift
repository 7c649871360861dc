import StylizeIO
import StylizeONNX

/// Why a feed-forward stylization could not run. Every case's `description` is one line meant
/// for end users, naming the file or the option concerned.
public enum FastStyleError: Error, Sendable, CustomStringConvertible {
    /// A style index or blend that the network does not have, or that cannot be read.
    case invalidStyle(String)
    /// An option out of range (strength, size).
    case invalidOption(String)
    /// One of the cached networks is missing (the message says how to fetch it).
    case modelNotFound(ModelsCache.NotFound)
    /// The ONNX file could not be read or run; `file` names it.
    case model(file: String, ONNXError)
    /// The network's inputs and outputs are not the ones this use needs.
    case incompatibleModel(file: String, reason: String)
    /// The picture is smaller than the networks can take.
    case tooSmall(width: Int, height: Int, minimum: Int)
    /// A picture could not be read or written.
    case image(ImageError)

    public var description: String {
        switch self {
        case .invalidStyle(let m), .invalidOption(let m): return m
        case .modelNotFound(let e): return e.description
        case .model(let file, let e):
            // The executor's I/O errors already start with the path.
            if case .io = e { return e.description }
            return "\(file): \(e)"
        case .incompatibleModel(let file, let reason): return "\(file): not a usable style network: \(reason)"
        case .tooSmall(let w, let h, let minimum):
            return "the picture is \(w)×\(h); both sides need at least \(minimum) pixels"
        case .image(let e): return e.description
        }
    }
}
