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
        /// Float32 in channels-last order (N×H×W×C for a logical N×C×H×W `shape`; the storage may
        /// be larger than the value), as fused convolution blocks hand activations to each other.
        /// Kernels that read planes get them from `tensor`, which converts.
        case channelsLast(TensorStorage)
        /// 8-bit codes in channels-last order (N×H×W×C bytes, in a float storage's memory), as a
        /// quantized convolution hands its output to quantized convolutions that read the same
        /// grid: value = (byte − zeroByte)·scale. Saves the dequantize-to-float and
        /// requantize-to-u8 passes between them; `tensor` dequantizes for any other reader.
        case codes(TensorStorage, scale: Float, zeroByte: Float)
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

    init(channelsLast storage: TensorStorage, shape: [Int]) {
        precondition(shape.count == 4 && shape.reduce(1, *) <= storage.count)
        type = .float
        self.shape = shape
        self.storage = .channelsLast(storage)
    }

    init(codes storage: TensorStorage, shape: [Int], scale: Float, zeroByte: Float) {
        precondition(shape.count == 4 && shape.reduce(1, *) <= storage.count * MemoryLayout<Float>.size)
        type = .float
        self.shape = shape
        self.storage = .codes(storage, scale: scale, zeroByte: zeroByte)
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
        case let .channelsLast(s): return Value.planes(s.pointer, shape)
        case let .codes(s, scale, zeroByte):
            // DequantizeLinear's (code − zero)·scale, in its order.
            let n = count
            let bytes = UnsafeRawPointer(s.pointer).bindMemory(to: UInt8.self, capacity: n)
            let floats = TensorStorage(count: n)
            for i in 0..<n { floats.pointer[i] = (Float(bytes[i]) - zeroByte) * scale }
            return Value.planes(floats.pointer, shape)
        }
    }

    /// N×H×W×C → N×C×H×W, in tiles of 64 pixels so that the interleaved rows stay in cache.
    private static func planes(_ p: UnsafePointer<Float>, _ shape: [Int]) -> Tensor {
        let (n, c, pixels) = (shape[0], shape[1], shape[2] * shape[3])
        let out = Tensor(shape: shape)
        for s in 0..<n {
            let src = p + s * pixels * c, dst = out.storage.pointer + s * pixels * c
            for p0 in stride(from: 0, to: pixels, by: 64) {
                for ch in 0..<c {
                    let q = dst + ch * pixels
                    for i in p0..<min(p0 + 64, pixels) { q[i] = src[i * c + ch] }
                }
            }
        }
        return out
    }

    /// The elements as integers (floats truncated toward zero, as Cast does).
    func integers(_ what: @autoclosure () -> String) throws(ONNXError) -> [Int] {
        switch storage {
        case let .ints(v): return v
        case .floats, .channelsLast, .codes:
            let t = tensor
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
        switch storage {
        case let .floats(t): v.storage = .floats(t.reshaped(newShape))
        case .channelsLast, .codes: v.storage = .floats(tensor.reshaped(newShape))
        case .ints: break
        }
        return v
    }
}
