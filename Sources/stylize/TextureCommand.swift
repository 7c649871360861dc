import ArgumentParser
import Stylize
import StylizeIO

/// `stylize texture STYLE -o OUT`: texture synthesis (style loss only, from noise).
struct TextureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "texture",
        abstract: "Synthesize a texture from one or more images (Gatys et al. 2015)."
    )

    @Argument(help: "The texture image(s) to imitate.")
    var styles: [String]

    @Option(name: .long, help: "Width of the texture in pixels (with --height limited by memory: about 2,500×2,500 on 24 GB; larger is refused before any work).")
    var width: Int = 512

    @Option(name: .long, help: "Height of the texture in pixels.")
    var height: Int = 512

    @Option(name: .long, help: "Style images are resized so their longer side is this many pixels (times --style-scale).")
    var imageSize: Int = 512

    @OptionGroup var shared: SharedOptions

    func validate() throws {
        guard !styles.isEmpty else { throw ValidationError("give a texture image") }
        for (name, side) in [("--width", width), ("--height", height), ("--image-size", imageSize)] where !(16...(1 << 20)).contains(side) {
            throw ValidationError("\(name) must be 16-\(1 << 20) pixels (memory sets the real limit), got \(side)")
        }
        try OutputCheck.refuseOverwriting(shared.output, inputs: styles)
    }

    func run() throws {
        var options = StyleTransferOptions()
        try shared.apply(to: &options)
        options.imageSize = imageSize
        options.initialization = .noise
        try options.validate()
        try OutputCheck.checkWritable(shared.output, pixels: width * height)
        let styleImages = try styles.map { try ImageIO.load($0) }
        let synthesis = try TextureSynthesis(weights: shared.loadWeights(), options: options)
        let session = RunSession(shared: shared)
        let result = try session.run { progress, snapshot, cancel in
            try synthesis.run(styles: styleImages, width: width, height: height,
                              progress: progress, snapshot: snapshot, shouldCancel: cancel)
        }
        try ImageIO.save(result, to: shared.output, jpegQuality: shared.quality)
        session.finished(result)
    }
}
