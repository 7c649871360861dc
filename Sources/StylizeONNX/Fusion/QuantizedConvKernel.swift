import CDNNL
import StylizeTensor

/// One quantized convolution of a QDQ graph, computed as onnxruntime's QLinearConv defines it:
/// exact integer sums of the 8-bit activation codes times the int8 weight codes plus the int32
/// bias, then y = saturate(round_half_even(Σ · sx·sw[c]/sy) + zy). `QuantizedConvFusion` finds
/// the node pattern at load.
///
/// Emulated in float (dequantized activations and weights in a float convolution), the sums land
/// in a different order and now and then flip a rounding at the output's QuantizeLinear; here
/// the sum is exact. It is also fast: oneDNN's u8×s8 kernels (VNNI) do four multiply-adds where
/// float does one, and read a quarter of the bytes.
///
/// Passes: the input is quantized, upsampled and padded in one pass into a u8 channels-last
/// image (codes offset to 0…255, the offset's contribution folded into the bias); oneDNN
/// convolves it into float channels-last (Σ + bias)·multiplier; one pass rounds, saturates,
/// applies Relu, dequantizes and writes planar NCHW, the layout the rest of the graph reads.
final class QuantizedConvKernel: Kernel {
    /// Per-tensor quantization of an activation: value = (code − zero)·scale.
    struct Activation: Equatable {
        let scale: Float, zero: Float
        /// int8 codes (−128…127), else uint8 (0…255).
        let signed: Bool
        var lo: Float { signed ? -128 : 0 }
        var hi: Float { signed ? 127 : 255 }
        /// Added to a code to make it a u8 value.
        var offset: Int { signed ? 128 : 0 }
    }

    struct Plan {
        var input: Activation
        /// The source is N×H×W×C (a Transpose to NCHW sat between quantizing and dequantizing).
        var sourceChannelsLast: Bool
        var upsample = 1
        var padMode = PadKernel.Mode.constant
        /// top, left, bottom, right, of the Pad before the convolution
        var pads = [0, 0, 0, 0]
        /// The convolution's own zero padding: top, left, bottom, right.
        var convPads = [0, 0, 0, 0]
        var relu = false
        var output = Activation(scale: 1, zero: 0, signed: true)

        init(input: Activation, sourceChannelsLast: Bool) {
            self.input = input
            self.sourceChannelsLast = sourceChannelsLast
        }
    }

    /// Whether oneDNN runs u8×s8 convolutions with exact int32 sums on this CPU: with AVX-512 VNNI
    /// (or AMX). Without, its AVX-512/AVX2 kernels multiply pairs with saturating 16-bit adds and
    /// halve the weights to avoid overflow, which is not exact; the float path is used then.
    static let exactOnThisCPU: Bool = {
        let isa = dnnl_get_effective_cpu_isa().rawValue
        return isa & dnnl_cpu_isa_avx512_core_vnni.rawValue == dnnl_cpu_isa_avx512_core_vnni.rawValue
    }()

    let plan: Plan
    let conv: ConvKernel
    let node: String
    /// OIHW int8 codes.
    private let weights: [Int8]
    private let weightShape: [Int]
    /// The bias with the input's zero point and the u8 offset folded in:
    /// Σ (code − zx)·w = Σ (code + offset)·w − (offset + zx)·Σ w.
    private let bias: [Int32]
    /// sx·sw[c]/sy, rounded as onnxruntime computes it.
    private let multipliers: [Float]

    init(plan: Plan, conv: ConvKernel, weights: [Int8], weightShape: [Int], weightScales: [Float], bias: [Int32], node: String) {
        self.plan = plan
        self.conv = conv
        self.node = node
        self.weights = weights
        self.weightShape = weightShape
        let outC = weightShape[0], perChannel = weights.count / outC
        let shift = Int32(plan.input.offset) + Int32(plan.input.zero)
        self.bias = (0..<outC).map { c in
            let sum = weights[c * perChannel..<(c + 1) * perChannel].reduce(Int32(0)) { $0 + Int32($1) }
            return bias[c] - shift * sum
        }
        multipliers = (0..<outC).map { c in
            plan.input.scale * weightScales[weightScales.count == 1 ? 0 : c] / plan.output.scale
        }
    }

