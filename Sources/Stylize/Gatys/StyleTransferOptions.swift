import StylizeNN
import StylizeIO
import StylizeModels

/// A layer of VGG-19 with the weight its loss term gets: the layer's term is multiplied by it.
public struct LayerWeight: Sendable, Hashable, Codable {
    public var layer: String
    public var weight: Float
    public init(_ layer: String, weight: Float = 1) { self.layer = layer; self.weight = weight }
}

/// Everything one Gatys run needs besides its images. Defaults follow jcjohnson/neural-style's,
/// whose loss normalisation this project shares, so its users' weights carry over unchanged.
public struct StyleTransferOptions: Sendable {
    public enum Initialization: Sendable, Hashable {
        case content
        /// Gaussian noise from `seed`.
        case noise
        /// An RGB image in [0, 1], resized to the output size.
        case image(path: String)
    }
    public enum Optimizer: String, Sendable, CaseIterable { case lbfgs, adam }
    public enum Pooling: String, Sendable, CaseIterable { case max, avg }

    /// Longer side of the output in pixels.
    public var imageSize: Int = 512
    /// Evaluations of the objective (each one VGG-19 forward and backward pass): the most a run
    /// does; it stops sooner when the objective stops improving (`tolerance`).
    public var iterations: Int = 500
    /// Early stop (`EarlyStop`): each scale ends once its objective's lowest value has fallen by at
    /// most this fraction over the last `toleranceWindow` iterations. 0 runs every iteration.
    /// The default is small enough that the default schedule runs its iterations (README,
    /// "The default run at 512 px"); it stops runs given far more iterations than they use.
    public var tolerance: Double = 1e-3
    /// The iterations over which `tolerance` compares the objective.
    public var toleranceWindow: Int = 20
    /// The content loss's weight; coarse to fine uses it at the coarsest scale and, unless
    /// `scaleContentWeights` says otherwise, two (up to 512 px) or five times it at the finer
    /// ones.
    public var contentWeight: Float = 5
    public var styleWeight: Float = 100
    public var tvWeight: Float = 1e-3
    public var contentLayers: [LayerWeight] = [LayerWeight("relu4_2")]
    public var styleLayers: [LayerWeight] = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"].map { LayerWeight($0) }
    /// The style losses and their weights (`StyleLossTerm.parse` reads "gram:1,histogram:0.5");
    /// Gatys et al.'s Gram loss alone by default. Each is normalised to the Gram loss's scale
    /// (`Objective.setStyles`), so `styleWeight` needs no change when the loss does.
    public var styleLosses: [StyleLossTerm] = [.gram]
    /// Histogram bins, MRF patch size and stride, W2's ridge.
    public var styleLossSettings = StyleLossSettings()
    /// One weight per style image; normalised to sum to 1. Empty means equal weights.
    public var styleBlendWeights: [Float] = []
    /// Style images are resized to `styleScale × imageSize` on their longer side.
    public var styleScale: Float = 1
    public var initialization: Initialization = .content
    public var optimizer: Optimizer = .lbfgs
    /// Adam's step size (in 0–255 pixel units, as neural-style's).
    public var learningRate: Float = 10
    /// L-BFGS's memory: how many (step, gradient change) pairs it keeps. Each pair holds two
    /// vectors the size of the image (2 × 3 × H × W floats), so at 512×384 one pair is 4.7 MB and
    /// the default 50 pairs about 236 MB (torch's and neural-style's 100 would double that).
    public var lbfgsHistorySize: Int = 50
    public var pooling: Pooling = .max
    /// The network's arithmetic: float32 (the default: exact, repeatable) or bfloat16 (about
    /// twice as fast on CPUs with AVX512_BF16; `Precision.automatic` picks it where native).
    public var precision: Precision = .fp32
    /// Keep the content's colours: the result's luminance with the content's chrominance
    /// (neural-style's `-original_colors`, in YUV).
    public var originalColors: Bool = false
    /// Run the transfer on luminance only, the style's luminance first matched to the content's
    /// mean and spread, then put the content's colours back (Gatys et al. 2016, "Preserving
    /// color"); implies `originalColors`.
    public var luminanceOnly: Bool = false
    public var seed: UInt64 = 0
    /// Save an intermediate picture every N iterations (0: never). With several scales the
    /// iterations are counted across all of them.
    public var saveEvery: Int = 0
    /// Coarse-to-fine: the longer sides, in pixels, to optimise at in turn, ascending, the last
    /// equal to `imageSize`; each scale starts from the previous one's result upsampled. Empty
    /// means automatic (`automaticScales`: one scale below 512 pixels, 512 → 256, 512;
    /// 1024 → 256, 512, 1024); `[imageSize]` forces a single scale.
    public var scales: [Int] = []
    /// Iterations at each scale, one count per scale. Empty means automatic: 0.4 of `iterations`
    /// at the coarsest scale and 0.16 at each finer one (`resolvedScaleIterations`).
    public var scaleIterations: [Int] = []
    /// The content weight at each scale, one per scale. Empty means automatic: `contentWeight` at
    /// the coarsest scale, two (up to 512 px) or five times it at the finer ones
    /// (`resolvedScaleContentWeights`).
    public var scaleContentWeights: [Float] = []

