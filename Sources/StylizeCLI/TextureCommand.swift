import ArgumentParser
import Foundation
import Stylize
import StylizeIO

/// `stylize texture STYLE -o OUT`: texture synthesis (style loss only, from noise).
struct TextureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "texture",
        abstract: "Synthesize a texture from one or more images (Gatys et al. 2015), or draw one with a texture network.",
        discussion: """
        Optimizes noise until its VGG-19 Gram matrices match the texture image's. With --model, a \
        texture network trained by `stylize train --texture` draws it instead, in a moment and at \
        any size; each --seed gives another picture.

        Examples:
          stylize texture brick.png -o bricks.png --width 768 --height 512
          stylize texture --model brick.onnx -o bricks.png --width 2048 --height 1024 --seed 3
        """
    )

    @Argument(help: "The texture image(s) to imitate.")
    var styles: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "A texture network from `stylize train --texture` (a file, or the name of one in networks/): it draws the texture instead of optimizing.",
        valueName: "file.onnx|name"))
    var model: String?

    @Option(name: .long, help: "Width of the texture in pixels (with --height limited by memory: about 2,500×2,500 on 24 GB; larger is refused before any work).")
    var width: Int = 512

    @Option(name: .long, help: "Height of the texture in pixels.")
    var height: Int = 512

    @Option(name: .long, help: "Style images are resized so their longer side is this many pixels (times --style-scale).")
    var imageSize: Int = 512

    @OptionGroup var shared: SharedOptions

    func validate() throws {
        for (name, side) in [("--width", width), ("--height", height), ("--image-size", imageSize)] where !(16...(1 << 20)).contains(side) {
            throw ValidationError("\(name) must be 16-\(1 << 20) pixels (memory sets the real limit), got \(side)")
        }
        if model != nil {
            guard styles.isEmpty else { throw ValidationError("--model draws the texture the network learned; give no texture images with it") }
            // Both sides are at most 2^20 here, so the product cannot overflow.
            guard width * height <= 16_777_216 else {
                throw ValidationError("--width × --height must be at most 16 megapixels with --model, got \(width)×\(height)")
            }
        } else {
            guard !styles.isEmpty else { throw ValidationError("give a texture image (or a texture network with --model)") }
        }
        try OutputCheck.refuseOverwriting(shared.output, inputs: styles)
    }

    func run() throws {
        if let model { return try draw(model) }
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

    /// `--model`: one pass of the texture network over `--seed`'s noise.
    func draw(_ model: String) throws {
        let path = FileManager.default.fileExists(atPath: model) ? model : BundledNetworks.path(named: model) ?? model
        try OutputCheck.checkWritable(shared.output, pixels: width * height)
        let network = try TextureNetwork(path: path)
        let picture = try network.synthesize(width: width, height: height, seed: shared.seed)
        try ImageIO.save(picture, to: shared.output, jpegQuality: shared.quality)
    }
}
