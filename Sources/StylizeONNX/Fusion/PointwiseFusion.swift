/// Finds chains of elementwise steps among a graph's runtime steps and replaces each by one
/// `PointwiseChainKernel` step:
///
///     (QuantizeLinear → DequantizeLinear | DequantizeLinear | Relu | Sigmoid | Sqrt | Reciprocal | …
///      | Add/Sub/Mul/Div/Max/Min with another value)+ [→ QuantizeLinear] [→ GlobalAveragePool]
///
/// Each step of a chain after the first reads the previous one's output, which nothing else
/// reads and which is not a graph output. Quantization parameters must be constant and per
/// tensor. Chains of one step are left alone (there is nothing to save).
enum PointwiseFusion {
    static func apply(_ steps: [Graph.Step], constants: [Int: Value], keep: Set<Int>) -> [Graph.Step] {
        var consumers: [Int: Set<Int>] = [:]
        for (k, s) in steps.enumerated() {
            for case let i? in s.inputs { consumers[i, default: []].insert(k) }
        }
        var used = Set<Int>()
        var replacements: [Int: Graph.Step] = [:]
        var producer: [Int: Int] = [:]
        for (k, s) in steps.enumerated() { for o in s.outputs { producer[o] = k } }
        /// Values known to lie on a quantization grid: outputs of chains that end by quantizing
        /// and dequantizing with the same scale and zero point.
        var grids: [Int: Grid] = [:]

        /// The one step that reads `slot`, if it is the only reader and `slot` is not kept.
        func only(_ slot: Int) -> Int? {
            guard !keep.contains(slot), let c = consumers[slot], c.count == 1, let k = c.first, !used.contains(k) else { return nil }
            return k
        }
        func scalar(_ slot: Int?) -> Value? {
            guard let s = slot, let v = constants[s], v.count == 1 else { return nil }
            return v
        }
        /// A QuantizeLinear or DequantizeLinear step's constant per-tensor scale, zero point and
        /// code range.
        func quantization(_ k: Int) -> (scale: Float, zero: Float, lo: Float, hi: Float)? {
            let ins = steps[k].inputs
            guard ins.count >= 2, let s = scalar(ins[1]) else { return nil }
            var zero: Float = 0, type = ElementType.uint8
            if ins.count >= 3, let zs = ins[2] {
                guard let z = scalar(zs) else { return nil }
                zero = z.tensor.scalars[0]
                type = z.type
            }
            guard type == .int8 || type == .uint8 else { return nil }
            let (lo, hi): (Float, Float) = type == .int8 ? (-128, 127) : (0, 255)
            return (s.tensor.scalars[0], zero, lo, hi)
        }
        enum Kind { case quantize, dequantize }
        func quantizer(_ k: Int) -> Kind? {
            guard let q = steps[k].kernel as? QuantizeKernel else { return nil }
            return q.dequantize ? .dequantize : .quantize
        }

        /// The step `k` as chain operations reading `x`, and how many steps it takes (2 for a
        /// QuantizeLinear/DequantizeLinear pair), or nil when it is not elementwise on `x`.
        func operation(_ k: Int, reading x: Int) -> (op: PointwiseChainKernel.Op, steps: [Int])? {
            let s = steps[k]
            guard !used.contains(k), s.outputs.count == 1 else { return nil }
            if let kind = quantizer(k) {
                guard s.inputs.first == x, let q = quantization(k) else { return nil }
                if kind == .dequantize { return (.dequantize(scale: q.scale, zero: q.zero), [k]) }
                if let d = only(s.outputs[0]), quantizer(d) == .dequantize, steps[d].inputs.first == s.outputs[0],
                   let dq = quantization(d), steps[d].outputs.count == 1 {
                    return (.fakeQuantize(scale: q.scale, zero: q.zero, lo: q.lo, hi: q.hi,
                                          dequantScale: dq.scale, dequantZero: dq.zero), [k, d])
                }
                return (.quantize(scale: q.scale, zero: q.zero, lo: q.lo, hi: q.hi), [k])
            }
            if let u = s.kernel as? UnaryKernel, s.inputs.count == 1, s.inputs[0] == x {
                switch u.op {
                case .relu, .sigmoid, .sqrt, .reciprocal, .neg, .abs, .tanh, .exp: return (.unary(u.op), [k])
                default: return nil
                }
            }
            if let b = s.kernel as? BinaryKernel, b.op != .pow, s.inputs.count == 2, let a0 = s.inputs[0], let a1 = s.inputs[1] {
                if a0 == x && a1 == x { return (.selfBinary(b.op), [k]) }
                if a0 == x { return (.binary(b.op, operand: a1, chainFirst: true), [k]) }
                if a1 == x { return (.binary(b.op, operand: a0, chainFirst: false), [k]) }
            }
            return nil
        }

        for start in steps.indices where !used.contains(start) {
            // The chain's input: input 0, or for a binary step the input that is not constant.
            guard var x = steps[start].inputs.first ?? nil else { continue }
            if steps[start].kernel is BinaryKernel, constants[x] != nil, steps[start].inputs.count == 2,
               let other = steps[start].inputs[1] {
                x = other
            }
            let input = x
            guard let first = operation(start, reading: x) else { continue }
            var ops = [first.op]
            var chain = first.steps
            x = steps[chain.last!].outputs[0]
            // A lone QuantizeLinear ends a chain: its int8 codes go on to a Reshape or Transpose.
            var open: Bool = { if case .quantize = first.op { return false } else { return true } }()
            var pooled = false
            var poolQuantize: PointwiseChainKernel.PoolQuantization? = nil
            while open, let next = only(x) {
                if let r = steps[next].kernel as? ReduceKernel, r.op == .globalAverage, steps[next].inputs.first == x {
                    pooled = true
                    chain.append(next)
                    x = steps[next].outputs[0]
                    // QuantizeLinear after the pool: computed as onnxruntime's QLinearGlobalAveragePool.
                    if let qk = only(x), quantizer(qk) == .quantize, steps[qk].inputs.first == x,
                       steps[qk].outputs.count == 1, let q = quantization(qk) {
                        poolQuantize = .init(scale: q.scale, zero: q.zero, lo: q.lo, hi: q.hi, type: q.lo < 0 ? .int8 : .uint8)
                        chain.append(qk)
                        x = steps[qk].outputs[0]
                    }
                    break
                }
                guard let (op, taken) = operation(next, reading: x) else { break }
                ops.append(op)
                chain += taken
                x = steps[taken.last!].outputs[0]
                if case .quantize = op { open = false }
            }
            guard chain.count >= 2 else { continue }
            used.formUnion(chain)

            // QuantizeLinear → DequantizeLinear of values already on that grid (TensorFlow Lite
            // requantizes after every Pad and Resize with the same parameters) changes nothing:
            // (k·s)/s rounds back to k for |k| ≤ 255 and the value is rebuilt bit for bit.
            if ops.count == 1, case let .fakeQuantize(s, z, lo, hi, ds, dz) = ops[0], s == ds, z == dz {
                var y = input
                while let p = producer[y], let source = steps[p].inputs.first ?? nil,
                      (steps[p].kernel as? PadKernel).map({ $0.mode != .constant }) ?? (steps[p].kernel as? ResizeKernel).map({ $0.mode == .nearest }) ?? false {
                    y = source
                }
                if y != input, grids[y] == Grid(scale: s, zero: z, lo: lo, hi: hi) {
                    replacements[chain.max()!] = Graph.Step(op: "QDQ (no-op)", name: steps[start].name, inputs: [input],
                                                            outputs: [x], kernel: PassThrough())
                    grids[x] = grids[y]
                    continue
                }
            }
            if !pooled, case let .fakeQuantize(s, z, lo, hi, ds, dz)? = ops.last, s == ds, z == dz {
                grids[x] = Grid(scale: s, zero: z, lo: lo, hi: hi)
            }

            // Inputs: the chain's input, then each other input of its steps once.
            var inputs = [input]
            let inner = Set(chain.flatMap { steps[$0].outputs })
            for k in chain {
                for case let i? in steps[k].inputs where !inner.contains(i) && !inputs.contains(i) { inputs.append(i) }
            }
            let mapped = ops.map { op -> PointwiseChainKernel.Op in
                if case let .binary(o, slot, chainFirst) = op { return .binary(o, operand: inputs.firstIndex(of: slot)!, chainFirst: chainFirst) }
                return op
            }
            let last = chain.max()!
            let kernel = PointwiseChainKernel(ops: mapped, pooled: pooled, poolQuantize: poolQuantize, original: chain.sorted().map { steps[$0] },
                                              inputSlots: inputs, outputSlot: x)
            replacements[last] = Graph.Step(op: pooled ? "PointwisePool" : "Pointwise", name: steps[start].name,
                                            inputs: inputs, outputs: [x], kernel: kernel)
        }
        // A pool of a value that is already dequantized (read by others too, so not in a chain),
        // followed by QuantizeLinear: pooled from the codes, as onnxruntime does.
        var dequantizedBy: [Int: Float] = [:]  // slot → its dequantization scale
        for (k, s) in steps.enumerated() where s.outputs.count == 1 && !used.contains(k) {
            if quantizer(k) == .dequantize, let q = quantization(k) { dequantizedBy[s.outputs[0]] = q.scale }
            if let conv = s.kernel as? QuantizedConvKernel { dequantizedBy[s.outputs[0]] = conv.plan.output.scale }
        }
        for r in replacements.values {
            guard let kernel = r.kernel as? PointwiseChainKernel, !kernel.pooled else { continue }
            switch kernel.ops.last {
            case let .fakeQuantize(_, _, _, _, ds, _)?: dequantizedBy[r.outputs[0]] = ds
            case let .dequantize(s, _)?: dequantizedBy[r.outputs[0]] = s
            default: break
            }
        }
        for k in steps.indices where !used.contains(k) {
            guard let r = steps[k].kernel as? ReduceKernel, r.op == .globalAverage, let x = steps[k].inputs.first ?? nil,
                  let scale = dequantizedBy[x], let qk = only(steps[k].outputs[0]), quantizer(qk) == .quantize,
                  steps[qk].inputs.first == steps[k].outputs[0], steps[qk].outputs.count == 1, let q = quantization(qk) else { continue }
            used.formUnion([k, qk])
            var inputs = [x]
            for case let i? in steps[qk].inputs where i != steps[k].outputs[0] && !inputs.contains(i) { inputs.append(i) }
            let kernel = PointwiseChainKernel(ops: [.codes(scale: scale)], pooled: true,
                                              poolQuantize: .init(scale: q.scale, zero: q.zero, lo: q.lo, hi: q.hi, type: q.lo < 0 ? .int8 : .uint8),
                                              original: [steps[k], steps[qk]], inputSlots: inputs, outputSlot: steps[qk].outputs[0])
            replacements[qk] = Graph.Step(op: "PointwisePool", name: steps[k].name, inputs: inputs, outputs: steps[qk].outputs, kernel: kernel)
        }
        if replacements.isEmpty { return steps }
        _ = grids
        var result: [Graph.Step] = []
        for k in steps.indices {
            if let r = replacements[k] { result.append(r) } else if !used.contains(k) { result.append(steps[k]) }
        }
        return result
    }

    /// The values of (code − zero)·scale for codes in lo…hi.
    private struct Grid: Equatable {
        let scale: Float, zero: Float, lo: Float, hi: Float
    }

    /// A step that hands its input on (a quantization round trip that changes nothing).
    private final class PassThrough: Kernel {
        func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] { [try inputs.required(0)] }
    }
}
