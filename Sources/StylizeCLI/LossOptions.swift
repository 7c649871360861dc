import ArgumentParser
import Stylize

/// The loss options that `stylize`, `stylize texture` and `stylize measure` share: the style
/// terms, total variation, and VGG-19's pooling. One definition keeps their names, defaults and
/// help the same everywhere (the content options belong to the commands that have a content).
struct LossOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Weight of the style loss.")
    var styleWeight: Float = 100

    @Option(name: .long, parsing: .unconditional, help: "Weight of the total-variation (smoothness) loss.")
    var tvWeight: Float = 1e-3

    @Option(name: .long, help: ArgumentHelp("Style layers, comma-separated, each optionally name:weight.", valueName: "layers"))
    var styleLayers: String = "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1"

    @Option(name: .long, help: ArgumentHelp("Weights of the style images, comma-separated (normalised to sum to 1).", valueName: "w1,w2,..."))
    var styleBlendWeights: String?

    @Option(name: .long, parsing: .unconditional, help: "Style images are resized to this fraction of the picture's longer side (memory limits the result as it limits --image-size).")
    var styleScale: Float = 1

    @Option(name: .long, help: "Pooling in VGG-19: max or avg.")
    var pooling: StyleTransferOptions.Pooling = .max

    @OptionGroup var styleLossOptions: StyleLossOptions

    /// Fills these fields of `options`.
    func apply(to options: inout StyleTransferOptions) throws {
        options.styleWeight = styleWeight
        options.tvWeight = tvWeight
        options.styleLayers = try parseLayers(styleLayers, option: "--style-layers")
        if let styleBlendWeights {
            options.styleBlendWeights = try parseNumbers(styleBlendWeights, option: "--style-blend-weights")
        }
        options.styleScale = styleScale
        options.pooling = pooling
        options.styleLosses = try styleLossOptions.terms()
        options.styleLossSettings = styleLossOptions.settings
    }
}

/// The style losses and their own options, shared by every command with a style loss
/// (`stylize`, `texture`, `measure` and `train`).
struct StyleLossOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("""
        The style losses, comma-separated, each optionally name:weight: gram (Gatys et al.), mean-std \
        (each channel's mean and spread), w2 (Wasserstein-2 between the features' Gaussians), histogram \
        (each channel's histogram, Risser et al.), mrf (nearest feature patches, CNNMRF). Each is \
        normalised to the Gram loss's scale, so --style-weight carries over.
        """, valueName: "losses"))
    var styleLoss: String = "gram"

    @Option(name: .long, help: ArgumentHelp("Weight of the MRF loss (adds mrf to --style-loss).", valueName: "w"))
    var mrfWeight: Float?

    @Option(name: .long, help: ArgumentHelp("Layers of the MRF loss, comma-separated, each optionally name:weight.", valueName: "layers"))
    var mrfLayers: String = "relu3_1,relu4_1"

    @Option(name: .long, help: "Side of the MRF loss's feature patches.")
    var mrfPatchSize: Int = 3

    @Option(name: .long, help: "Step between the style's MRF patches (the picture's are matched at every position).")
    var mrfStride: Int = 2

    @Option(name: .long, help: ArgumentHelp("Layers of the histogram loss (default: --style-layers).", valueName: "layers"))
    var histogramLayers: String?

    @Option(name: .long, help: "Bins of each channel's histogram of the style's features.")
    var histogramBins: Int = 256

    @Option(name: .long, parsing: .unconditional, help: "W2 loss: added to both covariances' diagonals, as a fraction of the style's mean variance.")
    var w2Epsilon: Float = 1e-4

    /// The losses' own settings.
    var settings: StyleLossSettings {
        var s = StyleLossSettings()
        s.histogramBins = histogramBins
        s.mrfPatchSize = mrfPatchSize
        s.mrfStride = mrfStride
        s.w2Epsilon = w2Epsilon
        return s
    }

    /// --style-loss with --mrf-weight and each loss's own layers applied.
    func terms() throws -> [StyleLossTerm] {
        var terms = try StyleLossTerm.parse(styleLoss)
        if let mrfWeight {
            guard mrfWeight.isFinite, mrfWeight >= 0 else {
                throw ValidationError("--mrf-weight must be a finite number ≥ 0, got \(mrfWeight)")
            }
            if let i = terms.firstIndex(where: { $0.kind == .mrf }) { terms[i].weight = mrfWeight } else { terms.append(StyleLossTerm(.mrf, weight: mrfWeight)) }
        }
        let mrf = try parseLayers(mrfLayers, option: "--mrf-layers")
        let histogram = try histogramLayers.map { try parseLayers($0, option: "--histogram-layers") }
        return terms.map { term in
            var t = term
            switch t.kind {
            case .mrf: t.layers = mrf
            case .histogram: t.layers = histogram
            default: break
            }
            return t
        }
    }
}
