import Foundation
import Testing
import StylizeONNX
import StylizeTensor
import StylizeNN
import StylizeModels

/// Seeded test data: Knuth's MMIX linear congruential generator, whose high bits are plenty for
/// weights and pictures that must be the same on every run.
struct TestNumbers {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    /// Uniform in [-1, 1).
    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 23) - 1
    }

    /// `offset` ± `spread`, uniformly.
    mutating func tensor(_ shape: [Int], offset: Float = 0, spread: Float) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in offset + spread * next() })
    }
}

/// Parameters at the scale a trained network has: convolutions within ±1/√fan-in (PyTorch's
/// default initialisation), normalisation scales 1 ± 0.2 and shifts ± 0.2, and a last
/// convolution that spans pixels of 0–255, as a trained one does (127 ± about 100).
func randomParameters(_ a: TransformerNetArchitecture, seed: UInt64) -> [String: Tensor] {
    var numbers = TestNumbers(seed: seed)
    let shapes = Dictionary(uniqueKeysWithValues: a.parameterShapes.map { ($0.name, $0.shape) })
    var p: [String: Tensor] = [:]
    for (name, shape) in a.parameterShapes {
        let layer = name.split(separator: ".").dropLast().joined(separator: ".")
        if layer.split(separator: ".").last!.hasPrefix("in") {
            p[name] = numbers.tensor(shape, offset: name.hasSuffix(".weight") ? 1 : 0, spread: 0.2)
        } else {
            let fanIn = shapes[layer + ".weight"]!.dropFirst().reduce(1, *)
            let last = layer == "deconv3"
            p[name] = numbers.tensor(shape, offset: last && name.hasSuffix(".bias") ? 127 : 0,
                                     spread: (last ? 100 : 1) / Float(fanIn).squareRoot())
        }
    }
    return p
}

/// What a test could not find to run with; it fails the test with the way to install it.
struct TestSetupError: Error, CustomStringConvertible {
    let description: String
}

/// The Python with onnxruntime: STYLIZE_TEST_PYTHON, by default the virtual environment that
/// scripts/install-onnxruntime.sh makes (scripts/test.sh runs it). Missing, it fails the tests.
func onnxruntimePython() throws -> String {
    let path = ProcessInfo.processInfo.environment["STYLIZE_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
        ?? NSHomeDirectory() + "/.cache/stylize/fast-anchors/bin/python"
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestSetupError(description: "no Python at \(path) (STYLIZE_TEST_PYTHON): run `bash scripts/install-onnxruntime.sh`, which scripts/test.sh runs")
    }
    return path
}

/// One run's feeds: the picture and, for several styles, the style weights.
func feeds(_ shape: [Int], styles: Int, seed: UInt64) -> [String: Tensor] {
    var numbers = TestNumbers(seed: seed)
    // Single-style networks take 0–255 pixels, conditional ones [0, 1] (see TransformerNetExport).
    let top: Float = styles == 1 ? 255 : 1
    var f = ["input": numbers.tensor(shape, offset: top / 2, spread: top / 2)]
    if styles > 1 {
        let w = (0..<styles).map { Float($0 + 1) }
        f["style_weights"] = Tensor(shape: [styles], scalars: w.map { $0 / w.reduce(0, +) })
    }
    return f
}

/// Runs the model in `folder/model.onnx` in onnxruntime on each case's feeds (scripts/run-onnxruntime.py)
/// and returns each case's outputs, with results.json's producer, opset and metadata. Given the
/// network's parameters, each case also has "reference": NumPy's output of the architecture
/// written from transformer_net.py (scripts/transformer_net_numpy.py), independent of the graph.
func runOnnxruntime(_ folder: URL, _ cases: [[String: Tensor]],
                    network: (TransformerNetArchitecture, [String: Tensor])? = nil) throws -> (outputs: [[String: Tensor]], info: [String: Any]) {
    var specs: [[String: Any]] = []
    for (i, feeds) in cases.enumerated() {
        var inputs: [[String: Any]] = []
        for (name, t) in feeds.sorted(by: { $0.key < $1.key }) {
            let file = "case\(i).\(name).f32"
            try t.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: folder.appendingPathComponent(file))
            inputs.append(["name": name, "shape": t.shape, "file": file])
        }
        specs.append(["inputs": inputs])
    }
    var spec: [String: Any] = ["model": "model.onnx", "cases": specs]
    if let (a, parameters) = network {
        var blob = Data()
        for (name, _) in a.parameterShapes { parameters[name]!.withUnsafeBufferPointer { blob.append(Data(buffer: $0)) } }
        try blob.write(to: folder.appendingPathComponent("parameters.f32"))
        spec["transformer_net"] = ["parameters": "parameters.f32", "residual_blocks": a.residualBlocks,
                                   "upsampling": a.upsampling.rawValue,
                                   "names": a.parameterShapes.map { [$0.name, $0.shape] as [Any] }]
    }
    try JSONSerialization.data(withJSONObject: spec).write(to: folder.appendingPathComponent("cases.json"))

    let p = Process()
    p.executableURL = URL(fileURLWithPath: try onnxruntimePython())
    p.arguments = [packageRoot.appendingPathComponent("scripts/run-onnxruntime.py").path, folder.path]
    let log = folder.appendingPathComponent("python.log")
    try Data().write(to: log)
    let handle = try FileHandle(forWritingTo: log)
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    p.waitUntilExit()
    try handle.close()
    guard p.terminationStatus == 0 else {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw TestSetupError(description: "onnxruntime failed (exit \(p.terminationStatus)); if it is not installed, run `bash scripts/install-onnxruntime.sh`:\n\(text)")
    }
    let info = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("results.json"))) as! [String: Any]
    let shapes = info["outputs"] as! [[String: [Int]]]
    let outputs = try shapes.enumerated().map { i, named in
        var files = named
        if network != nil { files["reference"] = named["output"] }
        return try Dictionary(uniqueKeysWithValues: files.map { name, shape in
            (name, try readFloats(folder.appendingPathComponent("case\(i).\(name).f32"), shape: shape))
        })
    }
    return (outputs, info)
}

