import CDNNL
import StylizeTensor

/// One fused block of a feed-forward style network: [nearest upsample] → [reflect or edge Pad] →
/// Conv → instance normalisation → [per-channel scale and shift] → [Relu | Sigmoid | + residual].
///
/// Exported from PyTorch these are a dozen nodes each (instance norm alone is ReduceMean, Sub, Pow,
/// ReduceMean, Add, Sqrt, Div, Mul, and conditional instance norm's Mul and Add), each a pass
/// over the image. Here the input is upsampled and padded in one pass into the channels-last
/// layout the convolution runs in, the statistics take one pass over the convolution's output,
/// and normalisation, activation and residual one more, leaving the output channels-last for the
/// next block; `ConvBlockFusion` finds the blocks at load.
///
/// Inputs: x, conv weights, conv bias (optional), scale γ and shift β (optional, C values each),
/// residual (optional, the output's shape).
final class ConvBlockKernel: Kernel {
    enum Tail { case none, relu, sigmoid, residual }

    struct Plan {
        /// Integer nearest-neighbour upsampling factor before padding (1: none).
        var upsample = 1
        /// Padding mode; `.constant` with zero pads means no Pad node.
        var padMode = PadKernel.Mode.constant
        /// top, left, bottom, right
        var pads = [0, 0, 0, 0]
        var epsilon: Float = 1e-5
        var tail = Tail.none
    }

    let plan: Plan
    let conv: ConvKernel
    let node: String

    init(plan: Plan, conv: ConvKernel, node: String) {
        self.plan = plan
        self.conv = conv
        self.node = node
    }

    private final class Compiled {
        let primitive: DNNLPrimitive
        let srcMD: dnnl_memory_desc_t, dstMD: dnnl_memory_desc_t, scratchMD: dnnl_memory_desc_t
        let weights: DNNLMemory, weightsOwner: ObjectIdentifier
        let bias: DNNLMemory?, biasOwner: ObjectIdentifier?
        let rows: [Int], cols: [Int]
        let outShape: [Int]

        init(primitive: DNNLPrimitive, srcMD: dnnl_memory_desc_t, dstMD: dnnl_memory_desc_t, scratchMD: dnnl_memory_desc_t,
             weights: DNNLMemory, weightsOwner: ObjectIdentifier, bias: DNNLMemory?, biasOwner: ObjectIdentifier?,
             rows: [Int], cols: [Int], outShape: [Int]) {
            self.primitive = primitive; self.srcMD = srcMD; self.dstMD = dstMD; self.scratchMD = scratchMD
            self.weights = weights; self.weightsOwner = weightsOwner; self.bias = bias; self.biasOwner = biasOwner
            self.rows = rows; self.cols = cols; self.outShape = outShape
        }
    }

    private var cache: [[Int]: Compiled] = [:]

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let xv = try inputs.required(0), w = try inputs.floatTensor(1)
        let b: Tensor? = inputs.optional(2) == nil ? nil : try inputs.floatTensor(2)
        guard xv.type.isFloatCoded, xv.shape.count == 4, w.shape.count == 4 else {
            throw .shapeMismatch("Conv '\(node)' needs 4-D float input and weights, got \(xv.shape) and \(w.shape)")
        }
        let xs = xv.shape
        let key = xs + w.shape + [b?.count ?? -1]
        var compiled: Compiled
        if let c = cache[key], c.weightsOwner == ObjectIdentifier(w.storage),
           b == nil || c.biasOwner == ObjectIdentifier(b!.storage) {
            compiled = c
        } else {
            compiled = try compile(xs, w, b, context)
            if cache.count > 8 { cache.removeAll() }
            cache[key] = compiled
        }
        let outShape = compiled.outShape
        let (n, c, oc) = (xs[0], xs[1], outShape[1])
        let pixels = outShape[2] * outShape[3], inPixels = xs[2] * xs[3]
        let gamma: [Float]? = inputs.optional(3) == nil ? nil : try inputs.floatTensor(3).scalars
        let beta: [Float]? = inputs.optional(4) == nil ? nil : try inputs.floatTensor(4).scalars
        for (name, v) in [("scale", gamma), ("shift", beta)] where v != nil && v!.count != oc {
            throw .shapeMismatch("instance norm after Conv '\(node)': \(v!.count) \(name) values for \(oc) channels")
        }
        // The residual, interleaved (it is when an earlier block made it).
        var residual: TensorStorage? = nil
        if let r = inputs.optional(5) {
            guard r.shape == outShape, r.type.isFloatCoded else {
                throw .shapeMismatch("Add after Conv '\(node)': residual \(r.shape) for output \(outShape)")
            }
            if case let .channelsLast(s) = r.storage { residual = s } else { residual = ChannelsLast.interleave(r.tensor) }
        }

