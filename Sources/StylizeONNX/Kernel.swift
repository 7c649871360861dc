import StylizeTensor

/// What kernels share while a graph runs: oneDNN's engine and stream.
final class ExecutionContext {
    let dnnl = DNNLContext()
}

/// One node's computation, built at load from the node's attributes (which it validates) and
/// run with the node's inputs (nil entries for omitted optional inputs). Kernels may cache work that
/// depends on input shapes (compiled oneDNN primitives, reordered weights) between runs.
protocol Kernel: AnyObject {
    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value]
}

/// Helpers for reading a kernel's inputs with node-named errors.
struct KernelInputs {
    let values: [Value?]
    let op: String
    let node: String

    func required(_ i: Int) throws(ONNXError) -> Value {
        guard i < values.count, let v = values[i] else { throw .missingInput("input \(i) of \(op) node '\(node)'") }
        return v
    }

    func optional(_ i: Int) -> Value? { i < values.count ? values[i] : nil }

    func floatTensor(_ i: Int) throws(ONNXError) -> Tensor {
        let v = try required(i)
        guard v.type.isFloatCoded else { throw .malformed("input \(i) of \(op) node '\(node)' is \(v.type), expected float") }
        return v.tensor
    }

    func integers(_ i: Int) throws(ONNXError) -> [Int] {
        try required(i).integers("input \(i) of \(op) node '\(node)'")
    }
}
