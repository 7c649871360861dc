import Foundation
import StylizeIO
import StylizeONNX
import StylizeTensor

/// The smallest side a feed-forward network is given: the 26-style and arbitrary networks
/// downsample by 4 and pad by reflection inside, which needs a few pixels to reflect.
public let fastStyleMinimumSide = 32

/// Reads an ONNX file, with errors that name it (`anyPictureSize` as for `ONNXModel`).
func loadNetwork(_ path: String, anyPictureSize: Bool = false) throws(FastStyleError) -> ONNXModel {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw .model(file: path, .io(path: path, "no such file"))
    }
    guard !isDirectory.boolValue else { throw .model(file: path, .io(path: path, "is a folder, not an ONNX file")) }
    do {
        return try ONNXModel(contentsOf: URL(fileURLWithPath: path), anyPictureSize: anyPictureSize)
    } catch {
        throw .model(file: path, error)
    }
}

/// Runs `model` and returns the output named `output`, with errors that name `path`.
func run(_ model: ONNXModel, _ feeds: [String: Tensor], output: String, path: String) throws(FastStyleError) -> Tensor {
    let results: [String: Tensor]
    do {
        results = try model.run(feeds)
    } catch {
        throw .model(file: path, error)
    }
    guard let result = results[output] else {
        throw .incompatibleModel(file: path, reason: "it produced no output '\(output)'")
    }
    return result
}

/// The path of a cached network, or `.modelNotFound`.
func cachedPath(of model: ModelsCache.Model, environment: [String: String]) throws(FastStyleError) -> String {
    do {
        return try ModelsCache.existingPath(of: model, environment: environment)
    } catch {
        throw .modelNotFound(error)
    }
}

func checkSize(_ image: Image) throws(FastStyleError) {
    guard min(image.width, image.height) >= fastStyleMinimumSide else {
        throw .tooSmall(width: image.width, height: image.height, minimum: fastStyleMinimumSide)
    }
}

/// Where a network's picture input keeps its channels.
enum PixelLayout: Sendable {
    /// [1, 3, H, W], PyTorch's layout.
    case nchw
    /// [1, H, W, 3], TensorFlow's.
    case nhwc

    /// The layout of an input or output declared with `shape`, or nil when it is no RGB picture.
    init?(shape: [Int?]) {
        guard shape.count == 4 else { return nil }
        if shape[1] == 3 { self = .nchw } else if shape[3] == 3 { self = .nhwc } else { return nil }
    }

    func tensor(_ image: Image) -> Tensor { self == .nchw ? image.pixels : image.nhwc }

    func image(_ tensor: Tensor) -> Image? {
        guard tensor.shape.count == 4, tensor.shape[0] == 1 else { return nil }
        switch self {
        case .nchw: return tensor.shape[1] == 3 ? Image(pixels: tensor) : nil
        case .nhwc: return tensor.shape[3] == 3 ? Image(nhwc: tensor) : nil
        }
    }

    /// The fixed height and width the input declares, or nil where they are symbolic.
    func fixedSize(_ shape: [Int?]) -> (width: Int, height: Int)? {
        let (h, w) = self == .nchw ? (shape[2], shape[3]) : (shape[1], shape[2])
        guard let h, let w else { return nil }
        return (w, h)
    }
}

/// A network from picture to picture (and, for conditional ones, extra inputs), run at the
/// picture's own resolution: padded by reflection to a multiple of 4 (these networks downsample
/// twice by 2) and cropped back, or, where the file fixes the input size, in blended tiles.
struct PictureRunner: Sendable {
    let model: ONNXModel
    let path: String
    let input: String, output: String
    let layout: PixelLayout, outputLayout: PixelLayout
    /// Tiles when the network fixes its input size.
    let tiling: Tiling?
    /// Pixel values the network works in are [0, scale] (1, or 255 for Johnson et al.'s exports).
    let scale: Float

    init(model: ONNXModel, path: String, input: ONNXModel.ValueInfo, scale: Float = 1) throws(FastStyleError) {
        guard let layout = PixelLayout(shape: input.shape) else {
            throw .incompatibleModel(file: path, reason: "its input '\(input.name)' \(Self.describe(input.shape)) is not an RGB picture [1, 3, H, W] or [1, H, W, 3]")
        }
        guard model.outputs.count == 1, let output = model.outputs.first else {
            throw .incompatibleModel(file: path, reason: "it has \(model.outputs.count) outputs, not one picture")
        }
        guard let outputLayout = PixelLayout(shape: output.shape) ?? (output.shape.isEmpty ? layout : nil) else {
            throw .incompatibleModel(file: path, reason: "its output '\(output.name)' \(Self.describe(output.shape)) is not an RGB picture")
        }
        self.model = model
        self.path = path
        self.input = input.name
        self.output = output.name
        self.layout = layout
        self.outputLayout = outputLayout
        self.scale = scale
        if let size = layout.fixedSize(input.shape) {
            guard size.width >= 64, size.height >= 64 else {
                throw .incompatibleModel(file: path, reason: "its input is fixed at \(size.width)×\(size.height), too small to tile")
            }
            // A sixth of the tile: wider overlaps cost more tiles (12 instead of 6 at 1024×683) and
            // brought the result no closer to the whole graph run at once (onnxruntime, mean
            // difference 0.095 against 0.093), whose gap is the per-tile normalization, not seams.
            tiling = Tiling(tileWidth: size.width, tileHeight: size.height, overlap: min(size.width, size.height) / 6)
        } else {
            tiling = nil
        }
    }

    static func describe(_ shape: [Int?]) -> String {
        "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }

    /// The network applied to `image` with `extra` feeds; the result has `image`'s size.
    func callAsFunction(_ image: Image, extra: [String: Tensor] = [:]) throws(FastStyleError) -> Image {
        try checkSize(image)
        if let tiling { return try tiling.apply(to: image) { (tile: Image) throws(FastStyleError) in try once(tile, extra: extra) } }
        let padded = image.reflectPadded(toMultipleOf: 4)
        let out = try once(padded, extra: extra)
        guard out.width >= image.width, out.height >= image.height else {
            throw .incompatibleModel(file: path, reason: "it turned a \(padded.width)×\(padded.height) picture into \(out.width)×\(out.height)")
        }
        return out.cropped(x: 0, y: 0, width: image.width, height: image.height)
    }

    private func once(_ image: Image, extra: [String: Tensor]) throws(FastStyleError) -> Image {
        var x = layout.tensor(image)
        if scale != 1 { x.scale(by: scale) }
        var feeds = extra
        feeds[input] = x
        var y = try run(model, feeds, output: output, path: path)
        if scale != 1 { y.scale(by: 1 / scale) }
        let shape = y.shape
        // Consumed, so that the picture owns the only reference and clamps without a copy.
        guard var picture = outputLayout.image(consume y) else {
            throw .incompatibleModel(file: path, reason: "its output has shape \(shape), not an RGB picture")
        }
        picture.clamp()
        return picture
    }
}