    public init() {}

    /// Checks every option on its own (the number of style images is checked by `run`).
    public func validate() throws(StylizeError) {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws(StylizeError) {
            if !ok { throw StylizeError.invalidOption(message()) }
        }
        func weight(_ w: Float, _ name: String) throws(StylizeError) {
            try check(w.isFinite && w >= 0, "\(name) must be a finite number ≥ 0, got \(w)")
        }
        try check(imageSize >= 16, "image size must be at least 16 pixels, got \(imageSize)")
        // Beyond any memory; memory decides the real limit (`checkMemory`), this keeps the size
        // arithmetic before that check from overflowing.
        try check(imageSize <= 1 << 20, "image size must be at most \(1 << 20) pixels, got \(imageSize)")
        try check(iterations >= 1, "iterations must be at least 1, got \(iterations)")
        try check(tolerance.isFinite && tolerance >= 0, "tolerance must be a finite number ≥ 0, got \(tolerance)")
        try check(toleranceWindow >= 1, "tolerance window must be at least 1 iteration, got \(toleranceWindow)")
        try weight(contentWeight, "content weight")
        try weight(styleWeight, "style weight")
        try weight(tvWeight, "TV weight")
        try check(styleScale.isFinite && styleScale > 0, "style scale must be a finite number > 0, got \(styleScale)")
        try check(learningRate.isFinite && learningRate > 0, "learning rate must be a finite number > 0, got \(learningRate)")
        try check(lbfgsHistorySize >= 1, "L-BFGS history size must be at least 1, got \(lbfgsHistorySize)")
        try check(saveEvery >= 0, "save-every must be ≥ 0, got \(saveEvery)")
        try validateScales()
        try check(!styleLayers.isEmpty || styleWeight == 0, "no style layers given")
        try check(!contentLayers.isEmpty || contentWeight == 0, "no content layers given")
        for (kind, layers) in [("content", contentLayers), ("style", styleLayers)] {
            let names = layers.map(\.layer)
            if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
                throw StylizeError.invalidOption("\(kind) layer \(twice) is given twice (weight a layer with name:weight instead)")
            }
        }
        for (kind, layers) in [("content", contentLayers), ("style", styleLayers)] {
            for l in layers {
                try check(VGG19.layerNames.contains(l.layer),
                          "unknown \(kind) layer '\(l.layer)' (known: \(VGG19.layerNames.joined(separator: ", ")))")
                try weight(l.weight, "\(kind) layer \(l.layer)'s weight")
            }
        }
        for w in styleBlendWeights { try weight(w, "style blend weight") }
        try check(!styleLosses.isEmpty, "no style loss given")
        for term in styleLosses {
            try weight(term.weight, "the \(term.kind) loss's weight")
            for l in term.layers ?? [] {
                try check(VGG19.layerNames.contains(l.layer),
                          "unknown \(term.kind) layer '\(l.layer)' (known: \(VGG19.layerNames.joined(separator: ", ")))")
                try weight(l.weight, "\(term.kind) layer \(l.layer)'s weight")
            }
        }
        try check(styleLosses.contains { $0.weight > 0 } || styleWeight == 0, "every style loss has weight 0")
        try styleLossSettings.validate()
        try check(styleBlendWeights.isEmpty || styleBlendWeights.reduce(0, +) > 0, "style blend weights sum to 0")
    }
}

extension StyleTransferOptions {
    /// VGG-19 with these options' pooling and precision.
    func network(weights: VGG19Weights) throws(StylizeError) -> VGG19 {
        do {
            return try VGG19(convolutions: weights.convolutions, pooling: pooling == .max ? .max : .average,
                             precision: precision)
        } catch {
            throw .network(error)
        }
    }
}
