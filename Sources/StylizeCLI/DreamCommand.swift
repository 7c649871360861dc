import ArgumentParser
import Foundation
import Stylize

/// `stylize dream PHOTO -o OUT`: DeepDream on VGG-19.
struct DreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dream",
        abstract: "DeepDream: amplify what a VGG-19 layer sees in a photo (Mordvintsev et al. 2015).",
        discussion: """
        Gradient ascent on the photo itself, octave by octave from small to full size, so that \
        the patterns a layer responds to grow out of the picture. Shallow layers (relu2_x, relu3_x) \
        give strokes and textures, deep ones (relu4_x, relu5_x) eyes, scales and object parts. \
        The gradient is computed in tiles, so a 16-megapixel photo dreams in bounded memory.

        Examples:
          stylize dream photo.jpg -o dream.jpg
          stylize dream photo.jpg --layer relu5_1 --octaves 5 -o dream.jpg
          stylize dream photo.jpg --layer relu4_1 --channel 42 -o one_channel.jpg
          stylize dream photo.jpg --guide flowers.jpg -o guided.jpg
        """
    )

    @Argument(help: "The photo (PNG or JPEG).")
    var input: String

    @Option(name: .shortAndLong, help: "Output image; PNG or JPEG by extension.")
    var output: String

    @Option(name: .long, help: ArgumentHelp("VGG-19 layer(s) to amplify, comma-separated (see `stylize layers`).", valueName: "relu4_2"))
    var layer: String = DreamOptions().layers.joined(separator: ",")

    @Option(name: .long, help: "Amplify only this channel of the layer.")
    var channel: Int?

    @Option(name: .long, help: ArgumentHelp("Grow the features most like this picture's instead (guided dreaming).", valueName: "file"))
    var guide: String?

    @Option(name: .long, help: "Octaves, smallest first, each --octave-scale times the one before.")
    var octaves: Int = DreamOptions().octaves

    @Option(name: .long, help: "Size ratio between octaves.")
    var octaveScale: Float = DreamOptions().octaveScale

    @Option(name: [.long, .customLong("iterations")], help: "Gradient steps per octave.")
    var steps: Int = DreamOptions().steps

    @Option(name: .long, parsing: .unconditional, help: "Step size in 0-255 pixel units (times the gradient over its mean magnitude).")
    var stepSize: Float = DreamOptions().stepSize

    @Option(name: .long, help: "Random shift of the picture before each step, in pixels.")
    var jitter: Int = DreamOptions().jitter

    @Option(name: .long, help: "Side of the tiles the gradient is computed in (memory stays bounded).")
    var tileSize: Int = DreamOptions().tileSize

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Longer side of the dream in pixels (the photo is shrunk to it; 0: its own size, up to 16 megapixels).", valueName: "pixels"))
    var size: Int = 1024

    @Option(name: .long, help: "Seed for the jitter.")
    var seed: UInt64 = 0

    @OptionGroup var network: NetworkOptions

    func validate() throws {
        guard size == 0 || (32...16384).contains(size) else {
            throw ValidationError("--size must be 0 (the photo's own) or 32-16384 pixels, got \(size)")
        }
        try OutputCheck.refuseOverwriting(output, inputs: [input] + [guide].compactMap { $0 })
    }

    func options() throws -> DreamOptions {
        var o = DreamOptions()
        o.layers = layer.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        o.channel = channel
        o.octaves = octaves
        o.octaveScale = octaveScale
        o.steps = steps
        o.stepSize = stepSize
        o.jitter = jitter
        o.tileSize = tileSize
        o.seed = seed
        o.precision = try network.precision.resolved()
        try o.validate()
        return o
    }

    func run() throws {
        let options = try options()
        var photo = try ImageIO.load(input)
        if size > 0, max(photo.width, photo.height) > size { photo = photo.resized(longerSide: size) }
        photo = photo.fitted(maxPixels: 16_777_216)
        try OutputCheck.checkWritable(output, pixels: photo.width * photo.height)
        let guidePicture = try guide.map { try ImageIO.load($0) }
        let dream = try DeepDream(weights: network.loadWeights(), options: options)
        let interrupt = InterruptFlag()
        let line = network.showsProgress ? DreamProgress() : nil
        let result: Image
        do throws(StylizeError) {
            result = try dream.run(photo, guide: guidePicture, progress: { line?.update($0) }, shouldCancel: { interrupt.isSet })
        } catch {
            guard case .cancelled(let step, _) = error else { throw error }
            line?.end()
            let signal = interrupt.signal ?? SIGINT
            FileHandle.standardError.write("stylize: \(InterruptFlag.verb(signal)) at step \(step); nothing written\n".data(using: .utf8)!)
            throw ExitCode(128 + signal)
        }
        try ImageIO.save(result, to: output, jpegQuality: network.quality)
        line?.end()
        if line != nil { FileHandle.standardError.write("wrote \(output) (\(result.width)×\(result.height))\n".data(using: .utf8)!) }
    }
}

/// The progress line of a dream: octave, step, objective, steps per second, time left.
final class DreamProgress {
    private var last: DeepDream.Progress?
    private var stepsDone = 0
    private var firstElapsed: Double?

    func update(_ p: DeepDream.Progress) {
        stepsDone += 1
        if firstElapsed == nil { firstElapsed = p.elapsedSeconds }
        // Later octaves are larger: scale the time left by their area (about octaveScale² each).
        let rate = stepsDone > 1 ? Double(stepsDone - 1) / max(p.elapsedSeconds - firstElapsed!, 1e-9) : 0
        let left = Double(p.steps - p.step + (p.octaves - p.octave) * p.steps)
        let eta = rate > 0 ? TrainingProgress.duration(left / rate) : "?"
        let text = String(format: "octave %d/%d  step %d/%d  objective %.4g  %.2f steps/s  ETA ≥ %@",
                          p.octave, p.octaves, p.step, p.steps, p.objective, rate, eta)
        FileHandle.standardError.write("\r\u{1B}[K\(text)".data(using: .utf8)!)
        last = p
    }

    func end() { if last != nil { FileHandle.standardError.write("\n".data(using: .utf8)!) } }
}
