import Foundation
import SwiftProtobuf
import StylizeTensor

/// A small writer over the generated protobuf types: initializers, nodes with attributes, and
/// inputs and outputs whose dimensions may be symbolic. Exporters describe their network with it
/// and get the file's bytes back from `serialized`.
///
/// Attributes are given in a fixed order and every name is chosen by the caller, so the same
/// network always serializes to the same bytes (a file can be compared or hashed).
struct ONNXGraphBuilder {
    /// A dimension of a graph input or output.
    enum Dimension {
        case fixed(Int)
        /// Named, so that a reader sees which dimensions must agree (ONNX's dim_param).
        case symbolic(String)
    }

    /// An attribute's value, in the types the exporters need.
    enum Attribute {
        case int(Int)
        case ints([Int])
        case float(Float)
        case string(String)
    }

    private var graph = Onnx_GraphProto()
    private var initializerNames: Set<String> = []

    init(name: String) { graph.name = name }

    /// Adds a float32 initializer (stored little-endian in raw_data, as the spec asks).
    mutating func addInitializer(_ name: String, _ tensor: Tensor) {
        var t = header(name, shape: tensor.shape, type: .float)
        t.rawData = tensor.withUnsafeBufferPointer { Data(buffer: $0) }
        append(t)
    }

    /// Adds an int64 initializer (pads, shapes).
    mutating func addInitializer(_ name: String, int64s values: [Int], shape: [Int]) {
        var t = header(name, shape: shape, type: .int64)
        t.rawData = values.map { Int64($0).littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
        append(t)
    }

    /// Whether an initializer of this name exists (shared constants are added once).
    func hasInitializer(_ name: String) -> Bool { initializerNames.contains(name) }

    mutating func addInput(_ name: String, _ dims: [Dimension]) { graph.input.append(valueInfo(name, dims)) }

    mutating func addOutput(_ name: String, _ dims: [Dimension]) { graph.output.append(valueInfo(name, dims)) }

    /// Adds a node with one output, named `output` (the node takes the same name), and returns
    /// that name for the next node to read.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], output: String,
                       attributes: KeyValuePairs<String, Attribute> = [:]) -> String {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = output
        n.input = inputs
        n.output = [output]
        n.attribute = attributes.map { Self.attribute($0.key, $0.value) }
        graph.node.append(n)
        return output
    }

    /// The model's protobuf bytes.
    func serialized(opset: Int, irVersion: Int, docString: String, metadata: KeyValuePairs<String, String>) throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = Int64(irVersion)
        model.producerName = "stylize"
        model.docString = docString
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = Int64(opset)
        model.opsetImport = [set]
        model.metadataProps = metadata.map { entry in
            var e = Onnx_StringStringEntryProto()
            e.key = entry.key
            e.value = entry.value
            return e
        }
        model.graph = graph
        return try model.serializedData()
    }

    private func header(_ name: String, shape: [Int], type: Onnx_TensorProto.DataType) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(type.rawValue)
        return t
    }

    private mutating func append(_ t: Onnx_TensorProto) {
        precondition(initializerNames.insert(t.name).inserted, "initializer \(t.name) added twice")
        graph.initializer.append(t)
    }

    private func valueInfo(_ name: String, _ dims: [Dimension]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case let .fixed(n): dim.dimValue = Int64(n)
            case let .symbolic(s): dim.dimParam = s
            }
            return dim
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.shape = shape
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.type.tensorType = tensor
        return v
    }

    private static func attribute(_ name: String, _ value: Attribute) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        switch value {
        case let .int(i): a.type = .int; a.i = Int64(i)
        case let .ints(v): a.type = .ints; a.ints = v.map(Int64.init)
        case let .float(f): a.type = .float; a.f = f
        case let .string(s): a.type = .string; a.s = Data(s.utf8)
        }
        return a
    }
}
