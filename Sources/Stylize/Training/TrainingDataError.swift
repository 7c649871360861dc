/// Why the training photos could not be listed or decoded. Every case's `description` is one line
/// naming the folder, ready for the command-line tool to print as is.
public enum TrainingDataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The folder does not exist.
    case folderNotFound(folder: String)
    /// The path exists but is a file (or something else), not a folder.
    case notAFolder(folder: String)
    /// The folder exists but could not be listed (permissions, an I/O error).
    case unreadable(folder: String, reason: String)
    /// The folder (and its subfolders) holds no file named `.jpg`, `.jpeg` or `.png`.
    case noPictures(folder: String)
    /// Every picture in the folder failed to decode, so no batch can be made.
    case noDecodablePictures(folder: String, count: Int)

    public var description: String {
        switch self {
        case let .folderNotFound(folder):
            "\(folder): no such folder"
        case let .notAFolder(folder):
            "\(folder): not a folder"
        case let .unreadable(folder, reason):
            "\(folder): cannot list the folder: \(reason)"
        case let .noPictures(folder):
            "\(folder): no training pictures (files named .jpg, .jpeg or .png, subfolders included)"
        case let .noDecodablePictures(folder, count):
            "\(folder): none of the \(count) pictures could be decoded"
        }
    }
}
