import StylizeTensor

/// ONNX element types the executor knows (TensorProto.DataType numbering).
enum ElementType: Int, Sendable, CustomStringConvertible {
    case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, bool = 9, double = 11

    /// Whether values of this type travel as float32 (`Value.floats`). int8 and uint8 do: their
    /// every value is exact in float32, so quantized activations can flow through Transpose and
    /// Reshape and be dequantized by a float multiply-add. int32 (quantized biases, up to 2³¹) and
    /// int64 (shapes, indices) would lose digits, so they stay integers.
    var isFloatCoded: Bool { self == .float || self == .int8 || self == .uint8 || self == .double }

    var description: String {
        switch self {
        case .float: "float"
        case .uint8: "uint8"
        case .int8: "int8"
        case .int32: "int32"
        case .int64: "int64"
        case .bool: "bool"
        case .double: "double"
        }
    }
}

/// One tensor flowing through the graph: float-coded data in a `Tensor`, or integers.
struct Value {
    enum Storage {
        case floats(Tensor)
        case ints([Int])
    }

    var type: ElementType
    var shape: [Int]
    var storage: Storage

    var count: Int { shape.reduce(1, *) }

    init(floats tensor: Tensor, type: ElementType = .float) {
        self.type = type
        shape = tensor.shape
        storage = .floats(tensor)
    }

    init(ints: [Int], shape: [Int], type: ElementType = .int64) {
        self.type = type
        self.shape = shape
        storage = .ints(ints)
    }

    /// The elements as float32 (integers converted).
    var tensor: Tensor {
        switch storage {
        case let .floats(t): return t.shape == shape ? t : t.reshaped(shape)
        case let .ints(v): return Tensor(shape: shape, scalars: v.map { Float($0) })
        }
    }

    /// The elements as integers (floats truncated toward zero, as Cast does).
    func integers(_ what: @autoclosure () -> String) throws(ONNXError) -> [Int] {
        switch storage {
        case let .ints(v): return v
        case let .floats(t):
            var out = [Int]()
            out.reserveCapacity(t.count)
            for x in t.withUnsafeBufferPointer({ Array($0) }) {
                guard x.isFinite, abs(x) < 9e18 else { throw .malformed("\(what()): non-finite or huge value \(x) where an integer is expected") }
                out.append(Int(x))
            }
            return out
        }
    }

    /// The same elements under another shape.
    func reshaped(_ newShape: [Int]) -> Value {
        var v = self
        v.shape = newShape
        if case let .floats(t) = storage { v.storage = .floats(t.reshaped(newShape)) }
        return v
    }
}
