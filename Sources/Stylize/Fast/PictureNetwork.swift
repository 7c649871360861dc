import Foundation
import StylizeIO
import StylizeONNX
import StylizeTensor

/// Any ONNX network that maps one RGB picture to another, such as the fast-neural-style networks
/// of Johnson, Alahi & Fei-Fei 2016 exported from PyTorch's examples or the ONNX model zoo. Run at
/// the photo's resolution (padded to a multiple of 4 by reflection and cropped back), or in
/// blended tiles where the file fixes the input size.
public final class PictureNetwork: Sendable {
    private let runner: PictureRunner

    /// Reads the network in `path`.
    ///
    /// - Parameter pixelScale: the network's pixel values run from 0 to this: 255 for Johnson et
    ///   al.'s networks (trained on 0–255 pictures), 1 for networks that take [0, 1].
    /// - Throws: `.model` when the file cannot be read as ONNX, `.incompatibleModel` when it does
    ///   not take and give one RGB picture, or is a texture network (noise in) or a network of
    ///   several styles.
    public init(path: String, pixelScale: Float = 255) throws(FastStyleError) {
        let model = try loadNetwork(path)
        guard model.metadata["input"] != "noise" else {
            throw .incompatibleModel(file: path, reason: "a texture network (noise in, made by `stylize train --texture`); draw it with `stylize texture --model`")
        }
        if let styles = model.metadata["styles"].flatMap(Int.init), styles > 1 {
            throw .incompatibleModel(file: path, reason: "it holds \(styles) styles (made by `stylize train` with several --style); pick with --model and --style, e.g. --style 0 or a blend 0:0.5,1:0.5")
        }
        guard model.inputs.count == 1, let input = model.inputs.first else {
            throw .incompatibleModel(file: path, reason: "it has \(model.inputs.count) inputs (\(model.inputs.map { "'\($0.name)'" }.joined(separator: ", "))); a picture network has one (use --style for a network with style weights)")
        }
        runner = try PictureRunner(model: model, path: path, input: input, scale: pixelScale)
    }

    /// `photo` through the network, at its own size.
    public func stylize(_ photo: Image) throws(FastStyleError) -> Image {
        try runner(photo)
    }
}
