// The training-step benchmark, twin of Benchmarks/pytorch_train.py: one `stylize train` step
// (TransformerNet forward and backward, VGG-19 forward and backward to its input per image, the
// content, Gram and TV losses, an Adam step) on random 0–255 batches, with a random style picture.
//
//     stylize-train-bench [--steps 10] [--batch 4] [--size 256] [--channels 32,64,128]
//                         [--style-layers relu1_2,relu2_2,relu3_3,relu4_3] [--content-layer relu2_2]
//                         [--precision fp32|bf16|auto] [--weights FILE]
//
// The default layers are the twin's (pytorch/examples fast_neural_style's). Two warm-up steps,
// then --steps timed ones. Prints one JSON line like the twin's.
import Foundation
import Stylize
import StylizeIO
import StylizeNN
import StylizeTensor
import StylizeModels

AllocatorPolicy.reuseFreedMemory()

func argument(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write("stylize-train-bench: \(message)\n".data(using: .utf8)!)
    exit(2)
}

let steps = max(1, Int(argument("--steps", "10")) ?? 10)
let batchSize = Int(argument("--batch", "4")) ?? 4
let size = Int(argument("--size", "256")) ?? 256
let precisionName = argument("--precision", "auto")
guard let precision = precisionName == "auto" ? Precision.automatic : Precision(rawValue: precisionName) else {
    fail("--precision must be fp32, bf16 or auto")
}
var options = TrainingOptions()
options.architecture.channels = argument("--channels", "32,64,128").split(separator: ",").compactMap { Int($0) }
options.styleLayers = argument("--style-layers", "relu1_2,relu2_2,relu3_3,relu4_3").split(separator: ",").map(String.init)
options.contentLayers = [argument("--content-layer", "relu2_2")]
options.batchSize = batchSize
options.cropSize = size
options.styleSize = size
options.steps = steps + 2
options.precision = precision

func randomPixels(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(g.nextUnit() * 255) })
}

do {
    let weights = try VGG19Weights.load(path: argument("--weights", try WeightsCache.existingWeightsPath()))
    var style = randomPixels([1, 3, size, size], seed: 1)
    style.scale(by: 1 / 255)
    let trainer = try StyleNetworkTrainer(weights: weights, styles: [Image(pixels: style)], options: options)
    let batches = (0..<4).map { randomPixels([batchSize, 3, size, size], seed: 10 + UInt64($0)) }
    let clock = ContinuousClock()
    var times: [Double] = []
    var loss = 0.0
    for i in 0..<(steps + 2) {
        let start = clock.now
        loss = try trainer.train(on: batches[i % batches.count], fractionDone: 0).total
        let d = (clock.now - start).components
        if i >= 2 { times.append(Double(d.seconds) + Double(d.attoseconds) * 1e-18) }
    }
    let total = times.reduce(0, +)
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let sorted = times.sorted()
    let json: [String: Any] = [
        "impl": "stylize \(precision.rawValue)",
        "images_per_s": Double(batchSize * steps) / total,
        "seconds_per_step": total / Double(steps),
        "seconds_per_step_median": sorted[sorted.count / 2],
        "peak_rss_mb": Double(usage.ru_maxrss) / 1024,
        "threads": Int(ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount,
        "batch": batchSize, "size": size, "channels": options.architecture.channels.map(String.init).joined(separator: ","),
        "steps": steps, "loss": loss, "cpu": CPUCapabilities.current.isaName,
        "style_layers": options.styleLayers.joined(separator: ","),
    ]
    let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} catch {
    fail("\(error)")
}
