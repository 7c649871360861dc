import StylizeTensor

extension Value {
    /// A value of the same type made of this one's elements at `indices` (row-major source
    /// offsets), laid out in `shape`. Data movement for Transpose, Slice, Gather, Concat.
    func picking(_ indices: [Int], shape: [Int]) -> Value {
        switch storage {
        case .floats, .channelsLast, .codes:
            let t = tensor
            let out = Tensor(shape: shape)
            let p = t.storage.pointer, q = out.storage.pointer
            for (i, k) in indices.enumerated() { q[i] = p[k] }
            return Value(floats: out, type: type)
        case let .ints(v):
            return Value(ints: indices.map { v[$0] }, shape: shape, type: type)
        }
    }
}

/// Row-major strides of a shape.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    for i in stride(from: shape.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * shape[i + 1] }
    return s
}

/// Calls body(outputIndex, multiIndex) over a shape in row-major order.
func forEachIndex(_ shape: [Int], _ body: (Int, [Int]) -> Void) {
    let n = shape.reduce(1, *)
    guard n > 0 else { return }
    var index = [Int](repeating: 0, count: shape.count)
    for i in 0..<n {
        body(i, index)
        var d = shape.count - 1
        while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
    }
}

func normalizedAxis(_ axis: Int, rank: Int, _ what: @autoclosure () -> String) throws(ONNXError) -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else { throw .shapeMismatch("\(what()): axis \(axis) out of range for rank \(rank)") }
    return a
}

/// Constant: its value attribute (tensor or the scalar/list shorthands).
final class ConstantKernel: Kernel {
    let value: Value

    init(_ a: Attributes) throws(ONNXError) {
        if let t = try a.tensor("value") {
            value = try TensorDecoding.value(t, what: "value of Constant '\(a.node)'")
        } else if a.has("value_float") {
            value = Value(floats: Tensor(shape: [], scalars: [try a.float("value_float", default: 0)]))
        } else if a.has("value_int") {
            value = Value(ints: [try a.int("value_int", default: 0)], shape: [])
        } else if let v = try a.ints("value_ints") {
            value = Value(ints: v, shape: [v.count])
        } else {
            for name in ["sparse_value", "value_floats", "value_string", "value_strings"] where a.has(name) {
                throw a.unsupported(name)
            }
            throw .malformed("Constant '\(a.node)' has no value")
        }
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] { [value] }
}

/// ConstantOfShape: a tensor of the given shape filled with one value (float 0 by default).
final class ConstantOfShapeKernel: Kernel {
    let fill: Value

    init(_ a: Attributes) throws(ONNXError) {
        if let t = try a.tensor("value") {
            fill = try TensorDecoding.value(t, what: "value of ConstantOfShape '\(a.node)'")
            guard fill.count == 1 else { throw .malformed("ConstantOfShape '\(a.node)' value must hold one element") }
        } else {
            fill = Value(floats: Tensor(shape: [1], scalars: [0]))
        }
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let shape = try inputs.integers(0)
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) < 1 << 31 else {
            throw .shapeMismatch("ConstantOfShape '\(inputs.node)': shape \(shape)")
        }
        return [fill.picking(Array(repeating: 0, count: shape.reduce(1, *)), shape: shape)]
    }
}

/// Shape: the input's dimensions as int64 (with the optional start/end window).
final class ShapeKernel: Kernel {
    let start: Int, end: Int?

    init(_ a: Attributes) throws(ONNXError) {
        start = try a.int("start", default: 0)
        end = a.has("end") ? try a.int("end", default: 0) : nil
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let s = try inputs.required(0).shape
        let r = s.count
        let lo = min(max(start < 0 ? start + r : start, 0), r)
        let hi = min(max(end.map { $0 < 0 ? $0 + r : $0 } ?? r, lo), r)
        let dims = Array(s[lo..<hi])
        return [Value(ints: dims, shape: [dims.count])]
    }
}

