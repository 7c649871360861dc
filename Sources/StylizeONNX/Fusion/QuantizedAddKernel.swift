import StylizeTensor

/// A residual Add of two values on quantization grids, requantized: DequantizeLinear a,
/// DequantizeLinear b → Add → QuantizeLinear → DequantizeLinear (MobileNet's skip connections in
/// TensorFlow Lite's int8 graphs). `QuantizedConvFusion` finds the pattern at load.
///
/// Its inputs are usually other quantized steps' 8-bit codes, channels-last (`Value.codes`), and
/// its readers quantized convolutions that take such codes: computed on the codes, the
/// convolution → add → convolution path stays in bytes, with no planar float round trip (a
/// reorder to planar floats after each convolution, an elementwise pass, a quantizing reorder
/// back). Every element is computed with the unfused steps' float expressions, in their order, so
/// the results are bit-identical.
final class QuantizedAddKernel: Kernel {
    let output: QuantizedConvKernel.Activation
    let node: String
    /// Hand the output on as codes (`Value.codes`): set at load when every reader takes them.
    var codesOutput = false

    init(output: QuantizedConvKernel.Activation, node: String) {
        self.output = output
        self.node = node
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let a = try inputs.required(0), b = try inputs.required(1)
        guard a.type.isFloatCoded, b.type.isFloatCoded else { throw .malformed("Add '\(node)': float inputs expected") }
        let q = output
        let zeroByte = q.zero + Float(q.offset)
        let byte = q.bytes
        guard a.shape == b.shape, a.shape.count == 4 else {
            // Broadcasting (not MobileNet's residuals): planar floats, as the steps compute them.
            let bc = try Broadcast(a.shape, b.shape, what: "Add '\(node)'")
            let sum = BinaryKernel.apply(a.tensor, b.tensor, bc) { $0 + $1 }
            let out = Tensor(shape: sum.shape)
            for i in 0..<sum.count { out.storage.pointer[i] = (Float(byte(sum.storage.pointer[i])) - zeroByte) * q.scale }
            return [Value(floats: out)]
        }
        let shape = a.shape, count = a.count
        let storage = context.recycledStorage((count + 3) / 4)
        let bytes = UnsafeMutableRawPointer(storage.pointer).bindMemory(to: UInt8.self, capacity: count)
        if case let .codes(sa, scaleA, zbA) = a.storage, case let .codes(sb, scaleB, zbB) = b.storage {
            // Both channels-last codes: one pass over the bytes.
            let x = UnsafeRawPointer(sa.pointer).bindMemory(to: UInt8.self, capacity: count)
            let y = UnsafeRawPointer(sb.pointer).bindMemory(to: UInt8.self, capacity: count)
            context.parallel(count, minimumPerThread: 65_536) { range in
                for i in range {
                    // (code − zero)·scale of each, as DequantizeLinear, then the Add.
                    let va = (Float(x[i]) - zbA) * scaleA
                    let vb = (Float(y[i]) - zbB) * scaleB
                    bytes[i] = byte(va + vb)  // vectorises, unlike QuantizationMath.code's min/max
                }
            }
        } else {
            // Planar floats (one input is not codes): sums planar, the codes written channels-last.
            let x = a.tensor, y = b.tensor
            let (n, c, pixels) = (shape[0], shape[1], shape[2] * shape[3])
            for k in 0..<n {
                for ch in 0..<c {
                    let base = (k * c + ch) * pixels
                    for p in 0..<pixels {
                        bytes[(k * pixels + p) * c + ch] = byte(x.storage.pointer[base + p] + y.storage.pointer[base + p])
                    }
                }
            }
        }
        let value = Value(codes: storage, shape: shape, scale: q.scale, zeroByte: zeroByte)
        return [codesOutput ? value : Value(floats: value.tensor)]
    }
}