        let dnnl = context.dnnl
        let src = DNNLMemory(compiled.srcMD, sharing: context.scratch("block.src", DNNLDesc.size(compiled.srcMD)), dnnl)
        let dst = DNNLMemory(compiled.dstMD, sharing: context.scratch("block.dst", DNNLDesc.size(compiled.dstMD)), dnnl)
        let padded = compiled.rows.count * compiled.cols.count
        let srcPointer = src.pointer.assumingMemoryBound(to: Float.self)
        if case let .channelsLast(s) = xv.storage {
            for k in 0..<n {
                ChannelsLast.packInterleaved(s.pointer + k * inPixels * c, channels: c, width: xs[3], rows: compiled.rows,
                                             cols: compiled.cols, into: srcPointer + k * padded * c, context)
            }
        } else {
            let x = xv.tensor
            for k in 0..<n {
                ChannelsLast.pack(x.storage.pointer + k * c * inPixels, channels: c, plane: inPixels, width: xs[3],
                                  rows: compiled.rows, cols: compiled.cols, into: srcPointer + k * padded * c, context)
            }
        }
        var args: [(Int32, DNNLMemory)] = [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, compiled.weights), (DNNL_ARG_DST, dst)]
        if let bias = compiled.bias { args.append((DNNL_ARG_BIAS, bias)) }
        let scratchBytes = DNNLDesc.size(compiled.scratchMD)
        if scratchBytes > 0 {
            args.append((DNNL_ARG_SCRATCHPAD, DNNLMemory(compiled.scratchMD, sharing: context.scratch("block.scratchpad", scratchBytes), dnnl)))
        }
        dnnl.execute(compiled.primitive, args)

        // The output stays channels-last for the next block; `Value.tensor` converts for others.
        let out = context.recycledStorage(n * oc * pixels)
        let activation: ChannelsLast.Activation = plan.tail == .relu ? .relu : plan.tail == .sigmoid ? .sigmoid : .none
        for k in 0..<n {
            let y = UnsafePointer(dst.pointer.assumingMemoryBound(to: Float.self)) + k * pixels * oc
            let (mean, variance) = ChannelsLast.moments(y, pixels: pixels, channels: oc, context)
            var scale = [Float](repeating: 0, count: oc), shift = scale
            for ch in 0..<oc {
                // (y − mean) / √(var + ε) · γ + β as one multiply-add per value.
                let g = Double(gamma?[ch] ?? 1) / (variance[ch] + Double(plan.epsilon)).squareRoot()
                scale[ch] = Float(g)
                shift[ch] = Float(Double(beta?[ch] ?? 0) - mean[ch] * g)
            }
            ChannelsLast.normalize(y, pixels: pixels, channels: oc, scale: scale, shift: shift, activation: activation,
                                   residual: residual.map { UnsafePointer($0.pointer) + k * oc * pixels },
                                   into: out.pointer + k * oc * pixels, context)
        }
        return [Value(channelsLast: out, shape: outShape)]
    }

    private func map(_ n: Int, factor: Int, before: Int, after: Int) throws(ONNXError) -> [Int] {
        guard let m = ChannelsLast.sourceIndices(n, factor: factor, before: before, after: after, mode: plan.padMode) else {
            throw .shapeMismatch("Pad before Conv '\(node)': reflect padding \(plan.pads) is too large for \(n * factor) pixels")
        }
        return m
    }

    private func compile(_ xs: [Int], _ w: Tensor, _ b: Tensor?, _ context: ExecutionContext) throws(ONNXError) -> Compiled {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        guard h > 0, wd > 0 else { throw .shapeMismatch("Conv '\(node)': empty input \(xs)") }
        let rows = try map(h, factor: plan.upsample, before: plan.pads[0], after: plan.pads[2])
        let cols = try map(wd, factor: plan.upsample, before: plan.pads[1], after: plan.pads[3])
        let (hp, wp) = (rows.count, cols.count)
        let (outC, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        guard w.shape[1] == c else { throw .shapeMismatch("Conv '\(node)': input \(xs) does not fit weights \(w.shape)") }
        if let k = conv.kernelShape, k != [kh, kw] { throw .shapeMismatch("Conv '\(node)': kernel_shape \(k) but weights \(w.shape)") }
        if let b, b.count != outC { throw .shapeMismatch("Conv '\(node)': bias of \(b.count) values for \(outC) channels") }
        let p = conv.pads ?? [0, 0, 0, 0]
        let effK = [(kh - 1) * conv.dilations[0] + 1, (kw - 1) * conv.dilations[1] + 1]
        guard hp + p[0] + p[2] >= effK[0], wp + p[1] + p[3] >= effK[1] else {
            throw .shapeMismatch("Conv '\(node)': input \(xs) is smaller than the kernel \(w.shape)")
        }
        let oh = (hp + p[0] + p[2] - effK[0]) / conv.strides[0] + 1
        let ow = (wp + p[1] + p[3] - effK[1]) / conv.strides[1] + 1
        let outShape = [n, outC, oh, ow]

        let dnnl = context.dnnl
        // Channels-last in and out (see ChannelsLast); oneDNN picks the weights' layout.
        var srcMD = DNNLDesc.make([n, c, hp, wp], dnnl_nhwc)
        var dstMD = DNNLDesc.make(outShape, dnnl_nhwc)
        var wAny = DNNLDesc.make([outC, c, kh, kw], dnnl_format_tag_any)
        var biasMD = DNNLDesc.make([outC], dnnl_x)
        let s = DNNLDesc.dims(conv.strides), d = DNNLDesc.dims(conv.dilations.map { $0 - 1 })
        let pl = DNNLDesc.dims([p[0], p[1]])
        let pr = DNNLDesc.dims([(oh - 1) * conv.strides[0] + effK[0] - hp - p[0], (ow - 1) * conv.strides[1] + effK[1] - wp - p[1]])
        let attr = DNNLAttributes()
        dnnl_primitive_attr_set_scratchpad_mode(attr.handle, dnnl_scratchpad_mode_user)
        var desc = dnnl_convolution_desc_t()
        var pd: dnnl_primitive_desc_t?
        var status = withUnsafeMutablePointer(to: &biasMD) { biasPointer in
            dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                       &srcMD, &wAny, b == nil ? nil : UnsafePointer(biasPointer), &dstMD, s, d, pl, pr)
        }
        if status == dnnl_success {
            status = withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attr.handle, dnnl.engine, nil) }
        }
        guard status == dnnl_success, let pd else {
            throw .shapeMismatch("Conv '\(node)': oneDNN cannot run input \(xs) with weights \(w.shape) (status \(status.rawValue))")
        }
        let primitive = DNNLPrimitive(pd: pd, name: "conv block \(node)")
        let plainW = DNNLMemory(wrapping: w.storage, DNNLDesc.make([outC, c, kh, kw], dnnl_oihw), dnnl)
        let chosenW = primitive.md(dnnl_query_weights_md)
        let weights = DNNLMemory(chosenW, dnnl)
        dnnl.execute(dnnl.reorder(from: plainW.desc, to: chosenW), [(DNNL_ARG_FROM, plainW), (DNNL_ARG_TO, weights)])
        let bias = b.map { DNNLMemory(wrapping: $0.storage, DNNLDesc.make([outC], dnnl_x), dnnl) }
        return Compiled(primitive: primitive, srcMD: srcMD, dstMD: dstMD, scratchMD: primitive.md(dnnl_query_scratchpad_md),
                        weights: weights, weightsOwner: ObjectIdentifier(w.storage), bias: bias,
                        biasOwner: b.map { ObjectIdentifier($0.storage) }, rows: rows, cols: cols, outShape: outShape)
    }
}