/// Reshape, with 0 (copy the input's dimension, unless allowzero) and -1 (inferred).
final class ReshapeKernel: Kernel {
    let allowZero: Bool

    init(_ a: Attributes) throws(ONNXError) { allowZero = try a.int("allowzero", default: 0) != 0 }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.required(0)
        let spec = try inputs.integers(1)
        var shape = [Int]()
        var inferred: Int?
        for (i, d) in spec.enumerated() {
            if d == -1, inferred == nil { inferred = i; shape.append(1) }
            else if d == 0, !allowZero {
                guard i < x.shape.count else { throw .shapeMismatch("Reshape '\(inputs.node)': 0 at \(i) for input \(x.shape)") }
                shape.append(x.shape[i])
            } else if d >= 0 { shape.append(d) }
            else { throw .shapeMismatch("Reshape '\(inputs.node)': target \(spec)") }
        }
        let known = shape.reduce(1, *)
        if let i = inferred {
            guard known > 0, x.count % known == 0 else { throw .shapeMismatch("Reshape '\(inputs.node)': \(x.shape) to \(spec)") }
            shape[i] = x.count / known
        }
        guard shape.reduce(1, *) == x.count else { throw .shapeMismatch("Reshape '\(inputs.node)': \(x.shape) to \(spec)") }
        return [x.reshaped(shape)]
    }
}

/// Flatten to 2-D at `axis`.
final class FlattenKernel: Kernel {
    let axis: Int

    init(_ a: Attributes) throws(ONNXError) { axis = try a.int("axis", default: 1) }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.required(0)
        let r = x.shape.count
        let a = axis < 0 ? axis + r : axis
        guard a >= 0, a <= r else { throw .shapeMismatch("Flatten '\(inputs.node)': axis \(axis) for \(x.shape)") }
        let outer = x.shape[..<a].reduce(1, *)
        return [x.reshaped([outer, x.count / max(outer, 1)])]
    }
}

/// Unsqueeze and Squeeze (axes as attribute before opset 13, as input after).
final class SqueezeKernel: Kernel {
    let unsqueeze: Bool
    let axesAttribute: [Int]?

    init(_ a: Attributes, unsqueeze: Bool) throws(ONNXError) {
        self.unsqueeze = unsqueeze
        axesAttribute = try a.ints("axes")
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.required(0)
        var axes = axesAttribute
        if axes == nil, inputs.optional(1) != nil { axes = try inputs.integers(1) }
        if unsqueeze {
            guard let axes else { throw .missingInput("axes of Unsqueeze '\(inputs.node)'") }
            let r = x.shape.count + axes.count
            var shape = [Int?](repeating: nil, count: r)
            for a in axes {
                let k = try normalizedAxis(a, rank: r, "Unsqueeze '\(inputs.node)'")
                guard shape[k] == nil else { throw .shapeMismatch("Unsqueeze '\(inputs.node)' repeats axis \(a)") }
                shape[k] = 1
            }
            var rest = x.shape.makeIterator()
            return [x.reshaped(shape.map { $0 ?? rest.next()! })]
        }
        let r = x.shape.count
        var drop = Set<Int>()
        if let axes {
            for a in axes {
                let k = try normalizedAxis(a, rank: r, "Squeeze '\(inputs.node)'")
                guard x.shape[k] == 1 else { throw .shapeMismatch("Squeeze '\(inputs.node)': dimension \(a) of \(x.shape) is not 1") }
                drop.insert(k)
            }
        } else {
            drop = Set(x.shape.indices.filter { x.shape[$0] == 1 })
        }
        return [x.reshaped(x.shape.indices.filter { !drop.contains($0) }.map { x.shape[$0] })]
    }
}

/// Concat along an axis.
final class ConcatKernel: Kernel {
    let axis: Int

