import Foundation
import StylizeIO
import StylizeONNX
import StylizeTensor

/// Any painting as the style (Ghiasi, Lee, Kudlur, Dumoulin & Shlens 2017, "Exploring the
/// structure of a real-time, arbitrary neural artistic stylization network"): a predictor turns
/// the painting into a style vector, and a transformer network stylizes the photo with it.
/// The files are `arbitrary_predict.onnx` (256×256 NHWC → 100 numbers) and
/// `arbitrary_transform.onnx` (NHWC photo + vector → NHWC picture), int8 graphs converted from
/// TensorFlow Lite.
///
/// The photo is stylized at its own resolution, not at 384 px and upscaled as in the TensorFlow
/// Lite demo: the transformer is fully convolutional, so although the file declares a 384×384
/// input it runs on the whole photo at once (`ONNXModel`'s `anyPictureSize`), as onnxruntime
/// does with the input's dimensions made symbolic. Its instance norms then see the whole
/// picture's statistics: tiles of 384² blended without seams (`Tiling`, which this did before)
/// normalised each tile on its own, a mean difference of 0.093 at 1024 px with local shifts of
/// tone between tiles, and ran 2–3× slower.
public final class ArbitraryStyleNetwork: Sendable {
    /// The side of the square the predictor looks at.
    public static let styleSide = 256

    private let predictor: ONNXModel
    private let predictorPath: String, predictorInput: String, predictorOutput: String
    private let runner: PictureRunner
    private let vectorInput: String
    /// How the transformer covers a photo: nil, the whole picture at once (its height and width
    /// are free, see the type's notes).
    public var tiling: Tiling? { runner.tiling }
    /// The style vector's shape, as the transformer takes it.
    public let vectorShape: [Int]

    /// Reads the predictor and the transformer.
    ///
    /// - Throws: `.model` when a file cannot be read as ONNX, `.incompatibleModel` when their
    ///   inputs and outputs do not fit together.
    public init(predictorPath: String, transformerPath: String) throws(FastStyleError) {
        predictor = try loadNetwork(predictorPath)
        self.predictorPath = predictorPath
        guard predictor.inputs.count == 1, let input = predictor.inputs.first, PixelLayout(shape: input.shape) == .nhwc,
              predictor.outputs.count == 1, let output = predictor.outputs.first else {
            throw .incompatibleModel(file: predictorPath, reason: "a style predictor takes one NHWC picture and gives one vector")
        }
        predictorInput = input.name
        predictorOutput = output.name
        let transformer = try loadNetwork(transformerPath, anyPictureSize: true)
        guard transformer.inputs.count == 2,
              let picture = transformer.inputs.first(where: { PixelLayout(shape: $0.shape) != nil }),
              let vector = transformer.inputs.first(where: { $0.name != picture.name }) else {
            throw .incompatibleModel(file: transformerPath, reason: "a style transformer takes a picture and a style vector")
        }
        let shape = vector.shape.map { $0 ?? 1 }
        guard output.shape.map({ $0 ?? 1 }).reduce(1, *) == shape.reduce(1, *) else {
            throw .incompatibleModel(file: transformerPath, reason: "its style vector \(PictureRunner.describe(vector.shape)) does not match the predictor's \(PictureRunner.describe(output.shape))")
        }
        vectorShape = shape
        vectorInput = vector.name
        runner = try PictureRunner(model: transformer, path: transformerPath, input: picture)
    }

    /// The networks from the models cache (`ModelsCache`).
    public static func cached(environment: [String: String] = ProcessInfo.processInfo.environment) throws(FastStyleError) -> ArbitraryStyleNetwork {
        try ArbitraryStyleNetwork(predictorPath: cachedPath(of: .arbitraryPredict, environment: environment),
                                  transformerPath: cachedPath(of: .arbitraryTransform, environment: environment))
    }

    /// The style vector of `painting`: its largest centred square at 256×256, through the
    /// predictor.
    public func styleVector(of painting: Image) throws(FastStyleError) -> Tensor {
        let square = painting.centreSquare(side: Self.styleSide)
        let vector = try run(predictor, [predictorInput: square.nhwc], output: predictorOutput, path: predictorPath)
        guard vector.count == vectorShape.reduce(1, *) else {
            throw .incompatibleModel(file: predictorPath, reason: "its style vector has \(vector.count) numbers, the transformer takes \(vectorShape.reduce(1, *))")
        }
        return vector.reshaped(vectorShape)
    }

    /// `photo` stylized with `styleVector` (from `styleVector(of:)`, or a mix of several), at
    /// the photo's size.
    public func stylize(_ photo: Image, styleVector: Tensor) throws(FastStyleError) -> Image {
        guard styleVector.count == vectorShape.reduce(1, *) else {
            throw .invalidOption("a style vector needs \(vectorShape.reduce(1, *)) numbers, got \(styleVector.count)")
        }
        return try runner(photo, extra: [vectorInput: styleVector.reshaped(vectorShape)])
    }

    /// `photo` in the style of `painting`.
    public func stylize(_ photo: Image, like painting: Image) throws(FastStyleError) -> Image {
        try stylize(photo, styleVector: styleVector(of: painting))
    }
}
