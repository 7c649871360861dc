#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `bytes` to `path` so that readers see either the old file or the complete new one, never
/// a half-written file, and so that a failure leaves nothing behind.
///
/// The bytes go to a temporary file in the same folder (a rename is only atomic within one file
/// system), which is flushed to disk with `fsync` and then renamed over `path`; the folder is
/// synced afterwards so the rename itself survives a crash. On any error the temporary file is
/// removed. Usable for any output, not only pictures.
///
/// - Throws: `ImageError.writeFailed` naming `path` and the system's reason.
public func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImageError) {
    let (folder, base) = splitPath(path)
    guard !base.isEmpty else { throw .writeFailed(path: path, reason: "not a file name") }

    // A random name with O_EXCL rather than mkstemp: mkstemp creates the file 0600, whereas
    // mode 0666 through open lets the umask decide, like any other file the user creates.
    var temporary = ""
    var fd: Int32 = -1
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<16 {
        let suffix = String(generator.next() as UInt64, radix: 36)
        // Keep the name under NAME_MAX (255) however long the target's name is.
        temporary = folder + "/." + String(base.prefix(200)) + ".tmp-" + suffix
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        if fd >= 0 || errno != EEXIST { break }
    }
    guard fd >= 0 else {
        throw .writeFailed(path: path, reason: systemError(errno))
    }

    var failure: String?
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                failure = systemError(errno)
                return
            }
            offset += n
        }
    }
    if failure == nil, fsync(fd) != 0 { failure = systemError(errno) }
    // close can report a delayed write error (e.g. on NFS), so its result counts too.
    if close(fd) != 0, failure == nil { failure = systemError(errno) }
    if failure == nil, rename(temporary, path) != 0 { failure = systemError(errno) }
    if let failure {
        unlink(temporary)
        throw .writeFailed(path: path, reason: failure)
    }

    // Best effort: without syncing the folder, a crash could forget the rename. A failure here
    // is not reported because the file itself is complete and in place.
    let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folderFD >= 0 {
        _ = fsync(folderFD)
        close(folderFD)
    }
}

/// ("dir", "name") for "dir/name"; "." for a bare name; "/" for a file in the root folder.
private func splitPath(_ path: String) -> (folder: String, base: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let folder = String(path[..<slash])
    return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
}

/// The C library's text for an errno value, e.g. "No such file or directory".
func systemError(_ code: Int32) -> String {
    String(cString: strerror(code))
}