    init(_ a: Attributes) throws(ONNXError) { axis = try a.int("axis", default: 0) }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let parts = inputs.values.compactMap { $0 }
        guard let first = parts.first else { throw .missingInput("inputs of Concat '\(inputs.node)'") }
        let r = first.shape.count
        let a = try normalizedAxis(axis, rank: r, "Concat '\(inputs.node)'")
        var shape = first.shape
        shape[a] = 0
        for p in parts {
            guard p.shape.count == r, p.type.isFloatCoded == first.type.isFloatCoded,
                  p.shape.indices.allSatisfy({ $0 == a || p.shape[$0] == first.shape[$0] }) else {
                throw .shapeMismatch("Concat '\(inputs.node)': \(parts.map(\.shape)) along axis \(axis)")
            }
            shape[a] += p.shape[a]
        }
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        switch first.storage {
        case .floats, .channelsLast, .codes:
            let out = Tensor(shape: shape)
            var offset = 0
            for p in parts {
                let t = p.tensor, run = p.shape[a] * inner
                for o in 0..<outer {
                    (out.storage.pointer + o * shape[a] * inner + offset).update(from: t.storage.pointer + o * run, count: run)
                }
                offset += run
            }
            return [Value(floats: out, type: first.type)]
        case .ints:
            var out = [Int](repeating: 0, count: shape.reduce(1, *))
            var offset = 0
            for p in parts {
                let v = try p.integers("Concat"), run = p.shape[a] * inner
                for o in 0..<outer { for i in 0..<run { out[o * shape[a] * inner + offset + i] = v[o * run + i] } }
                offset += run
            }
            return [Value(ints: out, shape: shape, type: first.type)]
        }
    }
}

/// Slice (starts/ends/axes/steps as inputs from opset 10, attributes before).
final class SliceKernel: Kernel {
    let attributeStarts: [Int]?, attributeEnds: [Int]?, attributeAxes: [Int]?

    init(_ a: Attributes) throws(ONNXError) {
        attributeStarts = try a.ints("starts")
        attributeEnds = try a.ints("ends")
        attributeAxes = try a.ints("axes")
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.required(0)
        let r = x.shape.count
        let legacy = attributeStarts != nil
        let starts = legacy ? attributeStarts! : try inputs.integers(1)
        let ends = legacy ? (attributeEnds ?? []) : try inputs.integers(2)
        var axes = Array(0..<starts.count)
        if legacy { axes = attributeAxes ?? axes } else if inputs.optional(3) != nil { axes = try inputs.integers(3) }
        var steps = Array(repeating: 1, count: starts.count)
        if !legacy, inputs.optional(4) != nil { steps = try inputs.integers(4) }
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw .shapeMismatch("Slice '\(inputs.node)': starts \(starts), ends \(ends), axes \(axes), steps \(steps)")
        }
        var begin = [Int](repeating: 0, count: r), step = [Int](repeating: 1, count: r), shape = x.shape
        for (i, axis) in axes.enumerated() {
            let a = try normalizedAxis(axis, rank: r, "Slice '\(inputs.node)'")
            let d = x.shape[a], s = steps[i]
            guard s != 0 else { throw .shapeMismatch("Slice '\(inputs.node)': step 0") }
            var lo = starts[i] < 0 ? starts[i] + d : starts[i]
            var hi = ends[i] < 0 ? ends[i] + d : ends[i]
            if s > 0 {
                lo = min(max(lo, 0), d); hi = min(max(hi, 0), d)
                shape[a] = max(0, (hi - lo + s - 1) / s)
            } else {
                lo = min(max(lo, -1), d - 1); hi = min(max(hi, -1), d - 1)
                shape[a] = max(0, (lo - hi + (-s) - 1) / (-s))
            }
            begin[a] = lo; step[a] = s
        }
        let strides = rowMajorStrides(x.shape)
        var indices = [Int]()
        indices.reserveCapacity(shape.reduce(1, *))
        forEachIndex(shape) { _, idx in
            var k = 0
            for d in 0..<r { k += (begin[d] + idx[d] * step[d]) * strides[d] }
            indices.append(k)
        }
        return [x.picking(indices, shape: shape)]
    }
}

