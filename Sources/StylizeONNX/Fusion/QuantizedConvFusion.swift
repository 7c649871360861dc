/// Finds the quantized convolutions of QDQ graphs (TensorFlow Lite's int8 networks converted to
/// ONNX) among a graph's runtime steps and replaces each by one `QuantizedConvKernel` step:
///
///     x → [Resize nearest ×k] → [Pad reflect|edge] → QuantizeLinear → [Transpose NHWC→NCHW]
///       → DequantizeLinear → Conv(DequantizeLinear(int8 weights), DequantizeLinear(int32 bias))
///       → [Relu] → QuantizeLinear → DequantizeLinear
///
/// which onnxruntime's QDQ transformer turns into QLinearConv. The fused step computes the
/// integer convolution exactly (oneDNN's u8×s8 kernels) and requantizes as QLinearConv does; its
/// output is the final DequantizeLinear's. Quantization parameters must be constant, per tensor
/// for activations; weights int8 with zero points 0 (per tensor or per output channel); the bias
/// int32 with zero points 0 and scale input scale × weight scale. Intermediate values must have
/// no other reader and not be graph outputs. The weights' and bias's codes come from the
/// DequantizeLinear steps that were folded at load (`folded`).
enum QuantizedConvFusion {
    static func apply(_ steps: [Graph.Step], constants: [Int: Value], folded: [Int: Graph.Step], keep: Set<Int>) -> [Graph.Step] {
        guard QuantizedConvKernel.sumsOnThisCPU != .none else { return steps }
        let links = StepLinks(steps)
        let producer = links.producer
        var used = Set<Int>()
        var replacements: [Int: Graph.Step] = [:]

        /// The one step that reads `slot`, if it is the only reader and `slot` is not kept.
        func only(_ slot: Int) -> Int? { links.onlyReader(slot, keep: keep, used: used) }
        /// The step producing `slot`, when `reader` is that value's only reader.
        func feeding(_ slot: Int?, _ reader: Int) -> Int? {
            guard let slot, let p = producer[slot], only(slot) == reader, !used.contains(p) else { return nil }
            return p
        }
        func input(_ k: Int, _ i: Int) -> Int? { i < steps[k].inputs.count ? steps[k].inputs[i] : nil }
        func constant(_ slot: Int?) -> [Float]? {
            guard let s = slot, let v = constants[s], v.type.isFloatCoded else { return nil }
            return v.tensor.scalars
        }
        /// A QuantizeLinear (`dequantize` false) or DequantizeLinear step's constant per-tensor
        /// parameters, for 8-bit codes.
        func activationQuantization(_ k: Int, dequantize: Bool) -> QuantizedConvKernel.Activation? {
            guard let q = steps[k].kernel as? QuantizeKernel, q.dequantize == dequantize, steps[k].outputs.count == 1,
                  let scale = constant(input(k, 1)), scale.count == 1, scale[0] > 0, scale[0].isFinite,
                  let zs = input(k, 2), let z = constants[zs], z.count == 1, z.type == .int8 || z.type == .uint8 else { return nil }
            return .init(scale: scale[0], zero: z.tensor.scalars[0], signed: z.type == .int8)
        }
        /// The integer codes, scales and zero points behind a constant that a DequantizeLinear
        /// computed at load, per tensor or along axis 0.
        func codes(_ slot: Int?) -> (codes: Value, scales: [Float], zeros: [Float])? {
            guard let slot, let d = folded[slot], let q = d.kernel as? QuantizeKernel, q.dequantize, d.inputs.count == 3,
                  let c = d.inputs[0].flatMap({ constants[$0] }), let scales = constant(d.inputs[1]),
                  let zs = d.inputs[2].flatMap({ constants[$0] }), zs.type == c.type else { return nil }
            let zeros = zs.tensor.scalars
            guard scales.count == 1 || (c.shape.count >= 1 && scales.count == c.shape[0] && (q.axis == 0 || q.axis == -c.shape.count)),
                  zeros.count == scales.count else { return nil }
            return (c, scales, zeros)
        }

        /// Relu's or Clip's bounds, when constant.
        func activationBounds(_ k: Int) -> (min: Float, max: Float)? {
            guard let u = steps[k].kernel as? UnaryKernel else { return nil }
            if u.op == .relu { return (0, .infinity) }
            guard u.op == .clip else { return nil }
            var bounds = (min: u.clipMin, max: u.clipMax)
            for i in [1, 2] {
                guard let slot = input(k, i) else { continue }
                guard let v = constants[slot], v.count == 1, v.type.isFloatCoded else { return nil }
                if i == 1 { bounds.min = v.tensor.scalars[0] } else { bounds.max = v.tensor.scalars[0] }
            }
            return bounds
        }
        /// Values on a quantization grid: outputs of DequantizeLinear steps and of fused convolutions.
        var grids: [Int: QuantizedConvKernel.Activation] = [:]
        for k in steps.indices { if let q = activationQuantization(k, dequantize: true) { grids[steps[k].outputs[0]] = q } }

        /// Outputs of fused convolutions and Adds: the values that can travel as codes.
        var quantizedOutputs = Set<Int>()
        for ci in steps.indices {
            guard let conv = steps[ci].kernel as? ConvKernel, !conv.transposed, let convPads = conv.pads,
                  steps[ci].outputs.count == 1, let wSlot = input(ci, 1), constants[wSlot] != nil else { continue }
            // Weights: int8 codes, symmetric.
            guard let (wv, wScales, wZeros) = codes(wSlot), wv.type == .int8, wv.shape.count == 4, wZeros.allSatisfy({ $0 == 0 }),
                  QuantizedConvKernel.runsExactly(group: conv.group, weightShape: wv.shape) else { continue }
            let outC = wv.shape[0]
            // The activation's quantization: DequantizeLinear ← [Transpose] ← QuantizeLinear, or
            // a value already on a grid (the previous convolution, fused, took the pair).
            guard var x = input(ci, 0) else { continue }
            var chain = [ci]
            var sourceChannelsLast = false
            var inQ = grids[x]
            if let d0 = feeding(x, ci), let q = activationQuantization(d0, dequantize: true), var qStep = feeding(input(d0, 0), d0) {
                var taken = [ci, d0]
                let transposed = (steps[qStep].kernel as? TransposeKernel)?.perm == [0, 3, 1, 2]
                if transposed, let t = feeding(input(qStep, 0), qStep) {
                    taken.append(qStep)
                    qStep = t
                }
                if activationQuantization(qStep, dequantize: false) == q, let qx = input(qStep, 0) {
                    chain = taken + [qStep]
                    sourceChannelsLast = transposed
                    inQ = q
                    x = qx
                }
            }
            guard let inQ else { continue }
            let q0 = chain.last!
            // Bias: int32 codes with zero points 0 whose scale is the input's times the weights'.
            var bias = [Int32](repeating: 0, count: outC)
            if let bSlot = input(ci, 2) {
                guard let (bv, bScales, bZeros) = codes(bSlot), bv.type == .int32, bv.count == outC,
                      bZeros.allSatisfy({ $0 == 0 }), case let .ints(b) = bv.storage else { continue }
                // A bias of zeros is zero at any scale (TensorFlow Lite shares one between convolutions).
                let consistent = b.allSatisfy { $0 == 0 } || (0..<outC).allSatisfy { c in
                    let expected = inQ.scale * wScales[wScales.count == 1 ? 0 : c]
                    return abs(bScales[bScales.count == 1 ? 0 : c] - expected) <= 1e-6 * expected
                }
                guard consistent else { continue }
                bias = b.map { Int32($0) }
            }
            // Before the quantization: Pad, and a nearest upsampling before that.
            var plan = QuantizedConvKernel.Plan(input: inQ, sourceChannelsLast: sourceChannelsLast)
            var reader = q0
            if chain.count > 1, let p = feeding(x, reader), let pad = steps[p].kernel as? PadKernel, pad.mode != .constant,
               let pads = pad.attributePads ?? input(p, 1).flatMap({ constants[$0] }).flatMap({ try? $0.integers("pads") }),
               input(p, 3) == nil, pads.count == 8, pads.allSatisfy({ $0 >= 0 }), let px = input(p, 0) {
                // H and W are axes 2, 3 (NCHW) or 1, 2 (NHWC); nothing else may be padded.
                let (h, w) = sourceChannelsLast ? (1, 2) : (2, 3)
                let others = (0..<4).filter { $0 != h && $0 != w }
                if others.allSatisfy({ pads[$0] == 0 && pads[$0 + 4] == 0 }) {
                    plan.padMode = pad.mode
                    plan.pads = [pads[h], pads[w], pads[h + 4], pads[w + 4]]
                    chain.append(p)
                    x = px; reader = p
                }
            }
            if chain.count > 1, !sourceChannelsLast, let r = feeding(x, reader), let resize = steps[r].kernel as? ResizeKernel, resize.mode == .nearest,
               resize.coordinates == .asymmetric, resize.nearest == .floor, let rx = input(r, 0) {
                let scales = resize.legacyUpsample ? (resize.attributeScales ?? constant(input(r, 1))) : constant(input(r, 2))
                let sizes = resize.legacyUpsample ? nil : input(r, 3)
                if let s = scales, s.count == 4, s[0] == 1, s[1] == 1, s[2] == s[3], s[2] >= 1, s[2] == s[2].rounded(),
                   sizes == nil || constants[sizes!]?.count == 0 {
                    plan.upsample = Int(s[2])
                    chain.append(r)
                    x = rx
                }
            }
            // A bare QuantizeLinear → DequantizeLinear of an off-grid value (after an Add) is left
            // to PointwiseFusion, which quantizes in the pass that computes the value; the
            // convolution then reads the dequantized grid values.
            if chain.count == 3, !sourceChannelsLast, grids[x] != inQ, let dequantized = input(ci, 0), grids[dequantized] == inQ {
                chain = [ci]
                x = dequantized
            }
            // After: [Relu | Clip with constant bounds (ReLU6)] → QuantizeLinear → DequantizeLinear.
            var y = steps[ci].outputs[0]
            if let r = only(y), input(r, 0) == y, let bounds = activationBounds(r) {
                plan.clip = bounds
                chain.append(r)
                y = steps[r].outputs[0]
            }
            guard let q1 = only(y), input(q1, 0) == y, let outQ = activationQuantization(q1, dequantize: false),
                  let d1 = only(steps[q1].outputs[0]), input(d1, 0) == steps[q1].outputs[0],
                  activationQuantization(d1, dequantize: true) == outQ else { continue }
            chain += [q1, d1]
            plan.output = outQ
            plan.inputOnGrid = grids[x] == inQ
            plan.convPads = convPads

            let weights: [Int8] = wv.tensor.scalars.map { Int8($0) }
            let kernel = QuantizedConvKernel(plan: plan, conv: conv, weights: weights, weightShape: wv.shape,
                                             weightScales: wScales, bias: bias, node: steps[ci].name)
            used.formUnion(chain)
            grids[steps[d1].outputs[0]] = outQ
            quantizedOutputs.insert(steps[d1].outputs[0])
            replacements[chain.max()!] = Graph.Step(op: "QuantizedConv", name: steps[ci].name, inputs: [x],
                                                   outputs: steps[d1].outputs, kernel: kernel)
        }
        // Residual Adds of two fused steps' outputs, then QuantizeLinear → DequantizeLinear: on
        // codes. Others (planar floats in the transform's residual blocks) stay with the
        // elementwise chains, which run them in one multi-threaded pass with their neighbours.
        for ai in steps.indices where !used.contains(ai) {
            guard let add = steps[ai].kernel as? BinaryKernel, add.op == .add, steps[ai].inputs.count == 2, steps[ai].outputs.count == 1,
                  let a = input(ai, 0), let b = input(ai, 1), quantizedOutputs.contains(a), quantizedOutputs.contains(b),
                  let q = only(steps[ai].outputs[0]), input(q, 0) == steps[ai].outputs[0], let outQ = activationQuantization(q, dequantize: false),
                  let d = only(steps[q].outputs[0]), input(d, 0) == steps[q].outputs[0],
                  activationQuantization(d, dequantize: true) == outQ else { continue }
            used.formUnion([ai, q, d])
            quantizedOutputs.insert(steps[d].outputs[0])
            replacements[max(ai, q, d)] = Graph.Step(op: "QuantizedAdd", name: steps[ai].name, inputs: [a, b], outputs: steps[d].outputs,
                                                     kernel: QuantizedAddKernel(output: outQ, node: steps[ai].name))
        }
        let result = StepLinks.splice(steps, replacements, used: used)
        // Convolutions whose every reader is a quantized convolution reading its grid hand their
        // output on channels-last.
        let readers = StepLinks(result).consumers
        // Codes go to convolutions that do not upsample (those read the floats with one reorder
        // per copy) and to quantized Adds.
        func readsCodes(_ k: Int, _ grid: QuantizedConvKernel.Activation) -> Bool {
            if result[k].kernel is QuantizedAddKernel { return true }
            guard let c = result[k].kernel as? QuantizedConvKernel else { return false }
            return c.plan.inputOnGrid && !c.plan.sourceChannelsLast && c.plan.upsample == 1 && c.plan.input == grid
        }
        for step in result {
            guard !keep.contains(step.outputs[0]), let r = readers[step.outputs[0]] else { continue }
            if let add = step.kernel as? QuantizedAddKernel { add.codesOutput = r.allSatisfy { readsCodes($0, add.output) } }
            guard let kernel = step.kernel as? QuantizedConvKernel else { continue }
            kernel.codesOutput = r.allSatisfy { readsCodes($0, kernel.plan.output) }
            kernel.channelsLastOutput = kernel.codesOutput || r.allSatisfy { k in
                (result[k].kernel as? QuantizedConvKernel).map { $0.plan.inputOnGrid && !$0.plan.sourceChannelsLast } ?? false
            }
        }
        return result
    }
}
