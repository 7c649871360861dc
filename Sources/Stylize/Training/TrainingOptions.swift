import StylizeNN
import StylizeTensor
import StylizeModels

/// Everything a training run of a feed-forward style network needs besides its pictures. The
/// names follow PyTorch's examples/fast_neural_style and jcjohnson/fast-neural-style; the losses
/// are Stylize's Gatys terms (`Losses`), applied to each image of a batch.
public struct TrainingOptions: Sendable, Equatable, Codable {
    public var architecture: TransformerNetArchitecture = .standard
    public var contentWeight: Float = 1
    public var styleWeight: Float = 0.25
    /// One style weight per style of a network of several styles, in the styles' order (a
    /// painting near photos in Gram terms, such as The Scream, needs more than one far from
    /// them); empty: `styleWeight` for every style.
    public var styleWeights: [Float] = []
    public var tvWeight: Float = 1e-5
    public var contentLayers: [String] = ["relu2_2"]
    /// Ending at relu4_1 keeps VGG-19's deepest, most expensive block out of every step.
    public var styleLayers: [String] = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
    /// The style losses (`StyleLossKind`; Gram alone by default), each normalised to the Gram
    /// loss's scale on a calibration picture as in `stylize` (`Objective.setStyles`).
    public var styleLosses: [StyleLossTerm] = [.gram]
    public var styleLossSettings = StyleLossSettings()
    /// Side of the square training crops, in pixels.
    public var cropSize = 256
    /// Each step the loss network sees the batch's pictures (and photos) moved by 0…`jitter` − 1
    /// pixels on each axis (cropped by `jitter` − 1), so that a pattern on the network's fixed
    /// 4-pixel grid (its two stride-2 levels) does not meet VGG-19's pooling grid the same way
    /// every step; 1: not moved.
    public var jitter = 1
    /// Longer side the style pictures are resized to before their Gram matrices are taken.
    public var styleSize = 512
    public var batchSize = 4
    /// The most optimizer steps; the run ends at `steps` or after `minutes`, whichever is first.
    public var steps = 2000
    /// A time budget in minutes for the whole run (resumed runs included); nil: none.
    public var minutes: Double?
    public var learningRate: Float = 1e-3
    public var seed: UInt64 = 0
    /// The convolutions' arithmetic, in the loss network and the network being trained (whose
    /// parameters, norms and optimizer state stay float32).
    public var precision: Precision = .fp32
    public var pooling: Pooling = .max
    /// A texture network (Ulyanov et al. 2016) instead of a style network: the input is noise
    /// (`TextureNoise`), the style picture is the texture, and there is no content loss.
    public var texture = false

    public init() {}

    /// The style weight of style `k` (`styleWeights[k]`, else `styleWeight`).
    public func styleWeight(ofStyle k: Int) -> Float { styleWeights.isEmpty ? styleWeight : styleWeights[k] }

    /// Checks ranges and layer names before any work starts.
    public func validate() throws(TrainingError) {
        func check(_ ok: Bool, _ message: String) throws(TrainingError) { if !ok { throw .invalidOption(message) } }
        for (name, w) in [("content weight", contentWeight), ("style weight", styleWeight), ("TV weight", tvWeight)] {
            try check(w.isFinite && w >= 0, "\(name) must be a finite number ≥ 0, got \(w)")
        }
        try check(styleWeights.isEmpty || styleWeights.count == architecture.styles,
                  "\(styleWeights.count) style weights for \(architecture.styles) styles (give one for all, or one per style)")
        for w in styleWeights { try check(w.isFinite && w >= 0, "style weight must be a finite number ≥ 0, got \(w)") }
        try check(learningRate.isFinite && learningRate > 0, "learning rate must be a finite number > 0, got \(learningRate)")
        try check(!styleLayers.isEmpty || (styleWeights.max() ?? styleWeight) == 0, "no style layers given")
        try check(!contentLayers.isEmpty || contentWeight == 0, "no content layers given")
        for layer in contentLayers + styleLayers {
            try check(VGG19.layerNames.contains(layer), "unknown layer '\(layer)' (VGG-19 has relu1_1 … relu5_4; see `stylize layers`)")
        }
        for term in styleLosses {
            for layer in term.layers ?? [] {
                try check(VGG19.layerNames.contains(layer.layer), "unknown layer '\(layer.layer)' of the \(term.kind) loss (see `stylize layers`)")
            }
        }
        do throws(StylizeError) {
            try styleLossSettings.validate()
            try checkStyleLossesFit(width: cropSize, height: cropSize, styleSizes: [(styleSize, styleSize)])
        } catch {
            guard case .invalidOption(let message) = error else { throw .invalidOption("\(error)") }
            throw .invalidOption(message)
        }
        try check(Set(styleLayers).count == styleLayers.count && Set(contentLayers).count == contentLayers.count, "a layer is listed twice")
        try check((32...4096).contains(cropSize) && cropSize % 4 == 0, "crop size must be a multiple of 4 in 32–4096 px, got \(cropSize)")
        try check((1...16).contains(jitter) && jitter < cropSize / 2, "jitter must be 1–16 pixels (1: none), got \(jitter)")
        try check((32...4096).contains(styleSize), "style size must be in 32–4096 px, got \(styleSize)")
        try check((1...64).contains(batchSize), "batch size must be in 1–64, got \(batchSize)")
        try check(steps >= 1, "steps must be ≥ 1, got \(steps)")
        if let minutes { try check(minutes.isFinite && minutes > 0, "minutes must be > 0, got \(minutes)") }
        let a = architecture
        try check(a.channels.count == 3 && a.channels.allSatisfy { (1...1024).contains($0) },
                  "channels must be three widths in 1–1024, got \(a.channels)")
        try check((0...64).contains(a.residualBlocks), "residual blocks must be in 0–64, got \(a.residualBlocks)")
        try check((1...256).contains(a.styles), "styles must be in 1–256, got \(a.styles)")
        try check(!texture || a.styles == 1, "a texture network learns one texture, not \(a.styles)")
        try check(precision.isAvailable, "--precision \(precision.rawValue): \(NNError.precisionUnavailable(precision, cpu: CPUCapabilities.current.isaName))")
    }
}

extension TrainingOptions {
    /// Refuses MRF patches that do not fit a layer of the crops or of the style picture (at its
    /// `styleSize`; a non-square picture is checked again when it is loaded).
    func checkStyleLossesFit(width: Int, height: Int, styleSizes: [(width: Int, height: Int)]) throws(StylizeError) {
        var gatys = StyleTransferOptions()
        gatys.styleLayers = styleLayers.map { LayerWeight($0) }
        gatys.styleLosses = styleLosses
        gatys.styleLossSettings = styleLossSettings
        try gatys.checkStyleLossesFit(width: width, height: height, styleSizes: styleSizes)
    }
}
