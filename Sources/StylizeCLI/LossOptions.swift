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
    }
}
