#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read; each reader wraps it in its own error type, naming the file.
public enum FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound
    /// A folder, a FIFO, a device such as /dev/zero: nothing Stylize reads.
    case notARegularFile(kind: String)
    /// The system refused (permissions, I/O error), with its reason.
    case failed(String)

    public var description: String {
        switch self {
        case .notFound: "no such file"
        case .notARegularFile(let kind): "is \(kind), not a regular file"
        case .failed(let reason): reason
        }
    }
}

/// Reads a whole regular file. The open never blocks (a FIFO would wait for a writer forever) and
/// anything but a regular file is refused by kind before a byte is read.
public func readRegularFile(_ path: String) throws(FileReadError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else {
        let code = errno
        if code == ENOENT || code == ENOTDIR { throw .notFound }
        throw .failed(systemError(code))
    }
    defer { close(fd) }

    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .failed(systemError(errno)) }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw .notARegularFile(kind: "a folder")
    case S_IFIFO: throw .notARegularFile(kind: "a FIFO (named pipe)")
    case S_IFCHR, S_IFBLK: throw .notARegularFile(kind: "a device")
    case S_IFSOCK: throw .notARegularFile(kind: "a socket")
    default: throw .notARegularFile(kind: "a special file")
    }

    // Sized from fstat, plus one byte so that end of file shows without growing the array; read
    // until end of file all the same, in case the file grew in between.
    var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
    var filled = 0
    while true {
        if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: 65536)) }
        let n = bytes.withUnsafeMutableBytes { buffer in
            read(fd, buffer.baseAddress! + filled, buffer.count - filled)
        }
        if n < 0 {
            if errno == EINTR { continue }
            throw .failed(systemError(errno))
        }
        if n == 0 { break }
        filled += n
    }
    bytes.removeSubrange(filled...)
    return bytes
}

/// Reads a whole picture file.
///
/// - Throws: `.fileNotFound` when the path does not exist, `.readFailed` for anything else
///   (permissions, a folder, a FIFO, an I/O error).
func readWholeFile(_ path: String) throws(ImageError) -> [UInt8] {
    do {
        return try readRegularFile(path)
    } catch .notFound {
        throw .fileNotFound(path: path)
    } catch {
        throw .readFailed(path: path, reason: error.description)
    }
}
