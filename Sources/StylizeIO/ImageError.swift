/// The two file formats Stylize reads and writes.
public enum ImageFormat: Sendable, Equatable, Hashable, CustomStringConvertible {
    case png
    case jpeg

    /// The format an output path asks for, from its extension (`.png`, `.jpg`, `.jpeg`, any case);
    /// nil for anything else. Reading never uses this: `ImageIO.load` looks at the bytes.
    public init?(path: String) {
        guard let dot = path.lastIndex(of: "."),
              !path[path.index(after: dot)...].contains("/") else { return nil }
        switch path[path.index(after: dot)...].lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        default: return nil
        }
    }

    /// The format the first bytes announce (PNG signature, JPEG SOI followed by a marker).
    init?<C: Collection<UInt8>>(magic bytes: C) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .png: "PNG"
        case .jpeg: "JPEG"
        }
    }
}

/// Everything that can go wrong reading, decoding, encoding or writing a picture.
///
/// Every case carries the file it is about (the path as the caller gave it, or the `name` passed to
/// `ImageIO.decode`), and `description` is one line of the form `"photo.jpg: truncated JPEG data"`,
/// ready for the command-line tool to print as is.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input file does not exist.
    case fileNotFound(path: String)
    /// The input exists but could not be read (permissions, a directory, an I/O error).
    case readFailed(path: String, reason: String)
    /// The bytes are neither PNG nor JPEG.
    case notAnImage(name: String)
    /// The header declares a zero width or height.
    case emptyImage(name: String)
    /// The header declares more pixels than the caller allows; refused before decoding.
    case tooLarge(name: String, width: Int, height: Int, maxPixels: Int)
    /// The data stops before the picture is complete.
    case truncated(name: String, format: ImageFormat)
    /// The data is damaged or invalid; `reason` is the codec's explanation.
    case corrupt(name: String, format: ImageFormat, reason: String)
    /// A valid file using a feature Stylize does not decode (e.g. 12-bit JPEG).
    case unsupported(name: String, reason: String)
    /// A codec library could not be loaded at run time.
    case codecUnavailable(name: String, reason: String)
    /// An output path whose extension names no format Stylize writes.
    case unknownOutputFormat(path: String)
    /// Encoding failed (bad arguments, or the codec reported an error).
    case encodingFailed(name: String, reason: String)
    /// The output could not be written; no partial file was left behind.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            "\(path): no such file"
        case let .readFailed(path, reason):
            "\(path): cannot read: \(reason)"
        case let .notAnImage(name):
            "\(name): not a PNG or JPEG image"
        case let .emptyImage(name):
            "\(name): image has zero width or height"
        case let .tooLarge(name, width, height, maxPixels):
            "\(name): image is \(width)x\(height) pixels, more than the limit of \(maxPixels) pixels"
        case let .truncated(name, format):
            "\(name): truncated \(format) data"
        case let .corrupt(name, format, reason):
            "\(name): corrupt \(format) data: \(reason)"
        case let .unsupported(name, reason):
            "\(name): unsupported image: \(reason)"
        case let .codecUnavailable(name, reason):
            "\(name): \(reason)"
        case let .unknownOutputFormat(path):
            "\(path): unknown image format; use a .png, .jpg or .jpeg extension"
        case let .encodingFailed(name, reason):
            "\(name): cannot encode image: \(reason)"
        case let .writeFailed(path, reason):
            "\(path): cannot write: \(reason)"
        }
    }
}
