import Foundation
import StylizeTensor

/// Turns a TensorProto (an initializer or a Constant's value) into a `Value`, checking that the
/// data fills the declared shape exactly.
enum TensorDecoding {
    static func value(_ t: Onnx_TensorProto, what: String) throws(ONNXError) -> Value {
        if t.hasDataLocation, t.dataLocation == .external {
            throw .malformed("tensor '\(what)' keeps its data in an external file, which is not supported")
        }
        guard let type = ElementType(rawValue: Int(t.dataType)) else {
            throw .malformed("tensor '\(what)' has unsupported element type \(t.dataType)")
        }
        var shape = [Int]()
        var count = 1
        for d in t.dims {
            guard d >= 0, d < 1 << 31 else { throw .malformed("tensor '\(what)' has dimension \(d)") }
            shape.append(Int(d))
            count = count.multipliedReportingOverflow(by: Int(d)).partialValue
            guard count < 1 << 32 else { throw .malformed("tensor '\(what)' is too large") }
        }
        let raw = t.rawData
        func checkCount(_ n: Int) throws(ONNXError) {
            guard n == count else {
                throw .malformed("tensor '\(what)' of shape \(shape) holds \(n) values instead of \(count)")
            }
        }
        func rawValues<T>(_ type: T.Type) throws(ONNXError) -> [T] {
            let size = MemoryLayout<T>.size
            guard raw.count == count * size else {
                throw .malformed("tensor '\(what)' of shape \(shape) has \(raw.count) bytes of data, expected \(count * size)")
            }
            // Data is little-endian per the ONNX spec, as this platform is; copy to respect alignment.
            return [T](unsafeUninitializedCapacity: count) { buffer, n in
                _ = raw.copyBytes(to: UnsafeMutableRawBufferPointer(buffer))
                n = count
            }
        }
        let useRaw = t.hasRawData
        switch type {
        case .float, .double:
            var floats: [Float]
            if type == .float {
                floats = useRaw ? try rawValues(Float.self) : t.floatData
            } else {
                floats = (useRaw ? try rawValues(Double.self) : t.doubleData).map { Float($0) }
            }
            try checkCount(floats.count)
            // NaN is never a meaningful weight; ±∞ can be (Clip bounds, attention masks).
            if floats.contains(where: \.isNaN) { throw .malformed("tensor '\(what)' holds NaN values") }
            return Value(floats: Tensor(shape: shape, scalars: floats))
        case .int8, .uint8:
            let ints: [Int]
            if useRaw {
                ints = type == .int8 ? try rawValues(Int8.self).map { Int($0) } : try rawValues(UInt8.self).map { Int($0) }
            } else {
                ints = t.int32Data.map { Int($0) }
            }
            try checkCount(ints.count)
            return Value(floats: Tensor(shape: shape, scalars: ints.map { Float($0) }), type: type)
        case .int32, .bool:
            let ints: [Int]
            if useRaw {
                ints = type == .int32 ? try rawValues(Int32.self).map { Int($0) } : try rawValues(UInt8.self).map { Int($0) }
            } else {
                ints = t.int32Data.map { Int($0) }
            }
            try checkCount(ints.count)
            return Value(ints: ints, shape: shape, type: type)
        case .int64:
            let ints = useRaw ? try rawValues(Int64.self).map { Int($0) } : t.int64Data.map { Int($0) }
            try checkCount(ints.count)
            return Value(ints: ints, shape: shape, type: .int64)
        }
    }
}
