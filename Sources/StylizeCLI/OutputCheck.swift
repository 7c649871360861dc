import ArgumentParser
import Foundation

/// Checks made on an output path before any work starts, so that no user waits minutes for an
/// error the first write would have given, and no input is ever overwritten.
enum OutputCheck {
    /// The output location cannot take the picture (read-only, no permission, disk full).
    struct Unwritable: Error, CustomStringConvertible {
        let output: String
        let reason: String
        var description: String { "\(output): cannot write there: \(reason)" }
    }

    /// Refuses an output that is one of the inputs (same file after resolving links).
    static func refuseOverwriting(_ output: String, inputs: [String]) throws {
        let target = canonicalPath(output)
        if let input = inputs.first(where: { canonicalPath($0) == target }) {
            throw ValidationError("\(output): the output would overwrite the input \(input); choose another name")
        }
    }

    /// Creates and removes a probe file beside `output` (which proves the folder is writable, on
    /// a writable file system, by this user) and checks that the file system has room for a
    /// picture of `pixels` pixels (3 bytes each uncompressed, plus 1 MiB).
    static func checkWritable(_ output: String, pixels: Int) throws {
        let folder = (output as NSString).deletingLastPathComponent
        let dir = folder.isEmpty ? "." : folder
        let probe = dir + "/.stylize-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Unwritable(output: output, reason: String(cString: strerror(errno))) }
        close(fd)
        unlink(probe)
        var fs = statvfs()
        if statvfs(dir, &fs) == 0 {
            let free = Int(fs.f_bavail) &* Int(fs.f_frsize)
            // Pictures beyond 100 megapixels fail the memory check anyway; no need to ask for more.
            let needed = 3 * min(pixels, 100_000_000) + (1 << 20)
            if free < needed {
                throw Unwritable(output: output, reason: "only \(free >> 10) KiB free on its file system, a picture needs up to \(needed >> 10) KiB")
            }
        }
    }

    static func canonicalPath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