@Suite struct TransformerNetExportTests {
    static let small = [8, 16, 32]

    func architecture(styles: Int, upsampling: UpsamplingMode = .nearest) -> TransformerNetArchitecture {
        TransformerNetArchitecture(channels: Self.small, residualBlocks: 2, styles: styles, upsampling: upsampling)
    }

    @Test func standardArchitectureHasJohnsonsParameterCount() {
        // transformer_net.py's TransformerNet() has 1,679,235 parameters.
        let shapes = TransformerNetArchitecture.standard.parameterShapes
        #expect(shapes.map { $0.shape.reduce(1, *) }.reduce(0, +) == 1_679_235)
        #expect(shapes.first?.name == "conv1.weight" && shapes.first?.shape == [32, 3, 9, 9])
        #expect(shapes.last?.name == "deconv3.bias" && shapes.last?.shape == [3])
        #expect(Set(shapes.map(\.name)).count == shapes.count)
    }

    @Test func standardNetworkExportsAndRuns() throws {
        let a = TransformerNetArchitecture.standard
        let data = try TransformerNetExport.model(architecture: a, parameters: randomParameters(a, seed: 5))
        // The weights as raw float32 and a few kilobytes of graph.
        #expect(data.count > 4 * 1_679_235 && data.count < 4 * 1_679_235 + 16_384)
        let y = try #require(try ONNXModel(serialized: data).run(feeds([1, 3, 64, 64], styles: 1, seed: 2))["output"])
        #expect(y.shape == [1, 3, 64, 64])
        #expect(y.scalars.allSatisfy { $0.isFinite })
    }

    @Test(arguments: [1, 3]) func exportedNetworkRunsAtAnySize(styles: Int) throws {
        let a = architecture(styles: styles)
        let parameters = randomParameters(a, seed: 7)
        let data = try TransformerNetExport.model(architecture: a, parameters: parameters)
        #expect(try TransformerNetExport.model(architecture: a, parameters: parameters) == data, "the bytes are reproducible")
        let model = try ONNXModel(serialized: data)
        #expect(model.inputs.map(\.name) == (styles == 1 ? ["input"] : ["input", "style_weights"]))
        #expect(model.inputs.map(\.shape) == (styles == 1 ? [[nil, 3, nil, nil]] : [[nil, 3, nil, nil], [styles]]))
        #expect(model.outputs.map(\.name) == ["output"] && model.outputs.map(\.shape) == [[nil, 3, nil, nil]])

        for shape in [[1, 3, 32, 48], [2, 3, 40, 40]] {
            let f = feeds(shape, styles: styles, seed: 11)
            let y = try #require(try model.run(f)["output"])
            #expect(y.shape == shape)
            let values = y.scalars
            #expect(values.allSatisfy { $0.isFinite })
            #expect(values.max()! - values.min()! > 0.1 * y.maxAbs, "the output varies (\(shape))")
            if shape[0] == 2 {
                // Instance statistics are per picture: the first alone gives the same first output.
                let half = f["input"]!.count / 2
                var alone = f
                alone["input"] = Tensor(shape: [1] + shape.dropFirst(), scalars: Array(f["input"]!.scalars[..<half]))
                let first = try #require(try model.run(alone)["output"])
                let reference = Tensor(shape: first.shape, scalars: Array(values[..<first.count]))
                #expect(maxAbsDifference(first, reference) <= 1e-5 * reference.maxAbs)
            }
        }
    }