/// Transpose by a permutation (reversed dimensions by default).
final class TransposeKernel: Kernel {
    let perm: [Int]?

    init(_ a: Attributes) throws(ONNXError) { perm = try a.ints("perm") }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.required(0)
        let r = x.shape.count
        let p = perm ?? Array((0..<r).reversed())
        guard p.count == r, Set(p) == Set(0..<r) else { throw .shapeMismatch("Transpose '\(inputs.node)': perm \(p) for \(x.shape)") }
        let shape = p.map { x.shape[$0] }
        let strides = rowMajorStrides(x.shape)
        let permuted = p.map { strides[$0] }
        if r == 4, case let .floats(t) = x.storage {
            // Image layout changes (NHWC ↔ NCHW) on large tensors: plain nested loops, no index array.
            let out = context.recycledTensor(shape)  // every value is written
            let src = t.storage.pointer, dst = out.storage.pointer
            var o = 0
            for a in 0..<shape[0] { for b in 0..<shape[1] { for c in 0..<shape[2] {
                let base = a * permuted[0] + b * permuted[1] + c * permuted[2], s3 = permuted[3]
                for d in 0..<shape[3] { dst[o] = src[base + d * s3]; o += 1 }
            } } }
            return [Value(floats: out, type: x.type)]
        }
        var indices = [Int]()
        indices.reserveCapacity(x.count)
        forEachIndex(shape) { _, idx in
            var k = 0
            for d in 0..<r { k += idx[d] * permuted[d] }
            indices.append(k)
        }
        return [x.picking(indices, shape: shape)]
    }
}

/// Gather along an axis with integer indices (negative counted from the end).
final class GatherKernel: Kernel {
    let axis: Int

    init(_ a: Attributes) throws(ONNXError) { axis = try a.int("axis", default: 0) }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.required(0)
        let idxValue = try inputs.required(1)
        let idx = try idxValue.integers("indices of Gather '\(inputs.node)'")
        let r = x.shape.count
        let a = try normalizedAxis(axis, rank: r, "Gather '\(inputs.node)'")
        let d = x.shape[a]
        let outer = x.shape[..<a].reduce(1, *), inner = x.shape[(a + 1)...].reduce(1, *)
        var indices = [Int]()
        for o in 0..<outer {
            for i in idx {
                let k = i < 0 ? i + d : i
                guard k >= 0, k < d else { throw .shapeMismatch("Gather '\(inputs.node)': index \(i) out of range for \(x.shape)") }
                for j in 0..<inner { indices.append((o * d + k) * inner + j) }
            }
        }
        let shape = Array(x.shape[..<a]) + idxValue.shape + Array(x.shape[(a + 1)...])
        return [x.picking(indices, shape: shape)]
    }
}

/// Cast between float and integer types (integers from floats truncate toward zero).
final class CastKernel: Kernel {
    let to: ElementType

    init(_ a: Attributes) throws(ONNXError) {
        let t = try a.int("to", default: 1)
        guard let type = ElementType(rawValue: t) else { throw a.unsupported("to", String(t)) }
        to = type
        _ = try a.int("saturate", default: 1)  // only for float8 targets
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.required(0)
        switch to {
        case .float, .double: return [Value(floats: x.tensor)]
        case .int32, .int64, .bool:
            var v = try x.integers("Cast '\(inputs.node)'")
            if to == .bool { v = v.map { $0 != 0 ? 1 : 0 } }
            return [Value(ints: v, shape: x.shape, type: to)]
        case .int8, .uint8:
            // Wraps like a C cast; quantized graphs use QuantizeLinear for saturation instead.
            let v = try x.integers("Cast '\(inputs.node)'").map { to == .int8 ? Int(Int8(truncatingIfNeeded: $0)) : Int(UInt8(truncatingIfNeeded: $0)) }
            return [Value(floats: Tensor(shape: x.shape, scalars: v.map { Float($0) }), type: to)]
        }
    }
}
