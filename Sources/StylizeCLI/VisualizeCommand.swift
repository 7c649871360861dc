import ArgumentParser
import Foundation
import Stylize

/// `stylize visualize --layer relu4_1 --channel 42 -o unit.png`: feature visualization on VGG-19.
struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Draw what a VGG-19 channel, neuron or direction responds to (feature visualization).",
        discussion: """
        Optimizes a picture from noise so that the chosen unit fires as strongly as possible \
        (Yosinski et al. 2015; Olah et al., "Feature Visualization", 2017). The defaults are \
        lucid's: a Fourier-parameterized, colour-decorrelated picture, random padding, jitter, \
        scale and rotation each step, 512 Adam steps. --plain turns every regularizer off.

        Examples:
          stylize visualize --layer relu4_1 --channel 42 -o unit.png
          stylize visualize --layer relu4_1 --channel "42+0.5*17" -o mix.png
          stylize visualize --layer relu3_1 --channels 0-15 --sheet -o relu3_1.png
          stylize visualize --layer relu5_1 --channel 7 --neuron --minimize -o neg.png
          stylize visualize --layer relu4_1 --channel 42 --plain -o plain.png
        """
    )

    @Option(name: .shortAndLong, help: "Output picture (PNG or JPEG); with --channels and no --sheet, a folder.")
    var output: String

    @Option(name: .long, help: "VGG-19 layer (see `stylize layers`).")
    var layer: String = "relu4_1"

    @Option(name: .long, help: ArgumentHelp("A channel, or a combination such as 42+0.5*17.", valueName: "n|expr"))
    var channel: String?

    @Option(name: .long, help: ArgumentHelp("Several channels, each its own picture: 0-63 or 1,5,9.", valueName: "list"))
    var channels: String?

    @Flag(name: .long, help: "With --channels: one labelled grid instead of a folder of pictures.")
    var sheet = false

    @Option(name: .long, help: "With --channels: pictures optimised together, sharing the network's passes (memory grows with it).")
    var batch: Int = 8

    @Option(name: .long, help: ArgumentHelp("A direction in the layer's channel space: a text file of one number per channel.", valueName: "file"))
    var direction: String?

    @Flag(name: .long, help: "Only the centre position counts, not the channel's mean.")
    var neuron = false

    @Flag(name: .long, help: "Make the unit as negative as possible instead.")
    var minimize = false

    @Option(name: .long, help: "Picture side in pixels (square); --width and --height set it per side.")
    var size: Int?

    @Option(name: .long, help: "Picture width in pixels.")
    var width: Int?

    @Option(name: .long, help: "Picture height in pixels.")
    var height: Int?

    @Option(name: [.long, .customLong("iterations")], help: "Adam steps.")
    var steps: Int = VisualizationOptions().steps

    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: "Adam's learning rate.")
    var learningRate: Float = VisualizationOptions().learningRate

    @Option(name: .long, help: "fourier (1/f-scaled spectrum) or pixels.")
    var parameterization: ParameterizationChoice = .fourier

    @Flag(name: .long, help: "No colour decorrelation.")
    var noDecorrelate = false

    @Option(name: .long, help: "Grey border around the picture on the network's canvas, in pixels.")
    var pad: Int = VisualizationOptions().pad

    @Option(name: .long, help: "Random shift per step, in pixels.")
    var jitter: Int = VisualizationOptions().jitter

    @Option(name: .customLong("scale"), help: ArgumentHelp("Random scale range per step.", valueName: "min-max"))
    var scaleRange: String = "0.9-1.1"

    @Option(name: .customLong("rotate"), help: ArgumentHelp("Random rotation per step, ± degrees.", valueName: "degrees"))
    var rotation: Float = VisualizationOptions().rotation

    @Option(name: .long, help: "L2 decay towards grey (toolbox: 0.0001-0.01).")
    var decay: Float = 0

    @Option(name: .long, help: "Blur every N steps (0: never).")
    var blurEvery: Int = 0

    @Option(name: .long, help: "The blur's σ in pixels.")
    var blurSigma: Float = VisualizationOptions().blurSigma

    @Option(name: .long, help: "Pixels weaker than this percentile become grey each step (pixels parameterization).")
    var clipPercentile: Float = 0

    @Flag(name: .long, help: "No regularizer at all: raw pixels, no transforms (for comparison).")
    var plain = false

    @Option(name: .long, help: "Seed for the starting noise and the transforms.")
    var seed: UInt64 = 0

    @OptionGroup var network: NetworkOptions

    func validate() throws {
        let given = [channel != nil, channels != nil, direction != nil].filter { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of --channel, --channels and --direction") }
        guard !sheet || channels != nil else { throw ValidationError("--sheet goes with --channels") }
        guard (1...64).contains(batch) else { throw ValidationError("--batch must be 1–64, got \(batch)") }
        if channels == nil || sheet { try OutputCheck.refuseOverwriting(output, inputs: [direction].compactMap { $0 }) }
    }

    func options() throws -> VisualizationOptions {
        var o = plain ? VisualizationOptions.plain : VisualizationOptions()
        o.width = width ?? size ?? o.width
        o.height = height ?? size ?? o.height
        o.steps = steps
        o.learningRate = learningRate
        o.seed = seed
        o.decay = decay
        o.blurEvery = blurEvery
        o.blurSigma = blurSigma
        o.clipPercentile = clipPercentile
        o.precision = try network.precision.resolved()
        if !plain {
            o.parameterization = parameterization.value
            o.decorrelate = !noDecorrelate
            o.pad = pad
            o.jitter = jitter
            o.rotation = rotation
            let parts = scaleRange.split(separator: "-").map { Float($0) }
            guard parts.count == 2, let low = parts[0], let high = parts[1], low <= high else {
                throw ValidationError("--scale takes a range such as 0.9-1.1, got '\(scaleRange)'")
            }
            o.scales = low...high
        }
        try o.validate()
        return o
    }

    /// The objectives to draw, each with its label.
    func objectives() throws -> [(label: String, objective: VisualizationObjective)] {
        func configured(_ o: VisualizationObjective) -> VisualizationObjective {
            var o = o
            o.neuron = neuron
            o.minimize = minimize
            return o
        }
        if let channel { return [(channel, configured(try VisualizationObjective(layer: layer, parsing: channel)))] }
        if let direction {
            let text = try String(contentsOfFile: direction, encoding: .utf8)
            let numbers = text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map { Float($0) }
            guard !numbers.isEmpty, numbers.allSatisfy({ $0 != nil }) else {
                throw ValidationError("\(direction): not a list of numbers (one per channel of \(layer))")
            }
            return [("direction", configured(try VisualizationObjective(layer: layer, direction: numbers.map { $0! })))]
        }
        let list = try Self.parseList(channels ?? "")
        guard list.count <= 1024 else { throw ValidationError("--channels: \(list.count) channels; at most 1024 per call") }
        return try list.map { (String($0), configured(try VisualizationObjective(layer: layer, channel: $0))) }
    }

    /// "0-63" or "1,5,9" or "0-3,8".
    static func parseList(_ text: String) throws -> [Int] {
        var out: [Int] = []
        for part in text.split(separator: ",") {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch ends.count {
            case 1 where ends[0] != nil: out.append(ends[0]!)
            case 2 where ends[0] != nil && ends[1] != nil && ends[0]! <= ends[1]! && ends[1]! - ends[0]! < 4096: out += Array(ends[0]!...ends[1]!)
            default: throw ValidationError("--channels takes a list such as 0-63 or 1,5,9, got '\(text)'")
            }
        }
        guard !out.isEmpty else { throw ValidationError("--channels takes a list such as 0-63 or 1,5,9, got '\(text)'") }
        return out
    }

    func run() throws {
        let options = try options()
        let objectives = try objectives()
        let folder = channels != nil && !sheet
        if folder {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } else {
            try OutputCheck.checkWritable(output, pixels: options.width * options.height * objectives.count)
        }
        let visualization = try FeatureVisualization(weights: network.loadWeights(),
                                                     options: options)
        let interrupt = InterruptFlag()
        let showProgress = network.showsProgress
        var tiles: [(label: String, image: Image)] = []
        let groups = stride(from: 0, to: objectives.count, by: batch).map { objectives[$0..<min($0 + batch, objectives.count)] }
        for group in groups {
            let first = group.startIndex, labels = group.map(\.0)
            let name = labels.count == 1 ? labels[0] : "\(labels[0])…\(labels.last!)"
            let pictures: [Image]
            do throws(StylizeError) {
                pictures = try visualization.run(group.map(\.1), progress: { p in
                    guard showProgress, p.step % 8 == 0 || p.step == p.steps else { return }
                    let rate = Double(p.step) / max(p.elapsedSeconds, 1e-9)
                    let stepsLeft = Double(p.steps - p.step) + Double(objectives.count - first - group.count) / Double(group.count) * Double(p.steps)
                    let mean = p.objectives.reduce(0, +) / Double(p.objectives.count)
                    let text = String(format: "%@ %@ (%d–%d of %d)  step %d/%d  objective %.4g  %.1f steps/s  ETA %@", layer, name,
                                      first + 1, first + group.count, objectives.count, p.step, p.steps, mean, rate,
                                      TrainingProgress.duration(stepsLeft / rate))
                    FileHandle.standardError.write("\r\u{1B}[K\(text)".data(using: .utf8)!)
                }, shouldCancel: { interrupt.isSet })
            } catch {
                guard case .cancelled(let step, _) = error else { throw error }
                if showProgress { FileHandle.standardError.write("\n".data(using: .utf8)!) }
                let signal = interrupt.signal ?? SIGINT
                FileHandle.standardError.write("stylize: \(InterruptFlag.verb(signal)) at step \(step) of \(name); \(folder ? "the pictures finished are in \(output)" : "nothing written")\n".data(using: .utf8)!)
                throw ExitCode(128 + signal)
            }
            for (label, picture) in zip(labels, pictures) {
                if folder {
                    try ImageIO.save(picture, to: (output as NSString).appendingPathComponent("\(layer)_\(label).png"))
                } else {
                    tiles.append(("\(layer) \(label)", picture))
                }
            }
        }
        if showProgress { FileHandle.standardError.write("\n".data(using: .utf8)!) }
        if !folder {
            let result = sheet ? ContactSheet.grid(tiles, columns: Int(Double(tiles.count).squareRoot().rounded(.up))) : tiles[0].image
            try ImageIO.save(result, to: output, jpegQuality: network.quality)
        }
    }
}

enum ParameterizationChoice: String, CaseIterable, ExpressibleByArgument {
    case fourier, pixels
    var value: Parameterization { self == .fourier ? .fourier : .pixels }
}
