import StylizeTensor
import StylizeNN

/// What a style loss keeps of the style images at one layer (their Gram matrix, their channels'
/// means and spreads, …), built once per run, and the loss of a picture's features against it.
public protocol StyleTarget: AnyObject {
    /// The loss of `features` ([1, C, H, W], the layer's activation in the plain layout VGG-19's
    /// plan hands out) against this target; replaces `features` by the loss's gradient, so no
    /// second activation-sized buffer is needed.
    func loss(replacing features: inout Tensor) throws(NNError) -> Double
}

/// The style statistics Stylize can match, each in its own file.
public enum StyleLossKind: String, Sendable, CaseIterable, CustomStringConvertible, Codable {
    /// Gatys et al.'s Gram matrices (`GramStyleTarget`).
    case gram
    /// Each channel's mean and standard deviation (Huang & Belongie 2017; `MeanStdStyleTarget`).
    case meanStd = "mean-std"
    /// The Wasserstein-2 distance between Gaussians with the features' mean and covariance
    /// (`WassersteinStyleTarget`).
    case w2
    /// Each channel's histogram (Risser et al. 2017; `HistogramStyleTarget`).
    case histogram
    /// Nearest-neighbour feature patches (Li & Wand 2016, CNNMRF; `MRFStyleTarget`).
    case mrf

    public var description: String { rawValue }

    /// The fraction of the Gram loss's value this loss is normalised to on the calibration
    /// picture (`Objective.setStyles`). 1 for all but MRF: its pull towards copied patches does
    /// not fade as the statistics match, and at 1 it wipes out the content (the README's
    /// gallery); 1/20 gives a picture like Gram's in strength.
    public var calibrationShare: Double { self == .mrf ? 0.05 : 1 }

    /// The layers this loss uses when none are given: CNNMRF's relu3_1 and relu4_1 for `mrf`,
    /// the run's style layers (nil) for the others.
    public var defaultLayers: [LayerWeight]? {
        self == .mrf ? [LayerWeight("relu3_1"), LayerWeight("relu4_1")] : nil
    }
}

/// One style loss in a run, with its weight and (optionally) its own layers.
public struct StyleLossTerm: Sendable, Hashable, Codable {
    public var kind: StyleLossKind
    /// Multiplies this loss's (normalised) value in the style term.
    public var weight: Float
    /// The layers and their weights; nil uses the kind's `defaultLayers`, else the run's style layers.
    public var layers: [LayerWeight]?

    public init(_ kind: StyleLossKind, weight: Float = 1, layers: [LayerWeight]? = nil) {
        self.kind = kind
        self.weight = weight
        self.layers = layers ?? kind.defaultLayers
    }

    /// The Gram loss alone: Gatys et al.'s objective.
    public static let gram = StyleLossTerm(.gram)

    /// Parses `"gram"` or `"gram:1,histogram:0.5"` (a missing weight counts as 1).
    /// - Throws: `.invalidOption` for an unknown name, a weight that is not a finite number ≥ 0,
    ///   a loss named twice, or weights that are all zero.
    public static func parse(_ text: String) throws(StylizeError) -> [StyleLossTerm] {
        let known = StyleLossKind.allCases.map(\.rawValue).joined(separator: ", ")
        var terms: [StyleLossTerm] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1...2).contains(fields.count), let kind = StyleLossKind(rawValue: fields[0].lowercased()) else {
                throw .invalidOption("--style-loss: unknown loss '\(fields[0])' (known: \(known))")
            }
            var weight: Float = 1
            if fields.count == 2 {
                guard let w = Float(fields[1]), w.isFinite, w >= 0 else {
                    throw .invalidOption("--style-loss: the weight of \(kind) must be a finite number ≥ 0, got '\(fields[1])'")
                }
                weight = w
            }
            guard !terms.contains(where: { $0.kind == kind }) else {
                throw .invalidOption("--style-loss: \(kind) is given twice")
            }
            terms.append(StyleLossTerm(kind, weight: weight))
        }
        guard terms.contains(where: { $0.weight > 0 }) else { throw .invalidOption("--style-loss: every weight is 0") }
        return terms
    }
}

