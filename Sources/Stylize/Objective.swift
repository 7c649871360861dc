import StylizeTensor
import StylizeNN

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

    /// The loss terms at `x` and the gradient of the total with respect to `x`.
    public func evaluate(_ x: Tensor) throws(NNError) -> (losses: LossTerms, gradient: Tensor) {
        var losses = LossTerms()
        let taps = Set(contentTargets.keys).union(styleTargets.keys)
        var layerGradients: [String: Tensor] = [:]
        func accumulate(_ layer: String, _ g: Tensor, _ scale: Float) {
            guard scale != 0 else { return }
            if layerGradients[layer] == nil {
                var g = g
                g.scale(by: scale)
                layerGradients[layer] = g
            } else {
                layerGradients[layer]!.add(g, scaledBy: scale)
            }
        }
        if !taps.isEmpty {
            let features = try network.forward(x, taps: taps)
            for l in contentLayers {
                guard let target = contentTargets[l.layer], let f = features[l.layer] else { continue }
                let (value, g) = Losses.content(f, target: target)
                losses.contentTerms[l.layer, default: 0] += value
                losses.content += Double(l.weight) * value
                accumulate(l.layer, g, contentWeight * l.weight)
            }
            for l in styleLayers {
                guard let target = styleTargets[l.layer], let f = features[l.layer] else { continue }
                let (value, g) = Losses.style(f, targetGram: target)
                losses.styleTerms[l.layer, default: 0] += value
                losses.style += Double(l.weight) * value
                accumulate(l.layer, g, styleWeight * l.weight)
            }
        }
        var gradient = layerGradients.isEmpty ? Tensor(shape: x.shape) : network.backward(layerGradients)
        let (tv, tvGradient) = Losses.totalVariation(x)
        losses.tv = tv
        if tvWeight != 0 { gradient.add(tvGradient, scaledBy: tvWeight) }
        losses.total = Double(contentWeight) * losses.content + Double(styleWeight) * losses.style
            + Double(tvWeight) * losses.tv
        return (losses, gradient)
    }
}
