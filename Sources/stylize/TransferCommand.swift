import ArgumentParser
import Stylize
import StylizeIO

/// `stylize CONTENT --style STYLE … -o OUT`: Gatys style transfer.
struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Render a photo in the style of one or more images (the default command)."
    )

    @Argument(help: "The content photo (PNG or JPEG).")
    var content: String

    @Option(name: .shortAndLong, help: "A style image; repeat to blend several.")
    var style: [String] = []

    @Option(name: .long, help: "Longer side of the output in pixels.")
    var imageSize: Int = 512

    @Option(name: .long, help: "Weight of the content loss.")
    var contentWeight: Float = 5

    @Option(name: .long, help: ArgumentHelp("Content layers, comma-separated, each optionally name:weight.", valueName: "layers"))
    var contentLayers: String = "relu4_2"

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from: content, noise (alias random), or image (with --init-image).", valueName: "kind"))
    var initialization: String = "content"

    @Option(name: .long, help: ArgumentHelp("Image to start from (implies --init image).", valueName: "file"))
    var initImage: String?

    @Flag(name: .long, help: "Keep the content's colours: transfer luminance only.")
    var originalColors = false

    @OptionGroup var shared: SharedOptions

    func validate() throws {
        guard !style.isEmpty else { throw ValidationError("give at least one --style image") }
        guard ["content", "noise", "random", "image"].contains(initialization) else {
            throw ValidationError("--init must be content, noise or image, got '\(initialization)'")
        }
        if initialization == "image" && initImage == nil { throw ValidationError("--init image needs --init-image FILE") }
    }

    func options() throws -> StyleTransferOptions {
        var o = StyleTransferOptions()
        try shared.apply(to: &o)
        o.imageSize = imageSize
        o.contentWeight = contentWeight
        o.contentLayers = try parseLayers(contentLayers, option: "--content-layers")
        o.originalColors = originalColors
        if let initImage {
            o.initialization = .image(path: initImage)
        } else {
            o.initialization = initialization == "content" ? .content : .noise
        }
        return o
    }

    func run() throws {
        let options = try options()
        try options.validate()
        let contentImage = try ImageIO.load(content)
        let styles = try style.map { try ImageIO.load($0) }
        let initial = try initImage.map { try ImageIO.load($0) }
        let transfer = try StyleTransfer(weights: shared.loadWeights(), options: options)
        let session = RunSession(shared: shared)
        let result = try session.run { progress, snapshot, cancel in
            try transfer.run(content: contentImage, styles: styles, initialImage: initial,
                             progress: progress, snapshot: snapshot, shouldCancel: cancel)
        }
        try ImageIO.save(result, to: shared.output, jpegQuality: shared.quality)
        session.finished(result)
    }
}
