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
/// float does one, and read a quarter of the bytes. Without VNNI the weights are split to 7 bits
/// against two copies of the input channels (`Sums`), which keeps the sums exact.
///
/// Passes: the input is quantized, upsampled and padded into planar u8 codes (offset to 0…255,
/// the offset's contribution folded into the bias) and reordered channels-last by oneDNN; the
/// convolution's post-ops requantize and dequantize its sums (scale, [Relu], saturate to the
/// code range less the zero point, round half to even, times the output scale: the values
/// DequantizeLinear gives), and a oneDNN reorder writes them planar (NCHW), the layout the rest of
/// the graph reads. With split weights two reorders copy the channels-last codes twice over
/// before the convolution.
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

        /// QuantizeLinear's code of a value plus the u8 offset: QuantizationMath.code's arithmetic
        /// (clamp x/scale to one step beyond the range, round half to even by adding and
        /// subtracting 1.5·2²³, add the zero point, saturate) spelled with comparisons the
        /// compiler vectorises; the byte is the low mantissa bits of code + offset + 1.5·2²³.
        /// Made once before a loop: its constants are stored, so the loop keeps them in registers.
        var bytes: Bytes { Bytes(scale: scale, zero: zero, l1: lo - zero - 1, h1: hi - zero + 1, lo: lo, hi: hi, offset: Float(offset)) }

        struct Bytes {
            let scale: Float, zero: Float, l1: Float, h1: Float, lo: Float, hi: Float, offset: Float
            @inline(__always) func callAsFunction(_ x: Float) -> UInt8 {
                var v = x / scale
                v = v < l1 ? l1 : v
                v = v > h1 ? h1 : v
                v = (v + 12_582_912) - 12_582_912 + zero
                v = v < lo ? lo : v
                v = v > hi ? hi : v
                return UInt8(truncatingIfNeeded: (v + offset + 12_582_912).bitPattern)
            }
        }
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
        /// Relu (0, ∞) or Clip's bounds on the convolution's output, before quantizing.
        var clip: (min: Float, max: Float) = (-.infinity, .infinity)
        var output = Activation(scale: 1, zero: 0, signed: true)
        /// The (planar) source already lies on the input's grid (the previous quantized step
        /// dequantized with the same scale and zero point), so its codes are exactly
        /// round(x · (1/scale)), which a oneDNN reorder computes.
        var inputOnGrid = false

        init(input: Activation, sourceChannelsLast: Bool) {
            self.input = input
            self.sourceChannelsLast = sourceChannelsLast
        }
    }

    /// How oneDNN's u8×s8 convolutions sum exactly on this CPU (`dnnl_get_effective_cpu_isa`,
    /// so ONEDNN_MAX_CPU_ISA=AVX2 gives an AVX2 machine's answer).
    enum Sums {
        /// AVX-512 VNNI or AMX: vpdpbusd adds four products straight into int32.
        case vnni
        /// AVX2, SSE4.1 or AVX-512 without VNNI: (v)pmaddubsw adds each pair of products into a
        /// saturating int16 (oneDNN's "int8 computation aspects"), exact only while
        /// |x₁w₁ + x₂w₂| ≤ 32767. Weights within ±64 keep every pair within 2·255·64 = 32640;
        /// larger ones are split (`QuantizedWeightSplit`). Depthwise kernels widen to 32 bits
        /// before multiplying and are exact as they are.
        case pairsOf7BitWeights
        /// Older CPUs: the float path.
        case none
    }

    static let sumsOnThisCPU: Sums = {
        let isa = dnnl_get_effective_cpu_isa().rawValue
        func has(_ level: dnnl_cpu_isa_t) -> Bool { isa & level.rawValue == level.rawValue }
        if has(dnnl_cpu_isa_avx512_core_vnni) { return .vnni }
        return has(dnnl_cpu_isa_sse41) ? .pairsOf7BitWeights : .none
    }()

    /// Whether a convolution with these weights (OIHW, `group` groups) can run here with exact
    /// sums: always with VNNI; without, when depthwise or ungrouped (the split doubles the input
    /// channels, which grouped layouts would interleave).
    static func runsExactly(group: Int, weightShape: [Int]) -> Bool {
        switch sumsOnThisCPU {
        case .vnni: return true
        case .pairsOf7BitWeights: return group == 1 || (weightShape[1] == 1 && weightShape[0] == group)
        case .none: return false
        }
    }

    let plan: Plan
    let conv: ConvKernel
    let node: String
    /// Hand the output on channels-last (`Value.channelsLast`), as the convolution writes it:
    /// set at load when every reader is a quantized convolution that reads it so (no reorder to
    /// planar and back between them).
    var channelsLastOutput = false
    /// With `channelsLastOutput`: hand the output on as its 8-bit codes (`Value.codes`), set at
    /// load when every reader also reads it without upsampling. The convolution's post-ops then
    /// end in code + u8 offset instead of the dequantized value, and the reader copies the bytes
    /// into its padded source (or reads them in place) instead of requantizing floats with a
    /// reorder: in the predictor those reorders were a third of oneDNN's time.
    var codesOutput = false
    /// OIHW int8 codes.
    private let weights: [Int8]
    private let weightShape: [Int]
    /// The weights go to oneDNN split in halves within ±64 (`Sums.pairsOf7BitWeights`).
    private let splitWeights: Bool
    /// The bias with the input's zero point and the u8 offset folded in:
    /// Σ (code − zx)·w = Σ (code + offset)·w − (offset + zx)·Σ w.
    private let bias: [Int32]
    /// sx·sw[c]/sy, rounded as onnxruntime computes it.
    private let multipliers: [Float]

    init(plan: Plan, conv: ConvKernel, weights: [Int8], weightShape: [Int], weightScales: [Float], bias: [Int32], node: String) {
        self.plan = plan
        self.conv = conv
        self.node = node
        self.weightShape = weightShape
        let outC = weightShape[0], perChannel = weights.count / outC
        self.weights = weights
        splitWeights = Self.sumsOnThisCPU == .pairsOf7BitWeights && conv.group == 1 && QuantizedWeightSplit.needed(weights)
        let shift = Int64(plan.input.offset) + Int64(plan.input.zero)
        self.bias = (0..<outC).map { c in
            let sum = weights[c * perChannel..<(c + 1) * perChannel].reduce(Int64(0)) { $0 + Int64($1) }
            // Saturated: TensorFlow Lite writes ±(2³¹ − 1) for channels whose weight scale is
            // ~1e-20 (dead ones); their sums times the multiplier round to 0 either way.
            return Int32(clamping: Int64(bias[c]) - shift * sum)
        }
        multipliers = (0..<outC).map { c in
            plan.input.scale * weightScales[weightScales.count == 1 ? 0 : c] / plan.output.scale
        }
    }

    private final class Compiled {
        let primitive: DNNLPrimitive
        let srcMD: dnnl_memory_desc_t, dstMD: dnnl_memory_desc_t, scratchMD: dnnl_memory_desc_t, outMD: dnnl_memory_desc_t
        let weights: DNNLMemory, bias: DNNLMemory
        /// Planar u8 codes → the convolution's channels-last source (nil for a channels-last source).
        let planarReorder: (DNNLPrimitive, dnnl_memory_desc_t)?
        /// For a source on the input's grid: reorders of the float planes straight into the
        /// padded channels-last codes, one per upsampled copy (each into a strided view).
        let gridReorders: [(DNNLPrimitive, dnnl_memory_desc_t)]
        let sourceMD: dnnl_memory_desc_t
        /// With split weights: the padded codes copied twice into the convolution's source, one
        /// reorder per copy (each into a strided view of `wideMD`).
        let widen: [(DNNLPrimitive, dnnl_memory_desc_t)]
        let wideMD: dnnl_memory_desc_t
        /// With split weights stacked as twice the output channels: the sums' halves added
        /// planar and requantized, in place of `outReorder` (`Combine`).
        let combine: Combine?
        /// Channels-last dequantized output → planar.
        let outReorder: DNNLPrimitive
        /// Source row and column of each padded position; −1 for the convolution's zero padding.
        let rows: [Int], cols: [Int]
        /// The first padded column holding the source's first column.
        let middle: Int
        let outShape: [Int]

        init(primitive: DNNLPrimitive, srcMD: dnnl_memory_desc_t, dstMD: dnnl_memory_desc_t, scratchMD: dnnl_memory_desc_t,
             outMD: dnnl_memory_desc_t, weights: DNNLMemory, bias: DNNLMemory, planarReorder: (DNNLPrimitive, dnnl_memory_desc_t)?,
             gridReorders: [(DNNLPrimitive, dnnl_memory_desc_t)], sourceMD: dnnl_memory_desc_t,
             widen: [(DNNLPrimitive, dnnl_memory_desc_t)], wideMD: dnnl_memory_desc_t,
             combine: Combine?,
             outReorder: DNNLPrimitive, rows: [Int], cols: [Int], middle: Int, outShape: [Int]) {
            self.gridReorders = gridReorders; self.sourceMD = sourceMD; self.widen = widen; self.wideMD = wideMD; self.combine = combine
            self.primitive = primitive; self.srcMD = srcMD; self.dstMD = dstMD; self.scratchMD = scratchMD; self.outMD = outMD
            self.weights = weights; self.bias = bias; self.planarReorder = planarReorder; self.outReorder = outReorder
            self.rows = rows; self.cols = cols; self.middle = middle; self.outShape = outShape
        }
    }

    private var cache: [[Int]: Compiled] = [:]

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let xv = try inputs.required(0)
        guard xv.type.isFloatCoded, xv.shape.count == 4 else { throw .shapeMismatch("Conv '\(node)': 4-D input expected, got \(xv.shape)") }
        // Another quantized convolution's channels-last output goes to the grid reorders as it is.
        var channelsLastSource: TensorStorage? = nil
        if case let .channelsLast(storage) = xv.storage, plan.inputOnGrid, !plan.sourceChannelsLast { channelsLastSource = storage }
        // Another quantized convolution's codes, on this input's grid with its u8 offset.
        var codesSource: TensorStorage? = nil
        if case let .codes(storage, scale, zeroByte) = xv.storage, plan.inputOnGrid, !plan.sourceChannelsLast, plan.upsample == 1,
           scale == plan.input.scale, zeroByte == plan.input.zero + Float(plan.input.offset) {
            codesSource = storage
        }
        let shape = xv.shape
        // Multiply-adds, as ConvKernel counts them, over the four that VNNI does at once; the
        // reorders around the convolution are memory passes of the same small size. Small ones
        // run on one OpenMP thread, and are compiled so too: oneDNN fixes a primitive's thread
        // count when it is created, and a two-thread primitive waits for a second thread that a
        // busy machine may not schedule for milliseconds (the predictor took 0.7 s instead of
        // 5 ms that way).
        let pixels = shape[0] * (plan.sourceChannelsLast ? shape[1] * shape[2] : shape[2] * shape[3])
        let work = pixels * plan.upsample * plan.upsample * weights.count / (conv.strides[0] * conv.strides[1]) / 4
        let key = shape + [codesSource != nil ? 2 : channelsLastSource == nil ? 0 : 1]
        let compiled: Compiled
        if let c = cache[key] {
            compiled = c
        } else {
            compiled = try OpenMPThreads.forWork(work) { () throws(ONNXError) -> Compiled in
                try compile(shape, channelsLastSource: channelsLastSource != nil, codesSource: codesSource != nil, context)
            }
            if cache.count > 8 { cache.removeAll() }  // many sizes in a row: keep memory bounded
            cache[key] = compiled
        }
        let dnnl = context.dnnl
        let (n, c) = (shape[0], sourceChannels(shape))
        let padded = compiled.rows.count * compiled.cols.count * c
        let srcBuffer = context.scratch("qconv.src", DNNLDesc.size(compiled.srcMD))
        // Codes without any padding are the convolution's source as they are.
        let unpadded = compiled.rows.count == shape[2] && compiled.cols.count == shape[3]
        let src = codesSource.flatMap { unpadded ? DNNLMemory(wrapping: $0, compiled.srcMD, dnnl) : nil } ?? DNNLMemory(compiled.srcMD, sharing: srcBuffer, dnnl)
        // Planar sources are quantized planar, then reordered; a channels-last one in place.
        let planar = compiled.planarReorder.map { _ in context.scratch("qconv.planar", n * padded) } ?? srcBuffer
        if let codesSource {
            if !unpadded {
                let from = UnsafeRawPointer(codesSource.pointer).bindMemory(to: UInt8.self, capacity: n * shape[1] * shape[2] * shape[3])
                padCodes(from, shape: shape, compiled, into: srcBuffer.pointer.bindMemory(to: UInt8.self, capacity: n * padded))
            }
        } else if compiled.gridReorders.isEmpty {
            let x = xv.tensor
            let codes = planar.pointer.bindMemory(to: UInt8.self, capacity: n * padded)
            for k in 0..<n {
                pack(x.storage.pointer + k * x.count / n, shape: shape, compiled, into: codes + k * padded, context)
            }
        } else {
            let source = DNNLMemory(wrapping: channelsLastSource ?? xv.tensor.storage, compiled.sourceMD, dnnl)
            OpenMPThreads.forWork(work) {
                for (reorder, view) in compiled.gridReorders {
                    dnnl.execute(reorder, [(DNNL_ARG_FROM, source), (DNNL_ARG_TO, DNNLMemory(view, sharing: srcBuffer, dnnl))])
                }
            }
            fillBorders(srcBuffer.pointer.bindMemory(to: UInt8.self, capacity: n * padded), images: n, channels: c, compiled)
        }
        // Channels-last output: the convolution writes it; planar: a reorder from scratch.
        let outCount = compiled.outShape.reduce(1, *)
        let outStorage = channelsLastOutput ? context.recycledStorage(codesOutput ? (outCount + 3) / 4 : outCount) : nil
        let dst = outStorage.map { DNNLMemory(wrapping: $0, compiled.dstMD, dnnl) }
            ?? DNNLMemory(compiled.dstMD, sharing: context.scratch("qconv.dst", DNNLDesc.size(compiled.dstMD)), dnnl)
        let wideBuffer = compiled.widen.isEmpty ? nil : context.scratch("qconv.wide", DNNLDesc.size(compiled.wideMD))
        let wide = wideBuffer.map { DNNLMemory(compiled.wideMD, sharing: $0, dnnl) }
        var args: [(Int32, DNNLMemory)] = [(DNNL_ARG_SRC, wide ?? src), (DNNL_ARG_WEIGHTS, compiled.weights),
                                           (DNNL_ARG_BIAS, compiled.bias), (DNNL_ARG_DST, dst)]
        let scratchBytes = DNNLDesc.size(compiled.scratchMD)
        if scratchBytes > 0 {
            args.append((DNNL_ARG_SCRATCHPAD, DNNLMemory(compiled.scratchMD, sharing: context.scratch("conv.scratchpad", scratchBytes), dnnl)))
        }
        let out = outStorage == nil ? context.recycledTensor(compiled.outShape) : nil  // the reorder writes every value
        OpenMPThreads.forWork(work) {
            if codesSource == nil, compiled.gridReorders.isEmpty, let (reorder, planarMD) = compiled.planarReorder {
                dnnl.execute(reorder, [(DNNL_ARG_FROM, DNNLMemory(planarMD, sharing: planar, dnnl)), (DNNL_ARG_TO, src)])
            }
            if let wideBuffer {
                for (reorder, view) in compiled.widen {
                    dnnl.execute(reorder, [(DNNL_ARG_FROM, src), (DNNL_ARG_TO, DNNLMemory(view, sharing: wideBuffer, dnnl))])
                }
            }
            dnnl.execute(compiled.primitive, args)
            if let out, let combine = compiled.combine {
                let sums = context.scratch("qconv.dst", DNNLDesc.size(compiled.dstMD))
                let planar = DNNLMemory(wrapping: out.storage, compiled.outMD, dnnl)
                dnnl.execute(combine.first, [(DNNL_ARG_FROM, DNNLMemory(combine.firstMD, sharing: sums, dnnl)), (DNNL_ARG_TO, planar)])
                dnnl.execute(combine.second, [(DNNL_ARG_FROM, DNNLMemory(combine.secondMD, sharing: sums, dnnl)), (DNNL_ARG_TO, planar)])
                dnnl.execute(combine.requantize, [(DNNL_ARG_SRC_0, planar), (DNNL_ARG_SRC_1, combine.multipliers), (DNNL_ARG_DST, planar)])
            } else if let out {
                dnnl.execute(compiled.outReorder, [(DNNL_ARG_FROM, dst), (DNNL_ARG_TO, DNNLMemory(wrapping: out.storage, compiled.outMD, dnnl))])
            }
        }
        if let outStorage, codesOutput {
            return [Value(codes: outStorage, shape: compiled.outShape, scale: plan.output.scale,
                          zeroByte: plan.output.zero + Float(plan.output.offset))]
        }
        if let outStorage { return [Value(channelsLast: outStorage, shape: compiled.outShape)] }
        return [Value(floats: out!)]
    }

    private func sourceChannels(_ shape: [Int]) -> Int { plan.sourceChannelsLast ? shape[3] : shape[1] }

    /// Quantizes one image into u8 codes (code + offset), planar C×Hp×Wp for a planar source,
    /// Hp×Wp×C for a channels-last one: padded row i, column j is source row `rows[i]`, column
    /// `cols[j]` (−1: the convolution's zero padding, code zx). The source's own columns land in
    /// one run (`middle`, repeated `upsample` times each), quantized in a loop that vectorises;
    /// the padding columns copy their codes from there.
    private func pack(_ x: UnsafePointer<Float>, shape: [Int], _ compiled: Compiled,
                      into dst: UnsafeMutablePointer<UInt8>, _ context: ExecutionContext) {
        let q = plan.input
        let zeroCode = UInt8(Int(q.zero) + q.offset)
        let c = sourceChannels(shape)
        let (h, w) = plan.sourceChannelsLast ? (shape[1], shape[2]) : (shape[2], shape[3])
        let (hp, wp, m0, up) = (compiled.rows.count, compiled.cols.count, compiled.middle, plan.upsample)
        // Channels-last: one "channel" of interleaved pixels, C bytes per column.
        let (planes, unit) = plan.sourceChannelsLast ? (1, c) : (c, 1)
        compiled.rows.withUnsafeBufferPointer { rows in
            compiled.cols.withUnsafeBufferPointer { cols in
                context.parallel(planes * hp, minimumPerThread: max(1, 65_536 / (wp * unit))) { range in
                    for item in range {
                        let (plane, i) = (item / hp, item % hp)
                        let out = dst + (plane * hp + i) * wp * unit
                        let r = rows[i]
                        if r < 0 { out.update(repeating: zeroCode, count: wp * unit); continue }
                        if i > 0, item > range.lowerBound, rows[i - 1] == r {
                            // Upsampled: the row above, just written, is this one.
                            out.update(from: out - wp * unit, count: wp * unit)
                            continue
                        }
                        let source = x + (plane * h + r) * w * unit
                        let middle = out + m0 * unit
                        if up == 1 {
                            Self.quantize(source, w * unit, into: middle, q)
                        } else {
                            // Codes into the row's end (free until the middle is written), then spread.
                            let codes = out + (wp - w) * unit
                            Self.quantize(source, w, into: codes, q)
                            if up == 2 {
                                // Each code twice: one 16-bit store of code·257 (vectorises).
                                let pairs = UnsafeMutableRawPointer(middle)
                                for k in 0..<w { pairs.storeBytes(of: UInt16(codes[k]) &* 257, toByteOffset: 2 * k, as: UInt16.self) }
                            } else {
                                for k in 0..<w {
                                    let b = codes[k]
                                    for t in 0..<up { middle[k * up + t] = b }
                                }
                            }
                        }
                        for j in 0..<wp where j < m0 || j >= m0 + w * up {
                            let o = out + j * unit
                            if cols[j] < 0 { o.update(repeating: zeroCode, count: unit) } else { o.update(from: middle + cols[j] * up * unit, count: unit) }
                        }
                    }
                }
            }
        }
    }

    /// The padding around the codes that the grid reorders wrote (the source's pixels at
    /// `middle`, each upsampled): reflected or repeated pixels copied from there, the
    /// convolution's zero padding as code zx.
    private func fillBorders(_ codes: UnsafeMutablePointer<UInt8>, images n: Int, channels c: Int, _ compiled: Compiled) {
        let (rows, cols) = (compiled.rows, compiled.cols)
        let (hp, wp, up) = (rows.count, cols.count, plan.upsample)
        let (top, left) = (plan.convPads[0] + plan.pads[0], compiled.middle)
        let (h, w) = ((hp - top - plan.convPads[2] - plan.pads[2]) / up, (wp - left - plan.convPads[3] - plan.pads[3]) / up)
        let zeroCode = UInt8(Int(plan.input.zero) + plan.input.offset)
        for k in 0..<n {
            let image = codes + k * hp * wp * c
            for i in 0..<hp {
                let interior = i >= top && i < top + h * up
                let border = interior ? Array(0..<left) + Array((left + w * up)..<wp) : Array(0..<wp)
                for j in border {
                    let o = image + (i * wp + j) * c
                    if rows[i] < 0 || cols[j] < 0 { o.update(repeating: zeroCode, count: c); continue }
                    o.update(from: image + ((top + rows[i] * up) * wp + left + cols[j] * up) * c, count: c)
                }
            }
        }
    }

    /// Another convolution's channels-last codes (`Value.codes`, not upsampled) into the padded
    /// source: each source row's pixels in one copy at `middle`, the padding columns copied
    /// pixel by pixel from the source (reflected or repeated) or set to the zero point's code.
    private func padCodes(_ x: UnsafePointer<UInt8>, shape: [Int], _ compiled: Compiled, into dst: UnsafeMutablePointer<UInt8>) {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (rows, cols, m0) = (compiled.rows, compiled.cols, compiled.middle)
        let (hp, wp) = (rows.count, cols.count)
        let zeroCode = UInt8(Int(plan.input.zero) + plan.input.offset)
        for k in 0..<n {
            let image = x + k * h * w * c
            for i in 0..<hp {
                let out = dst + (k * hp + i) * wp * c
                let r = rows[i]
                if r < 0 { out.update(repeating: zeroCode, count: wp * c); continue }
                let row = image + r * w * c
                (out + m0 * c).update(from: row, count: w * c)
                for j in 0..<wp where j < m0 || j >= m0 + w {
                    let o = out + j * c
                    if cols[j] < 0 { o.update(repeating: zeroCode, count: c) } else { o.update(from: row + cols[j] * c, count: c) }
                }
            }
        }
    }

    /// QuantizeLinear's codes of `count` values plus the u8 offset (`Activation.bytes`).
    private static func quantize(_ x: UnsafePointer<Float>, _ count: Int, into out: UnsafeMutablePointer<UInt8>, _ q: Activation) {
        let byte = q.bytes
        for k in 0..<count { out[k] = byte(x[k]) }
    }

    private func compile(_ xs: [Int], channelsLastSource: Bool, codesSource: Bool, _ context: ExecutionContext) throws(ONNXError) -> Compiled {
        let (n, c) = (xs[0], sourceChannels(xs))
        let (h, w) = plan.sourceChannelsLast ? (xs[1], xs[2]) : (xs[2], xs[3])
        let (outC, kh, kw) = (weightShape[0], weightShape[2], weightShape[3])
        let group = conv.group
        guard c == weightShape[1] * group, outC % group == 0, h > 0, w > 0 else {
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
        // Split weights go against two copies of the input channels, or, for at most four
        // output channels written planar, stack as twice the output channels: oneDNN's AVX2
        // kernels compute eight at once, so the extra ones cost nothing.
        let stacked = splitWeights && 2 * outC <= 8 && !channelsLastOutput
        let copies = splitWeights && !stacked ? 2 : 1
        let convOutC = stacked ? 2 * outC : outC
        let srcMD = DNNLDesc.make([n, c, hp, wp], dnnl_nhwc, dnnl_u8)
        var wideMD = DNNLDesc.make([n, c * copies, hp, wp], dnnl_nhwc, dnnl_u8)
        var dstMD = DNNLDesc.make([n, convOutC, oh, ow], dnnl_nhwc, codesOutput ? dnnl_u8 : dnnl_f32)
        // Grouped (depthwise) weights: [G, O/G, I/G, kh, kw] for oneDNN, the same bytes as ONNX's OIHW.
        let wDims = group == 1 ? [convOutC, weightShape[1] * copies, kh, kw] : [group, outC / group, weightShape[1], kh, kw]
        var wAny = DNNLDesc.make(wDims, dnnl_format_tag_any, dnnl_s8)
        var biasMD = DNNLDesc.make([convOutC], dnnl_x, dnnl_s32)
        let s = DNNLDesc.dims(conv.strides), d = DNNLDesc.dims(conv.dilations.map { $0 - 1 })
        let pl = DNNLDesc.dims([0, 0])
        let pr = DNNLDesc.dims([(oh - 1) * conv.strides[0] + effK[0] - hp, (ow - 1) * conv.strides[1] + effK[1] - wp])
        let attr = DNNLAttributes()
        dnnl_primitive_attr_set_scratchpad_mode(attr.handle, dnnl_scratchpad_mode_user)
        // One multiplier per output channel (mask bit 1: the channel axis of the destination),
        // then MLAS's requantization as post-ops: saturate to the code range less the zero point
        // (within Relu's or Clip's bounds over the output scale), round half to even, and
        // dequantize.
        // Stacked halves: the plain sums, requantized after their addition (`combine`).
        if !stacked {
            dnnlCheck(dnnl_primitive_attr_set_output_scales(attr.handle, Int64(outC), 1 << 1, multipliers), "output scales of \(node)")
            setRequantization(attr)
        }
        var desc = dnnl_convolution_desc_t()
        var pd: dnnl_primitive_desc_t?
        var status = dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                                 &wideMD, &wAny, &biasMD, &dstMD, s, d, pl, pr)
        if status == dnnl_success {
            status = withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attr.handle, dnnl.engine, nil) }
        }
        guard status == dnnl_success, let pd else {
            throw .shapeMismatch("Conv '\(node)': oneDNN cannot run int8 input \(xs) with weights \(weightShape) (status \(status.rawValue))")
        }
        let primitive = DNNLPrimitive(pd: pd, name: "int8 conv \(node)")
        let impl = primitive.implementation
        // Without VNNI every kernel is exact here: depthwise ones widen first, the others get
        // weights within ±64.
        guard Self.sumsOnThisCPU != .vnni || impl.contains("vnni") || impl.contains("amx") else {
            throw .shapeMismatch("Conv '\(node)': oneDNN chose \(impl) for int8, whose sums are not exact")
        }
        let weights = DNNLMemory(primitive.md(dnnl_query_weights_md), dnnl)
        let codes = !splitWeights ? self.weights
            : stacked ? QuantizedWeightSplit.stackedOutputs(self.weights) : QuantizedWeightSplit.split(self.weights, outputChannels: outC)
        codes.withUnsafeBufferPointer { codes in
            let plain = DNNLBuffer(byteCount: codes.count)
            plain.pointer.copyMemory(from: codes.baseAddress!, byteCount: codes.count)
            let plainW = DNNLMemory(DNNLDesc.make(wDims, group == 1 ? dnnl_oihw : dnnl_goihw, dnnl_s8), sharing: plain, dnnl)
            dnnl.execute(dnnl.reorder(from: plainW.desc, to: weights.desc), [(DNNL_ARG_FROM, plainW), (DNNL_ARG_TO, weights)])
        }
        let bias = DNNLMemory(biasMD, dnnl)
        // Stacked: the bias goes with the first half's sums.
        (self.bias + Array(repeating: 0, count: convOutC - outC)).withUnsafeBytes { bias.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let planarReorder = plan.sourceChannelsLast ? nil : { () -> (DNNLPrimitive, dnnl_memory_desc_t) in
            let planarMD = DNNLDesc.make([n, c, hp, wp], dnnl_nchw, dnnl_u8)
            return (dnnl.reorder(from: planarMD, to: srcMD), planarMD)
        }()
        let outMD = DNNLDesc.make(outShape, dnnl_nchw)
        let sourceMD = DNNLDesc.make([n, c, h, w], channelsLastSource ? dnnl_nhwc : dnnl_nchw)
        var gridReorders: [(DNNLPrimitive, dnnl_memory_desc_t)] = []
        if plan.inputOnGrid && !plan.sourceChannelsLast && !codesSource {
            // code + offset = round(x · (1/scale)) + zero + offset, exact for values on the grid.
            let reorderAttr = DNNLAttributes()
            var inverse = 1 / plan.input.scale
            var zero = Int32(plan.input.zero) + Int32(plan.input.offset)
            dnnlCheck(dnnl_primitive_attr_set_output_scales(reorderAttr.handle, 1, 0, &inverse), "reorder scale of \(node)")
            dnnlCheck(dnnl_primitive_attr_set_zero_points(reorderAttr.handle, DNNL_ARG_DST, 1, 0, &zero), "reorder zero point of \(node)")
            let up = plan.upsample
            for dy in 0..<up {
                for dx in 0..<up {
                    var view = dnnl_memory_desc_t()
                    let strides = DNNLDesc.dims([hp * wp * c, 1, up * wp * c, up * c])
                    dnnlCheck(dnnl_memory_desc_init_by_strides(&view, 4, DNNLDesc.dims([n, c, h, w]), dnnl_u8, strides), "view of \(node)")
                    view.offset0 = Int64(((p[0] + plan.pads[0] + dy) * wp + p[1] + plan.pads[1] + dx) * c)
                    var from = sourceMD
                    var pd: dnnl_primitive_desc_t?
                    dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &from, dnnl.engine, &view, dnnl.engine, reorderAttr.handle),
                              "quantizing reorder of \(node)")
                    gridReorders.append((DNNLPrimitive(pd: pd!, name: "quantize \(node)"), view))
                }
            }
        }
        var widen: [(DNNLPrimitive, dnnl_memory_desc_t)] = []
        for copy in 0..<(copies > 1 ? copies : 0) {
            var view = dnnl_memory_desc_t()
            let strides = DNNLDesc.dims([hp * wp * c * copies, 1, wp * c * copies, c * copies])
            dnnlCheck(dnnl_memory_desc_init_by_strides(&view, 4, DNNLDesc.dims([n, c, hp, wp]), dnnl_u8, strides), "copy view of \(node)")
            view.offset0 = Int64(copy * c)
            widen.append((dnnl.reorder(from: srcMD, to: view), view))
        }
        return Compiled(primitive: primitive, srcMD: srcMD, dstMD: dstMD, scratchMD: primitive.md(dnnl_query_scratchpad_md),
                        outMD: outMD, weights: weights, bias: bias, planarReorder: planarReorder,
                        gridReorders: gridReorders, sourceMD: sourceMD, widen: widen, wideMD: wideMD,
                        combine: stacked ? try combining(outShape, dnnl) : nil,
                        outReorder: dnnl.reorder(from: DNNLDesc.make(outShape, dnnl_nhwc, dnnl_f32), to: outMD), rows: rows, cols: cols,
                        middle: p[1] + plan.pads[1], outShape: outShape)
    }

    /// MLAS's requantization as post-ops after the per-channel multipliers: saturate to the code
    /// range less the zero point (within Relu's or Clip's bounds over the output scale), round
    /// half to even, and dequantize (or, for codes, add the zero point and u8 offset).
    private func setRequantization(_ attr: DNNLAttributes) {
        let q = plan.output
        var postOps: dnnl_post_ops_t?
        dnnlCheck(dnnl_post_ops_create(&postOps), "post-ops of \(node)")
        defer { dnnl_post_ops_destroy(postOps) }
        let floor = max(q.lo - q.zero, plan.clip.min / q.scale), ceiling = min(q.hi - q.zero, plan.clip.max / q.scale)
        dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_clip, floor, ceiling), "clip post-op")
        dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_round, 0, 0), "round post-op")
        // Codes: the integer plus zero point and u8 offset, exactly what the u8 store keeps.
        let (alpha, beta) = codesOutput ? (Float(1), q.zero + Float(q.offset)) : (q.scale, 0)
        dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_linear, alpha, beta), "scale post-op")
        dnnlCheck(dnnl_primitive_attr_set_post_ops(attr.handle, postOps), "set post-ops")
    }

    /// The stacked halves' sums (channels-last, 2·outC channels) added into the planar output by
    /// two reorders (the second accumulating), then multiplied per channel and requantized in
    /// place by a binary primitive. Each half's sum is an exact integer in float, and so is their
    /// total below 2²⁴ (as the convolution's own float conversion needs), so this rounds as the
    /// unsplit convolution does. (One binary add of the two strided halves would do, but oneDNN
    /// runs that with its reference kernel, far slower.)
    struct Combine {
        let first: DNNLPrimitive, second: DNNLPrimitive, requantize: DNNLPrimitive
        let firstMD: dnnl_memory_desc_t, secondMD: dnnl_memory_desc_t
        let multipliers: DNNLMemory
    }

    private func combining(_ outShape: [Int], _ dnnl: DNNLContext) throws(ONNXError) -> Combine {
        let (outC, oh, ow) = (outShape[1], outShape[2], outShape[3])
        var firstMD = dnnl_memory_desc_t()
        let strides = DNNLDesc.dims([oh * ow * 2 * outC, 1, ow * 2 * outC, 2 * outC])
        dnnlCheck(dnnl_memory_desc_init_by_strides(&firstMD, 4, DNNLDesc.dims(outShape), dnnl_f32, strides), "half view of \(node)")
        var secondMD = firstMD
        secondMD.offset0 = Int64(outC)
        var out = DNNLDesc.make(outShape, dnnl_nchw)
        var multiplierMD = DNNLDesc.make([1, outC, 1, 1], dnnl_nchw)
        let attr = DNNLAttributes()
        setRequantization(attr)
        var desc = dnnl_binary_desc_t()
        var pd: dnnl_primitive_desc_t?
        var status = dnnl_binary_desc_init(&desc, dnnl_binary_mul, &out, &multiplierMD, &out)
        if status == dnnl_success {
            status = withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attr.handle, dnnl.engine, nil) }
        }
        guard status == dnnl_success, let pd else {
            throw .shapeMismatch("Conv '\(node)': oneDNN cannot requantize output \(outShape) (status \(status.rawValue))")
        }
        let m = DNNLMemory(multiplierMD, dnnl)
        multipliers.withUnsafeBytes { m.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return Combine(first: dnnl.reorder(from: firstMD, to: out), second: dnnl.reorder(from: secondMD, to: out, accumulate: true),
                       requantize: DNNLPrimitive(pd: pd, name: "requantize \(node)"), firstMD: firstMD, secondMD: secondMD, multipliers: m)
    }
}
