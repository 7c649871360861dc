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
    /// Each style layer's term: the sum of its style losses, each normalised and times its
    /// loss weight, before the layer's weight.
    public var styleTerms: [String: Double] = [:]
    /// Each style loss's term (keyed by `StyleLossKind.rawValue`): normalised, summed over its
    /// layers with their weights, before the loss's weight.
    public var styleLossTerms: [String: Double] = [:]
    public init() {}
}

/// One style loss at one layer: its target, its weights and the normalisation that puts it on
/// the Gram loss's scale.
public struct StyleLossEntry {
    public let kind: StyleLossKind
    /// The loss's weight in the mix (`StyleLossTerm.weight`).
    public let lossWeight: Float
    /// The layer's weight for this loss.
    public let layerWeight: Float
    public let target: StyleTarget
    /// Multiplies the loss's raw value (1 for Gram; see `Objective.setStyles`).
    public let normalisation: Double

    /// What the loss's (normalised) value at this layer is multiplied by in the style term.
    public var weight: Float { lossWeight * layerWeight }
}

/// Gatys et al.'s objective as a function of the generated image in network-input space: VGG-19
/// forward to the content and style layers, the losses there, VGG-19 backward to the image, plus
/// total variation on the image itself. The style term is the Gram loss unless `styleLosses`
/// names others (`StyleLossKind`).
public final class Objective {
    public let network: VGG19
    public let contentWeight: Float, styleWeight: Float, tvWeight: Float
    public let contentLayers: [LayerWeight], styleLayers: [LayerWeight]
    public let styleLosses: [StyleLossTerm]
    public let styleLossSettings: StyleLossSettings
    /// Activations of the content image at each content layer; empty until `setContent`.
    public private(set) var contentTargets: [String: Tensor] = [:]
    /// The style losses at each layer; empty until `setStyles`.
    public private(set) var styleTargets: [String: [StyleLossEntry]] = [:]

    public init(network: VGG19, contentWeight: Float, styleWeight: Float, tvWeight: Float,
                contentLayers: [LayerWeight], styleLayers: [LayerWeight],
                styleLosses: [StyleLossTerm] = [.gram], styleLossSettings: StyleLossSettings = StyleLossSettings()) {
        self.network = network
        self.contentWeight = contentWeight
        self.styleWeight = styleWeight
        self.tvWeight = tvWeight
        self.contentLayers = contentLayers
        self.styleLayers = styleLayers
        self.styleLosses = styleLosses
        self.styleLossSettings = styleLossSettings
    }

    public convenience init(network: VGG19, options: StyleTransferOptions) {
        self.init(network: network, contentWeight: options.contentWeight, styleWeight: options.styleWeight,
                  tvWeight: options.tvWeight, contentLayers: options.contentLayers, styleLayers: options.styleLayers,
                  styleLosses: options.styleLosses, styleLossSettings: options.styleLossSettings)
    }

    /// Each style loss with the layers it uses (its own, else the style layers); losses of weight 0 are left out.
    var styleLossLayers: [(term: StyleLossTerm, layers: [LayerWeight])] {
        styleLosses.filter { $0.weight > 0 }.map { ($0, $0.layers ?? styleLayers) }
    }

    /// Records the content image's activations (`input` in network-input space).
    public func setContent(_ input: Tensor) throws(NNError) {
        let layers = Set(contentLayers.map(\.layer))
        contentTargets = layers.isEmpty ? [:] : try network.forward(input, taps: layers)
    }

