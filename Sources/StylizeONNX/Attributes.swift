/// A node's attributes, read by its kernel at load. Every attribute the kernel does not read is
/// refused afterwards (`checkAllRead`), so a model using an option this executor ignores is
/// rejected by name instead of silently computing something else.
final class Attributes {
    let op: String
    let node: String
    private var byName: [String: Onnx_AttributeProto] = [:]
    private var read: Set<String> = []

    init(_ proto: Onnx_NodeProto) throws(ONNXError) {
        op = proto.opType
        node = proto.name.isEmpty ? (proto.output.first ?? "?") : proto.name
        for a in proto.attribute {
            guard byName[a.name] == nil else { throw .malformed("node '\(node)' repeats attribute \(a.name)") }
            byName[a.name] = a
        }
    }

    func has(_ name: String) -> Bool { byName[name] != nil }

    func unsupported(_ name: String, _ detail: String? = nil) -> ONNXError {
        .unsupportedAttribute(op: op, attribute: detail.map { "\(name)=\($0)" } ?? name, node: node)
    }

    private func get(_ name: String, _ type: Onnx_AttributeProto.AttributeType) throws(ONNXError) -> Onnx_AttributeProto? {
        guard let a = byName[name] else { return nil }
        read.insert(name)
        // Old exporters leave `type` unset; accept that when the expected field is the one filled.
        if a.hasType, a.type != type {
            throw .malformed("attribute \(name) of node '\(node)' has type \(a.type), expected \(type)")
        }
        return a
    }

    func int(_ name: String, default value: Int) throws(ONNXError) -> Int {
        guard let a = try get(name, .int) else { return value }
        return Int(a.i)
    }

    func float(_ name: String, default value: Float) throws(ONNXError) -> Float {
        guard let a = try get(name, .float) else { return value }
        return a.f
    }

    func string(_ name: String, default value: String) throws(ONNXError) -> String {
        guard let a = try get(name, .string) else { return value }
        return String(decoding: a.s, as: UTF8.self)
    }

    func ints(_ name: String) throws(ONNXError) -> [Int]? {
        guard let a = try get(name, .ints) else { return nil }
        return a.ints.map { Int($0) }
    }

    func floats(_ name: String) throws(ONNXError) -> [Float]? {
        guard let a = try get(name, .floats) else { return nil }
        return a.floats
    }

    func tensor(_ name: String) throws(ONNXError) -> Onnx_TensorProto? {
        guard let a = try get(name, .tensor) else { return nil }
        return a.t
    }

    /// Marks attributes whose value does not matter for the computation (e.g. Resize's
    /// cubic_coeff_a when the mode is nearest) as read.
    func ignore(_ names: String...) { for n in names where byName[n] != nil { read.insert(n) } }

    /// Refuses the first attribute the kernel did not read.
    func checkAllRead() throws(ONNXError) {
        if let name = byName.keys.sorted().first(where: { !read.contains($0) }) {
            throw unsupported(name)
        }
    }
}
