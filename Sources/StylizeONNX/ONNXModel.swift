import Foundation
import StylizeIO
import StylizeTensor

/// An ONNX network read from a file, validated, and ready to run on the CPU.
///
/// Loading checks every node: an operator or attribute the executor does not implement is refused
/// with its name and the node's, before anything runs. Shapes follow the feeds at run time, so a
/// fully convolutional network runs at any height and width; compiled kernels are cached per
/// input shape, which makes repeated runs at one size cheaper than the first.
///
/// Runs are serialized by a lock: call `run` from any thread, one run executes at a time.
public final class ONNXModel: @unchecked Sendable {
    /// A graph input or output: its name and shape (`nil` for a symbolic dimension).
    public struct ValueInfo: Sendable, Equatable {
        public let name: String
        public let shape: [Int?]
    }

    /// Graph inputs that are not initializers, in the file's order.
    public let inputs: [ValueInfo]
    /// Graph outputs, in the file's order.
    public let outputs: [ValueInfo]
    /// The file's metadata_props (key → value), e.g. what `TransformerNetExport` writes.
    public let metadata: [String: String]

    private let graph: Graph
    private let context: ExecutionContext
    private let lock = NSLock()

    /// Whether this CPU runs the int8 convolutions of quantized (QDQ) networks in exact integer
    /// arithmetic, as onnxruntime's QLinearConv defines them: with AVX-512 VNNI, and with SSE4.1
    /// or AVX2 (weights split to 7 bits, twice the multiply-adds). Elsewhere they run in float,
    /// whose sums now and then round an output code the other way. oneDNN's ONEDNN_MAX_CPU_ISA
    /// counts.
    public static var quantizedConvolutionsAreExact: Bool { QuantizedConvKernel.sumsOnThisCPU != .none }

    /// How the int8 convolutions run here, in a few words (for `stylize info`).
    public static var quantizedConvolutionPath: String {
        switch QuantizedConvKernel.sumsOnThisCPU {
        case .vnni: "exact int32 sums on oneDNN's u8×s8 VNNI kernels"
        case .pairsOf7BitWeights: "exact int32 sums on oneDNN's u8×s8 kernels, weights split to 7 bits (no VNNI: twice the multiply-adds)"
        case .none: "float convolutions (no SSE4.1)"
        }
    }

    /// Operator set versions this executor follows (the default domain).
    static let supportedOpsets = 7...21

    /// Reads, validates and prepares the model in `url`.
    ///
    /// - Parameter anyPictureSize: treat the height and width of picture inputs and outputs
    ///   (4-D, NCHW or NHWC with at most 4 channels, at least 8 pixels each way) as free: for fully convolutional networks
    ///   whose file nevertheless fixes one size, as TensorFlow Lite conversions do (the int8
    ///   arbitrary-style transform declares 384×384). `inputs` and `outputs` then show those
    ///   dimensions as `nil`, and `run` accepts any size there.
    /// - Parameter fusion: which fusions the graph gets (all by default; fewer to compare).
    public convenience init(contentsOf url: URL, anyPictureSize: Bool = false, fusion: ONNXFusion = .all) throws(ONNXError) {
        let data: Data
        do {
            data = Data(try readRegularFile(url.path))
        } catch {
            throw .io(path: url.path, "cannot read: \(error)")
        }
        try self.init(serialized: data, anyPictureSize: anyPictureSize, fusion: fusion)
    }

    /// Reads, validates and prepares a model from its protobuf bytes (`anyPictureSize` and
    /// `fusion` as for `init(contentsOf:anyPictureSize:fusion:)`).
    public init(serialized data: Data, anyPictureSize: Bool = false, fusion: ONNXFusion = .all) throws(ONNXError) {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw .malformed("not an ONNX protobuf (\(error))")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else { throw .malformed("the model has no graph") }
        for o in model.opsetImport where o.domain.isEmpty || o.domain == "ai.onnx" {
            guard Self.supportedOpsets.contains(Int(o.version)) else {
                throw .malformed("operator set \(o.version) is outside the supported \(Self.supportedOpsets)")
            }
        }
        for n in model.graph.node where !(n.domain.isEmpty || n.domain == "ai.onnx") {
            throw .unsupportedOperator("\(n.domain).\(n.opType)", node: n.name)
        }
        context = ExecutionContext()
        graph = try Graph(model.graph, fusion: fusion, context: context)
        let initializers = Set(model.graph.initializer.map(\.name))
        let picture = anyPictureSize ? Self.freeingPictureSize : { $0 }
        inputs = model.graph.input.filter { !initializers.contains($0.name) }.map(Self.info).map(picture)
        outputs = model.graph.output.map(Self.info).map(picture)
        metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// `v` with the height and width made symbolic if it is a picture: [N, H, W, C] or
    /// [N, C, H, W] with C of 1 to 4 and H, W of at least 8 (a [1, 1, 1, 100] vector is not one).
    private static func freeingPictureSize(_ v: ValueInfo) -> ValueInfo {
        guard v.shape.count == 4 else { return v }
        func channels(_ d: Int?) -> Bool { d.map { (1...4).contains($0) } ?? false }
        func spatial(_ d: Int?) -> Bool { d.map { $0 >= 8 } ?? true }
        var shape = v.shape
        if channels(shape[3]), spatial(shape[1]), spatial(shape[2]) {
            shape[1] = nil; shape[2] = nil
        } else if channels(shape[1]), spatial(shape[2]), spatial(shape[3]) {
            shape[2] = nil; shape[3] = nil
        }
        return ValueInfo(name: v.name, shape: shape)
    }

    private static func info(_ v: Onnx_ValueInfoProto) -> ValueInfo {
        let dims = v.type.tensorType.shape.dim.map { d -> Int? in
            if case let .dimValue(x)? = d.value, x > 0 { return Int(x) }
            return nil
        }
        return ValueInfo(name: v.name, shape: dims)
    }

    /// Runs the graph on float32 feeds named as the model's inputs (shapes as in the model, e.g.
    /// NCHW [1, 3, H, W] or NHWC [1, H, W, 3]) and returns every graph output by name.
    public func run(_ feeds: [String: Tensor]) throws(ONNXError) -> [String: Tensor] {
        var bySlot: [Int: Value] = [:]
        for (name, slot) in graph.inputSlots {
            guard let t = feeds[name] else { throw .missingInput(name) }
            if let info = inputs.first(where: { $0.name == name }), !info.shape.isEmpty || t.shape.isEmpty {
                let fits = info.shape.count == t.shape.count
                    && zip(info.shape, t.shape).allSatisfy { $0.0 == nil || $0.0 == $0.1 }
                guard fits else {
                    let want = info.shape.map { $0.map(String.init) ?? "?" }.joined(separator: "×")
                    throw .shapeMismatch("input '\(name)' has shape \(t.shape), the model expects \(want)")
                }
            }
            bySlot[slot] = Value(floats: t)
        }
        if let extra = feeds.keys.sorted().first(where: { k in !graph.inputSlots.contains { $0.name == k } }) {
            throw .missingInput("the model has no input named '\(extra)'")
        }
        lock.lock()
        defer { lock.unlock() }
        let results = try graph.run(bySlot, context)
        var out: [String: Tensor] = [:]
        for (name, slot) in graph.outputSlots { out[name] = results[slot]!.tensor }
        return out
    }
}
