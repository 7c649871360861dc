import StylizeTensor
import StylizeNN
import StylizeModels

/// The value of each term of one evaluation. `content` and `style` are the sums of their layers'
/// terms times the layers' weights, before the content and style weights; `total` is
/// contentWeight·content + styleWeight·style + tvWeight·tv, the number being minimised.
public struct LossTerms: Sendable, Equatable {
    public var content: Double = 0
    public var style: Double = 0
    public var tv: Double = 0
    public var total: Double = 0
    /// Each content layer's term, before any weight.
    public var contentTerms: [String: Double] = [:]
    /// Each style layer's term, before any weight.
    public var styleTerms: [String: Double] = [:]
    public init() {}
}

/// Gatys et al.'s objective as a function of the generated image in network-input space: VGG-19
/// forward to the content and style layers, the losses there, VGG-19 backward to the image, plus
/// total variation on the image itself.
public final class Objective {
    public let network: VGG19
    public let contentWeight: Float, styleWeight: Float, tvWeight: Float
    public let contentLayers: [LayerWeight], styleLayers: [LayerWeight]
    /// Activations of the content image at each content layer; empty until `setContent`.
    public private(set) var contentTargets: [String: Tensor] = [:]
    /// Blended Gram matrices of the style images at each style layer; empty until `setStyles`.
    public private(set) var styleTargets: [String: Tensor] = [:]

    public init(network: VGG19, contentWeight: Float, styleWeight: Float, tvWeight: Float,
                contentLayers: [LayerWeight], styleLayers: [LayerWeight]) {
        self.network = network
        self.contentWeight = contentWeight
        self.styleWeight = styleWeight
        self.tvWeight = tvWeight
        self.contentLayers = contentLayers
        self.styleLayers = styleLayers
    }

    public convenience init(network: VGG19, options: StyleTransferOptions) {
        self.init(network: network, contentWeight: options.contentWeight, styleWeight: options.styleWeight,
                  tvWeight: options.tvWeight, contentLayers: options.contentLayers, styleLayers: options.styleLayers)
    }

    /// Records the content image's activations (`input` in network-input space).
    public func setContent(_ input: Tensor) throws(NNError) {
        let layers = Set(contentLayers.map(\.layer))
        contentTargets = layers.isEmpty ? [:] : try network.forward(input, taps: layers)
    }

    /// Records the style target: at each style layer, Σ wᵢ·Gram(styleᵢ) with the weights
    /// normalised to sum to 1 (equal weights when `blendWeights` is empty), as neural-style blends.
    public func setStyles(_ inputs: [Tensor], blendWeights: [Float] = []) throws(NNError) {
        precondition(blendWeights.isEmpty || blendWeights.count == inputs.count, "one blend weight per style")
        let raw = blendWeights.isEmpty ? Array(repeating: Float(1), count: inputs.count) : blendWeights
        let sum = raw.reduce(0, +)
        let layers = Set(styleLayers.map(\.layer))
        var targets: [String: Tensor] = [:]
        guard !layers.isEmpty else { styleTargets = targets; return }
        for (input, w) in zip(inputs, raw) where w > 0 {
            let features = try network.forward(input, taps: layers)
            for layer in layers {
                let g = Gram.forward(features[layer]!)
                if targets[layer] == nil {
                    targets[layer] = Tensor(shape: g.shape)
                }
                targets[layer]!.add(g, scaledBy: w / sum)
            }
        }
        styleTargets = targets
    }

    /// The loss terms at `x` and the gradient of the total with respect to `x`. Each layer's loss
    /// turns its activation into its gradient in place while the network's forward pass goes on,
    /// so at most one float32 activation exists at a time.
    public func evaluate(_ x: Tensor) throws(NNError) -> (losses: LossTerms, gradient: Tensor) {
        var losses = LossTerms()
        let taps = Set(contentTargets.keys).union(styleTargets.keys)
        var gradient = Tensor(shape: x.shape)
        if !taps.isEmpty {
            gradient = try network.gradient(x, taps: taps) { layer, f in
                let contentWeights = contentLayers.filter { $0.layer == layer }.map(\.weight)
                let styleWeights = styleLayers.filter { $0.layer == layer }.map(\.weight)
                // A layer that is both a content and a style layer needs F twice: the content
                // part works on a copy.
                var contentGradient: Tensor?
                if let target = contentTargets[layer], !contentWeights.isEmpty {
                    let scale = contentWeight * contentWeights.reduce(0, +)
                    let value: Double
                    if styleTargets[layer] != nil && !styleWeights.isEmpty {
                        var copy = f
                        value = Losses.content(replacing: &copy, target: target)
                        copy.scale(by: scale)
                        contentGradient = copy
                    } else {
                        value = Losses.content(replacing: &f, target: target)
                        f.scale(by: scale)
                    }
                    losses.contentTerms[layer] = value
                    losses.content += Double(contentWeights.reduce(0, +)) * value
                }
                if let target = styleTargets[layer], !styleWeights.isEmpty {
                    let value = Losses.style(replacing: &f, targetGram: target)
                    f.scale(by: styleWeight * styleWeights.reduce(0, +))
                    if let contentGradient { f.add(contentGradient) }
                    losses.styleTerms[layer] = value
                    losses.style += Double(styleWeights.reduce(0, +)) * value
                }
            }
        }
        let (tv, tvGradient) = Losses.totalVariation(x)
        losses.tv = tv
        if tvWeight != 0 { gradient.add(tvGradient, scaledBy: tvWeight) }
        losses.total = Double(contentWeight) * losses.content + Double(styleWeight) * losses.style
            + Double(tvWeight) * losses.tv
        return (losses, gradient)
    }
}