    /// Stylize's executor, fused and operator by operator, against onnxruntime on the same file
    /// and feeds, and both against NumPy's float64 forward pass written from transformer_net.py
    /// (which catches a miswired graph that both executors would run alike): within 1e-4 of the
    /// output's largest magnitude. Includes a size that is no multiple of 4 (30 × 34 → 32 × 36).
    @Test(arguments: [(1, UpsamplingMode.nearest), (3, .nearest), (1, .bilinear), (3, .bilinear)])
    func matchesOnnxruntime(styles: Int, upsampling: UpsamplingMode) throws {
        let a = architecture(styles: styles, upsampling: upsampling)
        let parameters = randomParameters(a, seed: 3)
        let data = try TransformerNetExport.model(architecture: a, parameters: parameters)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stylize-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try data.write(to: folder.appendingPathComponent("model.onnx"))

        let shapes = [[1, 3, 32, 48], [2, 3, 40, 40], [1, 3, 30, 34]]
        let cases = shapes.enumerated().map { feeds($1, styles: styles, seed: 100 + UInt64($0)) }
        let (references, info) = try runOnnxruntime(folder, cases, network: (a, parameters))
        #expect(info["producer"] as? String == "stylize")
        #expect(info["opset"] as? [Int] == [TransformerNetExport.opset])
        #expect(info["metadata"] as? [String: String] == [
            "architecture": "TransformerNet", "channels": "8,16,32", "residual_blocks": "2",
            "styles": String(styles), "upsampling": upsampling.rawValue, "pixel_range": styles == 1 ? "0-255" : "0-1",
            "input": "photo",
        ])

        /// Within 1e-4 of the reference's largest magnitude.
        func close(_ y: Tensor, _ reference: Tensor, _ what: String) {
            #expect(y.shape == reference.shape, "\(what)")
            guard y.shape == reference.shape else { return }
            let error = maxAbsDifference(y, reference), scale = reference.maxAbs
            print("export, \(styles) styles, \(upsampling), \(what): max abs difference \(error), output scale \(scale)")
            #expect(error <= 1e-4 * scale, "\(what)")
        }
        let models = try [ONNXFusion.all, .none].map { ($0, try ONNXModel(serialized: data, fusion: $0)) }
        for (shape, (f, reference)) in zip(shapes, zip(cases, references)) {
            let onnxruntime = try #require(reference["output"]), numpy = try #require(reference["reference"])
            #expect(onnxruntime.shape == [shape[0], 3, (shape[2] + 3) / 4 * 4, (shape[3] + 3) / 4 * 4])
            close(onnxruntime, numpy, "\(shape) onnxruntime against NumPy")
            for (fusion, model) in models {
                let y = try #require(try model.run(f)["output"])
                close(y, onnxruntime, "\(shape) Stylize (fusion \(fusion)) against onnxruntime")
                close(y, numpy, "\(shape) Stylize (fusion \(fusion)) against NumPy")
            }
        }
    }

    @Test func badParametersAreNamed() throws {
        let a = architecture(styles: 3)
        let good = randomParameters(a, seed: 1)
        var p = good
        p["res2.in1.bias"] = nil
        #expect(throws: ExportError.missingParameter("res2.in1.bias")) { try TransformerNetExport.model(architecture: a, parameters: p) }

        p = good
        p["conv2.weight"] = Tensor(shape: [16, 8, 5, 5])
        #expect(throws: ExportError.wrongShape(parameter: "conv2.weight", expected: [16, 8, 3, 3], actual: [16, 8, 5, 5])) {
            try TransformerNetExport.model(architecture: a, parameters: p)
        }
        // A single-style row where the architecture has three styles.
        p = good
        p["in4.weight"] = Tensor(shape: [1, 16])
        #expect(throws: ExportError.wrongShape(parameter: "in4.weight", expected: [3, 16], actual: [1, 16])) {
            try TransformerNetExport.model(architecture: a, parameters: p)
        }
        p = good
        p["res3.conv1.weight"] = Tensor(shape: [32, 32, 3, 3])
        #expect(throws: ExportError.unexpectedParameter("res3.conv1.weight")) { try TransformerNetExport.model(architecture: a, parameters: p) }

        p = good
        p["deconv1.bias"] = Tensor(shape: [16], repeating: .nan)
        #expect(throws: ExportError.nonFiniteParameter("deconv1.bias")) { try TransformerNetExport.model(architecture: a, parameters: p) }

        let wrong = TransformerNetArchitecture(channels: [8, 16], residualBlocks: 2, styles: 1)
        #expect(throws: ExportError.invalidArchitecture("channels must be three numbers, got [8, 16]")) {
            try TransformerNetExport.model(architecture: wrong, parameters: good)
        }

        let message = ExportError.wrongShape(parameter: "conv2.weight", expected: [16, 8, 3, 3], actual: [16, 8, 5, 5]).description
        #expect(message.contains("conv2.weight") && message.contains("[16, 8, 3, 3]") && message.contains("[16, 8, 5, 5]"))
    }
}