    /// Builds each style loss's target from the style images at its layers, the images blended by
    /// `blendWeights` (normalised to sum to 1; equal weights when empty) as neural-style blends.
    ///
    /// Normalisation: the losses' raw values differ by orders of magnitude, so that switching
    /// loss needs no new style weight, each loss other than Gram is scaled, layer by layer, to
    /// equal the Gram loss at that layer on `calibration` (the picture the run starts from, or
    /// the content photo), times its `calibrationShare`. Without a calibration picture every
    /// loss keeps its raw value.
    public func setStyles(_ inputs: [Tensor], blendWeights: [Float] = [], calibration: Tensor? = nil) throws(StylizeError) {
        precondition(blendWeights.isEmpty || blendWeights.count == inputs.count, "one blend weight per style")
        let raw = blendWeights.isEmpty ? Array(repeating: Float(1), count: inputs.count) : blendWeights
        let sum = raw.reduce(0, +)
        let uses = styleLossLayers
        let layers = Set(uses.flatMap { $0.layers.map(\.layer) })
        styleTargets = [:]
        guard !layers.isEmpty else { return }
        var styleFeatures: [String: WeightedFeatures] = [:]
        do {
            for (input, w) in zip(inputs, raw) where w > 0 {
                for (layer, f) in try network.forward(input, taps: layers) { styleFeatures[layer, default: []].append((f, w / sum)) }
            }
        } catch {
            throw .network(error)
        }
        var calibrationFeatures: [String: Tensor] = [:]
        if let calibration, uses.contains(where: { $0.term.kind != .gram }) {
            do { calibrationFeatures = try network.forward(calibration, taps: layers) } catch { throw .network(error) }
        }
        var targets: [String: [StyleLossEntry]] = [:]
        for (term, termLayers) in uses {
            for layer in termLayers {
                let styles = styleFeatures[layer.layer]!
                let target = try term.kind.target(for: styles, layer: layer.layer, settings: styleLossSettings,
                                                  precision: network.precision)
                var normalisation = 1.0
                if term.kind != .gram, var own = calibrationFeatures[layer.layer] {
                    var gram = own
                    let reference = GramStyleTarget(styles).loss(replacing: &gram)
                    let value: Double
                    do { value = try target.loss(replacing: &own) } catch { throw .network(error) }
                    let share = term.kind.calibrationShare
                    if reference > 0 && value > 0 && (share * reference / value).isFinite { normalisation = share * reference / value }
                }
                targets[layer.layer, default: []].append(
                    StyleLossEntry(kind: term.kind, lossWeight: term.weight, layerWeight: layer.weight, target: target,
                                   normalisation: normalisation))
            }
        }
        styleTargets = targets
    }

    /// The loss terms at `x` and the gradient of the total with respect to `x`. Each layer's loss
    /// turns its activation into its gradient in place while the network's forward pass goes on,
    /// so at most one float32 activation (and a copy for each further loss at the layer) exists at a time.
    public func evaluate(_ x: Tensor) throws(NNError) -> (losses: LossTerms, gradient: Tensor) {
        var losses = LossTerms()
        let taps = Set(contentTargets.keys).union(styleTargets.keys)
        var gradient = Tensor(shape: x.shape)
        if !taps.isEmpty {
            var failure: NNError?
            gradient = try network.gradient(x, taps: taps) { layer, f in
                let contentWeights = contentLayers.filter { $0.layer == layer }.map(\.weight)
                let entries = styleTargets[layer] ?? []
                // Every term but the last at a layer works on a copy of F; their gradients add up.
                var others: Tensor?
                if let target = contentTargets[layer], !contentWeights.isEmpty {
                    let scale = contentWeight * contentWeights.reduce(0, +)
                    let value: Double
                    if entries.isEmpty {
                        value = Losses.content(replacing: &f, target: target)
                        f.scale(by: scale)
                    } else {
                        var g = f
                        value = Losses.content(replacing: &g, target: target)
                        g.scale(by: scale)
                        others = g
                    }
                    losses.contentTerms[layer] = value
                    losses.content += Double(contentWeights.reduce(0, +)) * value
                }
                for (i, entry) in entries.enumerated() {
                    let last = i == entries.count - 1
                    var g = last ? Tensor(shape: [0]) : f
                    let raw: Double
                    do throws(NNError) {
                        raw = last ? try entry.target.loss(replacing: &f) : try entry.target.loss(replacing: &g)
                    } catch {
                        failure = error
                        return
                    }
                    let value = raw * entry.normalisation
                    let scale = entry.normalisation == 1 ? styleWeight * entry.weight
                        : Float(Double(styleWeight * entry.weight) * entry.normalisation)
                    if last {
                        f.scale(by: scale)
                        if let others { f.add(others) }
                    } else {
                        g.scale(by: scale)
                        if others == nil { others = g } else { others!.add(g) }
                    }
                    losses.styleTerms[layer, default: 0] += Double(entry.lossWeight) * value
                    losses.styleLossTerms[entry.kind.rawValue, default: 0] += Double(entry.layerWeight) * value
                    losses.style += Double(entry.weight) * value
                }
            }
            if let failure { throw failure }
        }
        let (tv, tvGradient) = Losses.totalVariation(x)
        losses.tv = tv
        if tvWeight != 0 { gradient.add(tvGradient, scaledBy: tvWeight) }
        losses.total = Double(contentWeight) * losses.content + Double(styleWeight) * losses.style
            + Double(tvWeight) * losses.tv
        return (losses, gradient)
    }
}
