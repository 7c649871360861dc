// The Gatys speed benchmark, the twin of ../shared/bench/pytorch_gatys.py: the same workload
// (VGG-19 to relu5_1 with max pooling, content loss at relu4_2, Gram style loss at relu1_1…relu5_1
// with weight 1e3, backward to the image, one L-BFGS or Adam step per iteration) on random images.
//
//     stylize-bench [--size 512x384] [--iterations 10] [--optimizer lbfgs|adam] [--precision fp32|bf16|auto]
//                   [--style-loss gram|mean-std|w2|histogram|mrf|gram:1,histogram:0.5] [--weights FILE]
//
// With --style-loss the style term is that loss (each at its default layers, normalised on the
// content input as `stylize` does): scripts/bench-style-losses.sh compares their iterations.
//
// Prints one JSON line: seconds per iteration (median, first iteration excluded), set-up seconds,
// peak resident memory in MiB, final loss.
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

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

let size = argument("--size", "512x384").split(separator: "x").compactMap { Int($0) }
guard size.count == 2, size[0] > 0, size[1] > 0 else {
    FileHandle.standardError.write("stylize-bench: --size must be WxH\n".data(using: .utf8)!)
    exit(2)
}
let (width, height) = (size[0], size[1])
let iterations = max(2, Int(argument("--iterations", "10")) ?? 10)
let optimizer = argument("--optimizer", "lbfgs")
let precisionName = argument("--precision", "auto")
guard let precision = precisionName == "auto" ? Precision.automatic : Precision(rawValue: precisionName) else {
    FileHandle.standardError.write("stylize-bench: --precision must be fp32, bf16 or auto\n".data(using: .utf8)!)
    exit(2)
}

let clock = ContinuousClock()
let setupStart = clock.now
// The weights file's float32 tensors are dropped once the network has its own copy.
let network = try VGG19(convolutions: VGG19Weights.load(path: argument("--weights", try WeightsCache.existingWeightsPath())).convolutions,
                        pooling: .max, precision: precision)
let styleLoss = argument("--style-loss", "gram")
let objective = Objective(network: network, contentWeight: 1, styleWeight: 1e3, tvWeight: 0,
                          contentLayers: [LayerWeight("relu4_2")],
                          styleLayers: ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"].map { LayerWeight($0) },
                          styleLosses: try StyleLossTerm.parse(styleLoss))

/// Uniform noise in [-120, 135): what the PyTorch twin feeds (rand·255 − 120).
func randomInput(seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor(shape: [1, 3, height, width], scalars: (0..<(3 * width * height)).map { _ in Float(g.nextUnit() * 255 - 120) })
}
let content = randomInput(seed: 1)
try objective.setContent(content)
try objective.setStyles([randomInput(seed: 2)], calibration: content)
var x = content
var lbfgs = LBFGS(historySize: 100)
var adam = Adam(learningRate: 1)
let setup = seconds(clock.now - setupStart)

var times: [Double] = []
var loss = 0.0
for _ in 0..<iterations {
    let t = clock.now
    let (losses, gradient) = try objective.evaluate(x)
    if optimizer == "adam" { adam.step(&x, gradient: gradient) } else { _ = lbfgs.step(&x, loss: losses.total, gradient: gradient) }
    loss = losses.total
    times.append(seconds(clock.now - t))
}
let timed = times.dropFirst().sorted()
let median = timed[timed.count / 2]
var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
let threads = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? String(ProcessInfo.processInfo.activeProcessorCount)
print("{\"impl\": \"stylize \(precision.rawValue)\", \"style_loss\": \"\(styleLoss)\", \"threads\": \(threads), \"size\": [\(width), \(height)], \"optimizer\": \"\(optimizer)\", "
    + "\"iterations\": \(iterations), \"seconds_per_iteration\": \(median), \"setup_seconds\": \(setup), "
    + "\"peak_rss_mib\": \(Double(usage.ru_maxrss) / 1024), \"final_loss\": \(loss)}")