/// The options of the style losses that have them, with the papers' defaults.
public struct StyleLossSettings: Sendable, Hashable, Codable {
    /// Bins of each channel's histogram of the style features (Risser et al.: 256).
    public var histogramBins: Int = 256
    /// Side of the square feature patches the MRF loss matches (CNNMRF: 3).
    public var mrfPatchSize: Int = 3
    /// Step between the style's patches (CNNMRF: 2); the picture's patches are taken at every position.
    public var mrfStride: Int = 2
    /// Added to both covariances' diagonals, relative to the style's mean variance, so their
    /// square roots stay well defined where channels are dead.
    public var w2Epsilon: Float = 1e-4

    public init() {}

    func validate() throws(StylizeError) {
        guard (2...65_536).contains(histogramBins) else {
            throw .invalidOption("histogram bins must be 2 to 65536, got \(histogramBins)")
        }
        guard (1...15).contains(mrfPatchSize) else { throw .invalidOption("MRF patch size must be 1 to 15, got \(mrfPatchSize)") }
        guard (1...15).contains(mrfStride) else { throw .invalidOption("MRF stride must be 1 to 15, got \(mrfStride)") }
        guard w2Epsilon.isFinite, w2Epsilon > 0 else { throw .invalidOption("W2 epsilon must be a finite number > 0, got \(w2Epsilon)") }
    }
}

/// The style images' activations at one layer, each with its blend weight (> 0, summing to 1).
public typealias WeightedFeatures = [(features: Tensor, weight: Float)]

extension StyleLossKind {
    /// This loss's target for the style images' activations at one layer.
    /// - Throws: `.network` when a kernel cannot be built, `.invalidOption` when the features
    ///   cannot carry this loss (an MRF patch larger than the layer).
    public func target(for styles: WeightedFeatures, layer: String, settings: StyleLossSettings,
                       precision: Precision) throws(StylizeError) -> StyleTarget {
        precondition(!styles.isEmpty, "a style target needs at least one style image")
        switch self {
        case .gram: return GramStyleTarget(styles)
        case .meanStd: return MeanStdStyleTarget(styles)
        case .w2: return try WassersteinStyleTarget(styles, epsilon: settings.w2Epsilon)
        case .histogram: return HistogramStyleTarget(styles, bins: settings.histogramBins)
        case .mrf:
            return try MRFStyleTarget(styles, layer: layer, patchSize: settings.mrfPatchSize, stride: settings.mrfStride,
                                      precision: precision)
        }
    }
}

extension StyleTransferOptions {
    /// Refuses, before any work, a run whose MRF patches would not fit a layer's activation of a
    /// `width`×`height` picture or of a style image (`styleSizes`, as resized for the run).
    public func checkStyleLossesFit(width: Int, height: Int, styleSizes: [(width: Int, height: Int)]) throws(StylizeError) {
        let k = styleLossSettings.mrfPatchSize
        for term in styleLosses where term.kind == .mrf && term.weight > 0 {
            for layer in term.layers ?? styleLayers {
                let factor = VGG19.downsampling(of: layer.layer)
                for (what, w, h) in [("the picture", width, height)] + styleSizes.map({ ("a style image", $0.width, $0.height) }) {
                    let (fw, fh) = (w / factor, h / factor)
                    guard fw >= k && fh >= k else {
                        throw .invalidOption("MRF patch size \(k) does not fit \(layer.layer) of \(what) (\(w)×\(h) pixels, \(fw)×\(fh) at \(layer.layer)): use a smaller --mrf-patch-size, an earlier layer or a larger size")
                    }
                }
            }
        }
    }
}
