import StylizeTensor
import StylizeNN
import StylizeIO
import StylizeModels

/// Texture synthesis (Gatys, Ecker & Bethge 2015, "Texture synthesis using convolutional neural
/// networks"): the style loss alone, from noise, at any size. Uses the style, TV, optimiser,
/// iteration, seed and save-every settings of `StyleTransferOptions`; the content ones are ignored.
public struct TextureSynthesis {
    public let options: StyleTransferOptions
    public let preprocessing: Preprocessing
    let network: VGG19

    public init(weights: VGG19Weights, options: StyleTransferOptions) throws(StylizeError) {
        var options = options
        options.contentWeight = 0
        options.contentLayers = []
        try options.validate()
        guard options.styleWeight > 0 else { throw .invalidOption("texture synthesis needs a style weight > 0") }
        self.options = options
        preprocessing = weights.preprocessing
        network = try options.network(weights: weights)
    }

    /// A `width`×`height` texture after `styles` (blended by `options.styleBlendWeights`), each
    /// resized to `imageSize × styleScale` on its longer side. Callbacks as in `StyleTransfer.run`.
    public func run(styles: [Image], width: Int, height: Int,
                    progress: ((StyleTransfer.Progress) -> Void)? = nil,
                    snapshot: ((_ iteration: Int, _ image: Image) -> Void)? = nil,
                    shouldCancel: (() -> Bool)? = nil) throws(StylizeError) -> Image {
        let start = ContinuousClock.now
        guard !styles.isEmpty else { throw .invalidOption("no style image given") }
        guard width >= 16 && height >= 16 else { throw .invalidOption("texture size must be at least 16×16, got \(width)×\(height)") }
        guard width <= 1 << 20 && height <= 1 << 20 else {
            throw .invalidOption("texture sides must be at most \(1 << 20) pixels, got \(width)×\(height)")
        }
        if !options.styleBlendWeights.isEmpty && options.styleBlendWeights.count != styles.count {
            throw .invalidOption("\(options.styleBlendWeights.count) style blend weights for \(styles.count) style images")
        }
        let styleSide = options.styleSide(forLongerSide: options.imageSize)
        let (sw, sh) = styles.map { scaledDimensions(width: $0.width, height: $0.height, longerSide: styleSide) }
            .max { $0.width * $0.height < $1.width * $1.height }!
        try options.checkMemory(width: width, height: height, styleWidth: sw, styleHeight: sh,
                                pictureSize: "the texture's longer side", styleSize: "the style images' longer side (image size × style scale)")
        try options.checkStyleLossesFit(width: width, height: height, styleSizes: styles.map {
            scaledDimensions(width: $0.width, height: $0.height, longerSide: styleSide)
        })
        let objective = Objective(network: network, options: options)
        let x = preprocessing.networkInput(noiseImage(width: width, height: height, seed: options.seed))
        try objective.setStyles(styles.map { preprocessing.networkInput($0.resized(longerSide: styleSide)) },
                                blendWeights: options.styleBlendWeights, calibration: x)
        let finish = { (x: Tensor) in preprocessing.image(fromNetworkInput: x) }
        return finish(try optimize(objective, from: x, options: options, pixelStep: preprocessing.pixelStep,
                                   start: start, finish: finish,
                                   progress: progress, snapshot: snapshot, shouldCancel: shouldCancel).x)
    }
}