    private final class Compiled {
        let primitive: DNNLPrimitive
        let srcMD: dnnl_memory_desc_t, dstMD: dnnl_memory_desc_t, scratchMD: dnnl_memory_desc_t
        let weights: DNNLMemory, bias: DNNLMemory
        /// Source row and column of each padded position; −1 for the convolution's zero padding.
        let rows: [Int], cols: [Int]
        let outShape: [Int]

        init(primitive: DNNLPrimitive, srcMD: dnnl_memory_desc_t, dstMD: dnnl_memory_desc_t, scratchMD: dnnl_memory_desc_t,
             weights: DNNLMemory, bias: DNNLMemory, rows: [Int], cols: [Int], outShape: [Int]) {
            self.primitive = primitive; self.srcMD = srcMD; self.dstMD = dstMD; self.scratchMD = scratchMD
            self.weights = weights; self.bias = bias; self.rows = rows; self.cols = cols; self.outShape = outShape
        }
    }

    private var cache: [[Int]: Compiled] = [:]

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.floatTensor(0)
        guard x.shape.count == 4 else { throw .shapeMismatch("Conv '\(node)': 4-D input expected, got \(x.shape)") }
        let compiled: Compiled
        if let c = cache[x.shape] {
            compiled = c
        } else {
            compiled = try compile(x.shape, context)
            if cache.count > 8 { cache.removeAll() }  // many sizes in a row: keep memory bounded
            cache[x.shape] = compiled
        }
        let dnnl = context.dnnl
        let (n, c) = (x.shape[0], sourceChannels(x.shape))
        let (hp, wp) = (compiled.rows.count, compiled.cols.count)
        let srcBuffer = context.scratch("qconv.src", DNNLDesc.size(compiled.srcMD))
        let packed = srcBuffer.pointer.bindMemory(to: UInt8.self, capacity: n * hp * wp * c)
        for k in 0..<n {
            pack(x.storage.pointer + k * x.count / n, shape: x.shape, rows: compiled.rows, cols: compiled.cols,
                 into: packed + k * hp * wp * c, context)
        }
        let dstBuffer = context.scratch("qconv.dst", DNNLDesc.size(compiled.dstMD))
        var args: [(Int32, DNNLMemory)] = [
            (DNNL_ARG_SRC, DNNLMemory(compiled.srcMD, sharing: srcBuffer, dnnl)),
            (DNNL_ARG_WEIGHTS, compiled.weights), (DNNL_ARG_BIAS, compiled.bias),
            (DNNL_ARG_DST, DNNLMemory(compiled.dstMD, sharing: dstBuffer, dnnl)),
        ]
        let scratchBytes = DNNLDesc.size(compiled.scratchMD)
        if scratchBytes > 0 {
            args.append((DNNL_ARG_SCRATCHPAD, DNNLMemory(compiled.scratchMD, sharing: context.scratch("conv.scratchpad", scratchBytes), dnnl)))
        }
        // Multiply-adds, as ConvKernel counts them, over the four that VNNI does at once.
        let work = compiled.outShape.reduce(1, *) * weights.count / weightShape[0] / 4
        OpenMPThreads.forWork(work) { dnnl.execute(compiled.primitive, args) }
        let out = context.recycledTensor(compiled.outShape)
        let oc = compiled.outShape[1], pixels = compiled.outShape[2] * compiled.outShape[3]
        let sums = UnsafePointer(dstBuffer.pointer.bindMemory(to: Float.self, capacity: n * pixels * oc))
        for k in 0..<n {
            requantize(sums + k * pixels * oc, pixels: pixels, channels: oc, into: out.storage.pointer + k * pixels * oc, context)
        }
        return [Value(floats: out)]
    }

    private func sourceChannels(_ shape: [Int]) -> Int { plan.sourceChannelsLast ? shape[3] : shape[1] }

    /// Quantizes one image into u8 channels-last rows: row i, column j of the padded image is
    /// source row `rows[i]`, column `cols[j]` (−1: the convolution's zero padding, code zx).
    private func pack(_ x: UnsafePointer<Float>, shape: [Int], rows: [Int], cols: [Int],
                      into dst: UnsafeMutablePointer<UInt8>, _ context: ExecutionContext) {
        let q = plan.input
        let (s, z, lo, hi, offset) = (q.scale, q.zero, q.lo, q.hi, Float(q.offset))
        let zeroCode = UInt8(Int(z) + q.offset)
        let c = sourceChannels(shape)
        let (h, w) = plan.sourceChannelsLast ? (shape[1], shape[2]) : (shape[2], shape[3])
        let wp = cols.count
        rows.withUnsafeBufferPointer { rows in
            cols.withUnsafeBufferPointer { cols in
                context.parallel(rows.count, minimumPerThread: max(1, 32_768 / max(1, wp * c))) { range in
                    // One source row's codes, channel-major (planar sources) or as the source.
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: w * c) { codes in
                        let codes = codes.baseAddress!
                        var loaded = -1
                        for i in range {
                            let out = dst + i * wp * c
                            let r = rows[i]
                            if r < 0 { out.update(repeating: zeroCode, count: wp * c); continue }
                            if r != loaded {
                                // Rows of a channel are contiguous in both layouts' sources.
                                let source = plan.sourceChannelsLast ? x + r * w * c : x + r * w
                                if plan.sourceChannelsLast {
                                    for k in 0..<(w * c) {
                                        codes[k] = Self.byte(QuantizationMath.code(source[k], scale: s, zero: z, lo: lo, hi: hi) + offset)
                                    }
                                } else {
                                    for ch in 0..<c {
                                        let p = source + ch * h * w, o = codes + ch * w
                                        for k in 0..<w { o[k] = Self.byte(QuantizationMath.code(p[k], scale: s, zero: z, lo: lo, hi: hi) + offset) }
                                    }
                                }
                                loaded = r
                            }
                            if plan.sourceChannelsLast {
                                for j in 0..<wp {
                                    let sc = cols[j], o = out + j * c
                                    if sc < 0 { o.update(repeating: zeroCode, count: c) } else { o.update(from: codes + sc * c, count: c) }
                                }
                            } else {
                                for j in 0..<wp {
                                    let sc = cols[j], o = out + j * c
                                    if sc < 0 { o.update(repeating: zeroCode, count: c); continue }
                                    for ch in 0..<c { o[ch] = codes[ch * w + sc] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// An integer-valued float in 0…255 as a byte: adding 1.5·2²³ puts the integer in the low
    /// mantissa bits. No range check (a checked conversion stops the loop from vectorising).
    @inline(__always)
    private static func byte(_ v: Float) -> UInt8 { UInt8(truncatingIfNeeded: (v + 12_582_912).bitPattern) }

    /// Channels-last (Σ + bias)·multiplier → planar dequantized values of the output's codes:
    /// [Relu], saturate to the code range less the zero point, round half to even (MLAS's order),
    /// times the output scale (= (code − zy)·sy, as DequantizeLinear gives it).
    private func requantize(_ y: UnsafePointer<Float>, pixels: Int, channels c: Int, into out: UnsafeMutablePointer<Float>,
                            _ context: ExecutionContext) {
        let q = plan.output
        let (lo, hi, scale) = (plan.relu ? max(q.lo - q.zero, 0) : q.lo - q.zero, q.hi - q.zero, q.scale)
        let tile = 64
        let tiles = (pixels + tile - 1) / tile
        context.parallel(tiles, minimumPerThread: max(1, 32_768 / (tile * c))) { range in
            for t in range {
                let p0 = t * tile, p1 = min(p0 + tile, pixels)
                for ch in 0..<c {
                    let o = out + ch * pixels
                    for p in p0..<p1 {
                        let v = min(max(y[p * c + ch], lo), hi)
                        o[p] = ((v + 12_582_912) - 12_582_912) * scale
                    }
                }
            }
        }
    }

    private func compile(_ xs: [Int], _ context: ExecutionContext) throws(ONNXError) -> Compiled {
        let (n, c) = (xs[0], sourceChannels(xs))
        let (h, w) = plan.sourceChannelsLast ? (xs[1], xs[2]) : (xs[2], xs[3])
        let (outC, kh, kw) = (weightShape[0], weightShape[2], weightShape[3])
        guard c == weightShape[1], h > 0, w > 0 else {
            throw .shapeMismatch("Conv '\(node)': input \(xs) does not fit weights \(weightShape)")
        }
        if let k = conv.kernelShape, k != [kh, kw] { throw .shapeMismatch("Conv '\(node)': kernel_shape \(k) but weights \(weightShape)") }
        // The Pad's rows and columns, then the convolution's own zero padding around them (−1).
        guard let padRows = ChannelsLast.sourceIndices(h, factor: plan.upsample, before: plan.pads[0], after: plan.pads[2], mode: plan.padMode),
              let padCols = ChannelsLast.sourceIndices(w, factor: plan.upsample, before: plan.pads[1], after: plan.pads[3], mode: plan.padMode) else {
            throw .shapeMismatch("Pad before Conv '\(node)': reflect padding \(plan.pads) is too large for input \(xs)")
        }
        let p = plan.convPads
        let rows = Array(repeating: -1, count: p[0]) + padRows + Array(repeating: -1, count: p[2])
        let cols = Array(repeating: -1, count: p[1]) + padCols + Array(repeating: -1, count: p[3])
        let (hp, wp) = (rows.count, cols.count)
        let effK = [(kh - 1) * conv.dilations[0] + 1, (kw - 1) * conv.dilations[1] + 1]
        guard hp >= effK[0], wp >= effK[1] else { throw .shapeMismatch("Conv '\(node)': input \(xs) is smaller than the kernel \(weightShape)") }
        let oh = (hp - effK[0]) / conv.strides[0] + 1, ow = (wp - effK[1]) / conv.strides[1] + 1
        let outShape = [n, outC, oh, ow]

        let dnnl = context.dnnl
        var srcMD = DNNLDesc.make([n, c, hp, wp], dnnl_nhwc, dnnl_u8)
        var dstMD = DNNLDesc.make(outShape, dnnl_nhwc, dnnl_f32)
        var wAny = DNNLDesc.make(weightShape, dnnl_format_tag_any, dnnl_s8)
        var biasMD = DNNLDesc.make([outC], dnnl_x, dnnl_s32)
        let s = DNNLDesc.dims(conv.strides), d = DNNLDesc.dims(conv.dilations.map { $0 - 1 })
        let pl = DNNLDesc.dims([0, 0])
        let pr = DNNLDesc.dims([(oh - 1) * conv.strides[0] + effK[0] - hp, (ow - 1) * conv.strides[1] + effK[1] - wp])
        let attr = DNNLAttributes()
        dnnl_primitive_attr_set_scratchpad_mode(attr.handle, dnnl_scratchpad_mode_user)
        // One multiplier per output channel (mask bit 1: the channel axis of the destination).
        dnnlCheck(dnnl_primitive_attr_set_output_scales(attr.handle, Int64(outC), 1 << 1, multipliers), "output scales of \(node)")
        var desc = dnnl_convolution_desc_t()
        var pd: dnnl_primitive_desc_t?
        var status = dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                                 &srcMD, &wAny, &biasMD, &dstMD, s, d, pl, pr)
        if status == dnnl_success {
            status = withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attr.handle, dnnl.engine, nil) }
        }
        guard status == dnnl_success, let pd else {
            throw .shapeMismatch("Conv '\(node)': oneDNN cannot run int8 input \(xs) with weights \(weightShape) (status \(status.rawValue))")
        }
        let primitive = DNNLPrimitive(pd: pd, name: "int8 conv \(node)")
        let impl = primitive.implementation
        guard impl.contains("vnni") || impl.contains("amx") else {
            throw .shapeMismatch("Conv '\(node)': oneDNN chose \(impl) for int8, whose sums are not exact")
        }
        let weights = DNNLMemory(primitive.md(dnnl_query_weights_md), dnnl)
        self.weights.withUnsafeBufferPointer { codes in
            let plain = DNNLBuffer(byteCount: codes.count)
            plain.pointer.copyMemory(from: codes.baseAddress!, byteCount: codes.count)
            let plainW = DNNLMemory(DNNLDesc.make(weightShape, dnnl_oihw, dnnl_s8), sharing: plain, dnnl)
            dnnl.execute(dnnl.reorder(from: plainW.desc, to: weights.desc), [(DNNL_ARG_FROM, plainW), (DNNL_ARG_TO, weights)])
        }
        let bias = DNNLMemory(biasMD, dnnl)
        self.bias.withUnsafeBytes { bias.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return Compiled(primitive: primitive, srcMD: srcMD, dstMD: dstMD, scratchMD: primitive.md(dnnl_query_scratchpad_md),
                        weights: weights, bias: bias, rows: rows, cols: cols, outShape: outShape)
    }
}
