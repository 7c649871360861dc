import StylizeTensor

/// QuantizeLinear and DequantizeLinear, per tensor or per axis.
///
/// The int8 graphs (QDQ, converted from TensorFlow Lite) are computed in float32: every
/// convolution reads dequantized weights and activations, and every QuantizeLinear rounds its
/// float input exactly as the spec says, y = saturate(round_half_to_even(x / scale) + zero_point),
/// keeping the integer code in a float (exact for 8-bit values). The following DequantizeLinear
/// maps it back to (y − zero_point)·scale. So activations take the same grid of values as in
/// onnxruntime's integer kernels; results differ only where a float sum lands within rounding
/// noise of a grid midpoint, by one quantization step.
final class QuantizeKernel: Kernel {
    let dequantize: Bool
    let axis: Int

    init(_ a: Attributes, dequantize: Bool) throws(ONNXError) {
        self.dequantize = dequantize
        axis = try a.int("axis", default: 1)
        if try a.int("block_size", default: 0) != 0 { throw a.unsupported("block_size") }
        if try a.int("saturate", default: 1) != 1 { throw a.unsupported("saturate", "0") }
        if a.has("output_dtype") {
            let t = try a.int("output_dtype", default: 0)
            if t != 0 && t != ElementType.int8.rawValue && t != ElementType.uint8.rawValue { throw a.unsupported("output_dtype", String(t)) }
        }
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.required(0)
        let scale = try inputs.floatTensor(1)
        let zero = inputs.optional(2)
        // Per-axis parameters when the scale is a vector; one value is per tensor (the same thing).
        let perAxis = scale.count > 1
        var channels = 1, inner = 1, outer = 1
        if perAxis {
            let a = try normalizedAxis(axis, rank: x.shape.count, "\(inputs.op) '\(inputs.node)'")
            channels = x.shape[a]
            guard scale.count == channels else {
                throw .shapeMismatch("\(inputs.op) '\(inputs.node)': \(scale.count) scales for axis \(axis) of \(x.shape)")
            }
            inner = x.shape[(a + 1)...].reduce(1, *)
            outer = x.shape[..<a].reduce(1, *)
        } else {
            inner = x.count
        }
        let scales = scale.scalars
        var zeros = [Double](repeating: 0, count: channels)
        var outType = ElementType.uint8
        if let zero {
            outType = zero.type
            let z: [Double]
            switch zero.storage {
            case let .ints(v): z = v.map { Double($0) }
            case .floats, .channelsLast, .codes: z = zero.tensor.scalars.map { Double($0) }
            }
            guard z.count == channels else { throw .shapeMismatch("\(inputs.op) '\(inputs.node)': \(z.count) zero points for \(channels) scales") }
            zeros = z
        }
        let out = context.recycledTensor(x.shape)  // every value is written
        let q = out.storage.pointer
        if dequantize {
            switch x.storage {
            case let .ints(v):
                // int32 biases: exact integer arithmetic in double, then one rounding to float.
                for o in 0..<outer { for c in 0..<channels { for i in 0..<inner {
                    let k = (o * channels + c) * inner + i
                    q[k] = Float((Double(v[k]) - zeros[c]) * Double(scales[c]))
                } } }
            case .floats, .channelsLast, .codes:
                let t = x.tensor
                withExtendedLifetime(t) {
                    let p = t.storage.pointer
                    for o in 0..<outer { for c in 0..<channels {
                        let s = scales[c], z = Float(zeros[c]), base = (o * channels + c) * inner
                        for i in 0..<inner { q[base + i] = (p[base + i] - z) * s }
                    } }
                }
            }
            return [Value(floats: out)]
        }
        guard outType == .int8 || outType == .uint8 else {
            throw .unsupportedAttribute(op: "QuantizeLinear", attribute: "output type \(outType)", node: inputs.node)
        }
        let (lo, hi): (Float, Float) = outType == .int8 ? (-128, 127) : (0, 255)
        let p = try inputs.floatTensor(0).storage.pointer
        for o in 0..<outer { for c in 0..<channels {
            let s = scales[c], z = Float(zeros[c]), base = (o * channels + c) * inner
            for i in 0..<inner {
                q[base + i] = QuantizationMath.code(p[base + i], scale: s, zero: z, lo: lo, hi: hi)
            }
        } }
        return [Value(floats: out, type: outType)]
    }
}

/// QuantizeLinear's rounding as plain arithmetic that the compiler vectorises (`rounded(_:)`
/// compiles to a call to `rintf` per value, which was a fifth of the int8 network's time).
enum QuantizationMath {
    /// saturate(round_half_to_even(x / scale) + zero) into [lo, hi], bit for bit as the spec's
    /// formula: x / scale is first clamped to one step beyond the code range (which changes no
    /// result) so that it is below 2²², where adding and subtracting 1.5·2²³ rounds it to an
    /// integer, ties to even, in the default rounding mode.
    @inline(__always)
    static func code(_ x: Float, scale: Float, zero: Float, lo: Float, hi: Float) -> Float {
        let v = min(max(x / scale, lo - zero - 1), hi - zero + 1)
        let rounded = (v + 12_582_912) - 12_582_912
        return min(max(rounded + zero, lo), hi)
    }
}
