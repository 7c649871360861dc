import Foundation
import StylizeTensor

/// A chain of elementwise steps run as one pass over the image, optionally ending in a
/// GlobalAveragePool (then the pass only sums): `PointwiseFusion` finds the chains at load.
///
/// The int8 graphs converted from TensorFlow Lite (arbitrary_transform.onnx) wrap every operator
/// in QuantizeLinear → DequantizeLinear, and their instance norm is a dozen operators; run one by
/// one, each of ~200 full-image steps reads and writes the image again into a freshly allocated
/// (page-faulting) tensor, on one thread. Here each element goes through the whole chain in
/// registers-sized blocks, on every core, and only the chain's result is written. Every operation
/// rounds exactly as its own kernel does (the same float expressions in the same order), so the
/// elementwise results are bit-identical to the unfused graph; only a pool's sum is accumulated
/// in a different order (in double, rounded once).
///
/// Inputs: the chain's input, then every other input of the original steps (operands, and the
/// constant quantization parameters, which the fast path has already baked into `ops`).
final class PointwiseChainKernel: Kernel {
    enum Op {
        /// QuantizeLinear then DequantizeLinear, per tensor: the int8 code's float value.
        case fakeQuantize(scale: Float, zero: Float, lo: Float, hi: Float, dequantScale: Float, dequantZero: Float)
        case quantize(scale: Float, zero: Float, lo: Float, hi: Float)
        case dequantize(scale: Float, zero: Float)
        case unary(UnaryKernel.Op)
        /// `chain op operand` (or `operand op chain` when `!chainFirst`); operand is an input index.
        case binary(BinaryKernel.Op, operand: Int, chainFirst: Bool)
        /// `chain op chain` (Mul(x, x): a square).
        case selfBinary(BinaryKernel.Op)
        /// A pooled chain's last quantization, as integer codes less the zero point (see
        /// `poolQuantize`): `fakeQuantize` without the final scaling, and `dequantize`'s.
        case fakeQuantizeCodes(scale: Float, zero: Float, lo: Float, hi: Float, dequantZero: Float)
        case dequantizeCodes(zero: Float)
        /// Dequantized values back to their codes less the zero point: round(x / scale), exact
        /// since x is (code − zero)·scale rounded once.
        case codes(scale: Float)
    }

    /// A QuantizeLinear after the pool (per tensor): the chain then gives int8 codes.
    struct PoolQuantization {
        let scale: Float, zero: Float, lo: Float, hi: Float
        let type: ElementType
    }

    let ops: [Op]
    /// Whether the chain ends in GlobalAveragePool.
    let pooled: Bool
    /// The original steps and the fused step's input slots, to run the chain step by step when
    /// shapes at run time do not fit the fast path (an operand that is neither a scalar, a
    /// per-channel vector nor the image's own shape).
    let original: [Graph.Step]
    let inputSlots: [Int]
    let outputSlot: Int
    let resultType: (ElementType) -> ElementType
    let poolQuantize: PoolQuantization?
    /// With `poolQuantize` after a dequantized input, the pool runs as onnxruntime's
    /// QLinearGlobalAveragePool (which it substitutes for DequantizeLinear → GlobalAveragePool →
    /// QuantizeLinear): an exact sum of the integer codes, one float multiply by
    /// input scale / (output scale · pixels), one rounding. A float mean rounds differently near
    /// a code's midpoint, and one flipped statistic shifts a whole channel of the instance norm.
    private let integerPool: (ops: [Op], inputScale: Float)?

    init(ops: [Op], pooled: Bool, poolQuantize: PoolQuantization? = nil, original: [Graph.Step], inputSlots: [Int], outputSlot: Int) {
        self.ops = ops
        self.pooled = pooled
        self.poolQuantize = poolQuantize
        var integerOps = ops
        var inputScale: Float? = nil
        switch ops.last {
        case let .fakeQuantize(s, z, lo, hi, ds, dz)?:
            integerOps[ops.count - 1] = .fakeQuantizeCodes(scale: s, zero: z, lo: lo, hi: hi, dequantZero: dz)
            inputScale = ds
        case let .dequantize(s, z)?:
            integerOps[ops.count - 1] = .dequantizeCodes(zero: z)
            inputScale = s
        case let .codes(s)?:
            inputScale = s
        default: break
        }
        integerPool = pooled && poolQuantize != nil && inputScale != nil ? (integerOps, inputScale!) : nil
        self.original = original
        self.inputSlots = inputSlots
        self.outputSlot = outputSlot
        let floatResult = pooled || ops.contains { if case .unary = $0 { return false } else { return true } }
        let lastQuantize: Bool = { if case .quantize? = ops.last { return true } else { return false } }()
        resultType = { t in lastQuantize ? .int8 : floatResult ? .float : t }
    }

    /// How an operand is indexed: one value, one per channel, or one per element.
    private enum Operand { case scalar(Float), perChannel(UnsafePointer<Float>), full(UnsafePointer<Float>) }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let xv = try inputs.required(0)
        guard xv.type.isFloatCoded, xv.count > 0 else { return try fallback(inputs, context) }
        // The chain's shape is its largest value's: a chain may start on per-channel statistics
        // and meet the image in a later Add (the instance norm's shift − mean·scale, + x·scale).
        func padded(_ s: [Int]) -> [Int] { Array(repeating: 1, count: max(0, 4 - s.count)) + s }
        var shape = padded(xv.shape)
        var rank = xv.shape.count  // of the result, as broadcasting makes it
        var operandSlots: [Int] = []
        for op in ops {
            guard case let .binary(_, k, _) = op, !operandSlots.contains(k) else { continue }
            guard let v = inputs.optional(k), v.type.isFloatCoded else { return try fallback(inputs, context) }
            operandSlots.append(k)
            rank = max(rank, v.shape.count)
            if v.count > shape.reduce(1, *) { shape = padded(v.shape) }
        }
        guard shape.count == 4, rank == 4 || !pooled else { return try fallback(inputs, context) }
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        // The input and each operand: a scalar, [1, C, 1, 1]-like or of the chain's shape.
        var tensors: [Int: Tensor] = [:]
        var kinds: [Int: Operand] = [:]
        for k in [0] + operandSlots {
            let v = k == 0 ? xv : inputs.optional(k)!
            let t = v.tensor
            tensors[k] = t
            let dims = padded(v.shape)
            if v.count == 1 {
                kinds[k] = .scalar(t.storage.pointer[0])
            } else if dims == shape {
                kinds[k] = .full(UnsafePointer(t.storage.pointer))
            } else if dims == [1, c, 1, 1], n == 1 {
                kinds[k] = .perChannel(UnsafePointer(t.storage.pointer))
            } else {
                return try fallback(inputs, context)
            }
        }
        let input = kinds[0]!
        let chunk = 2048
        let chunks = (plane + chunk - 1) / chunk
        let items = n * c * chunks
        let resultShape = pooled ? [n, c, 1, 1] : Array(shape.suffix(rank))
        let total = n * c * plane
        // The output's storage: recycled, viewed at the exact size a Tensor needs.
        let pool = pooled ? nil : context.recycledStorage(total)
        let out = pool.map { TensorStorage(viewing: $0.pointer, count: total, owner: $0) }
        var sums = [Double](repeating: 0, count: pooled ? items : 0)
        let ops = integerPool?.ops ?? self.ops
        withExtendedLifetime(tensors) {
            sums.withUnsafeMutableBufferPointer { sums in
                // Parts of at least 128K values (~0.1 ms): below that, waking a second thread on a
                // busy machine costs more than it saves (measured: 2 threads slower than 1 with 16K).
                context.parallel(items, minimumPerThread: max(1, 131_072 / min(chunk, plane))) { range in
                    // On the stack: no malloc arena per worker thread.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { temporary in
                    for item in range {
                        let planeIndex = item / chunks, part = item % chunks
                        let channel = planeIndex % c
                        let start = part * chunk, count = min(chunk, plane - start)
                        let offset = planeIndex * plane + start
                        // In place in the output (fresh storage nothing else reads), or for a pool
                        // in the stack buffer.
                        let buffer = out.map { $0.pointer + offset } ?? temporary.baseAddress!
                        switch input {
                        case let .full(p): buffer.update(from: p + offset, count: count)
                        case let .perChannel(p): buffer.update(repeating: p[channel], count: count)
                        case let .scalar(v): buffer.update(repeating: v, count: count)
                        }
                        for op in ops {
                            Self.apply(op, buffer, count, kinds, channel: channel, offset: offset)
                        }
                        if out == nil {
                            // Eight float lanes over one block: exact for the pools of integer
                            // codes (each lane stays far below 2²⁴), blocks then added in double.
                            var lanes = SIMD8<Float>.zero
                            var i = 0
                            while i + 8 <= count {
                                lanes += UnsafeRawPointer(buffer + i).loadUnaligned(as: SIMD8<Float>.self)
                                i += 8
                            }
                            var s = 0.0
                            for l in 0..<8 { s += Double(lanes[l]) }
                            while i < count { s += Double(buffer[i]); i += 1 }
                            sums[item] = s
                        }
                    }
                    }
                }
            }
        }
        if let out { return [Value(floats: Tensor(shape: resultShape, storage: out), type: resultType(xv.type))] }
        let result = Tensor(shape: resultShape)
        for p in 0..<(n * c) {
            var s = 0.0
            for k in 0..<chunks { s += sums[p * chunks + k] }
            if let q = poolQuantize, let integer = integerPool {
                // MLAS's requantization: float(Σ codes) · (sx / (sy · N)), clamped, rounded half
                // to even, plus the zero point (the sum of codes is exact in double).
                let m = integer.inputScale / (q.scale * Float(plane))
                let v = min(max(Float(s) * m, q.lo - q.zero), q.hi - q.zero)
                result.storage.pointer[p] = ((v + 12_582_912) - 12_582_912) + q.zero
            } else if let q = poolQuantize {
                result.storage.pointer[p] = QuantizationMath.code(Float(s / Double(plane)), scale: q.scale, zero: q.zero, lo: q.lo, hi: q.hi)
            } else {
                result.storage.pointer[p] = Float(s / Double(plane))
            }
        }
        return [Value(floats: result, type: poolQuantize?.type ?? .float)]
    }

    /// One operation over a block of `count` values of one channel, in place. Each case is the
    /// same float expression as the operator's own kernel, so results are identical.
    @inline(__always)
    private static func apply(_ op: Op, _ b: UnsafeMutablePointer<Float>, _ count: Int, _ kinds: [Int: Operand],
                              channel: Int, offset: Int) {
        switch op {
        case let .fakeQuantize(s, z, lo, hi, ds, dz):
            for i in 0..<count { b[i] = (QuantizationMath.code(b[i], scale: s, zero: z, lo: lo, hi: hi) - dz) * ds }
        case let .quantize(s, z, lo, hi):
            for i in 0..<count { b[i] = QuantizationMath.code(b[i], scale: s, zero: z, lo: lo, hi: hi) }
        case let .dequantize(s, z):
            for i in 0..<count { b[i] = (b[i] - z) * s }
        case let .fakeQuantizeCodes(s, z, lo, hi, dz):
            for i in 0..<count { b[i] = QuantizationMath.code(b[i], scale: s, zero: z, lo: lo, hi: hi) - dz }
        case let .dequantizeCodes(z):
            for i in 0..<count { b[i] = b[i] - z }
        case let .codes(s):
            for i in 0..<count { b[i] = (b[i] / s + 12_582_912) - 12_582_912 }
        case let .unary(u):
            switch u {
            case .relu: for i in 0..<count { b[i] = max(b[i], 0) }
            case .sigmoid: for i in 0..<count { b[i] = 1 / (1 + Foundation.exp(-b[i])) }
            case .sqrt: for i in 0..<count { b[i] = b[i].squareRoot() }
            case .reciprocal: for i in 0..<count { b[i] = 1 / b[i] }
            case .neg: for i in 0..<count { b[i] = -b[i] }
            case .abs: for i in 0..<count { b[i] = Swift.abs(b[i]) }
            case .tanh: for i in 0..<count { b[i] = Foundation.tanh(b[i]) }
            case .exp: for i in 0..<count { b[i] = Foundation.exp(b[i]) }
            default: preconditionFailure("PointwiseFusion admits no \(u)")
            }
        case let .selfBinary(o):
            binary(o, b, count, { _ in 0 }, isSelf: true)
        case let .binary(o, k, chainFirst):
            switch kinds[k]! {
            case let .scalar(v):
                if chainFirst { binary(o, b, count) { _ in v } } else { binaryReversed(o, b, count) { _ in v } }
            case let .perChannel(p):
                let v = p[channel]
                if chainFirst { binary(o, b, count) { _ in v } } else { binaryReversed(o, b, count) { _ in v } }
            case let .full(p):
                let q = p + offset
                if chainFirst { binary(o, b, count) { q[$0] } } else { binaryReversed(o, b, count) { q[$0] } }
            }
        }
    }

    /// b[i] = b[i] op y(i) (or b[i] op b[i] with `isSelf`).
    @inline(__always)
    private static func binary(_ o: BinaryKernel.Op, _ b: UnsafeMutablePointer<Float>, _ count: Int,
                               _ y: (Int) -> Float, isSelf: Bool = false) {
        switch o {
        case .add: for i in 0..<count { b[i] = b[i] + (isSelf ? b[i] : y(i)) }
        case .sub: for i in 0..<count { b[i] = b[i] - (isSelf ? b[i] : y(i)) }
        case .mul: for i in 0..<count { b[i] = b[i] * (isSelf ? b[i] : y(i)) }
        case .div: for i in 0..<count { b[i] = b[i] / (isSelf ? b[i] : y(i)) }
        case .max: for i in 0..<count { b[i] = Swift.max(b[i], isSelf ? b[i] : y(i)) }
        case .min: for i in 0..<count { b[i] = Swift.min(b[i], isSelf ? b[i] : y(i)) }
        case .pow: preconditionFailure("PointwiseFusion admits no Pow")
        }
    }

    /// b[i] = y(i) op b[i]
    @inline(__always)
    private static func binaryReversed(_ o: BinaryKernel.Op, _ b: UnsafeMutablePointer<Float>, _ count: Int, _ y: (Int) -> Float) {
        switch o {
        case .add: for i in 0..<count { b[i] = y(i) + b[i] }
        case .sub: for i in 0..<count { b[i] = y(i) - b[i] }
        case .mul: for i in 0..<count { b[i] = y(i) * b[i] }
        case .div: for i in 0..<count { b[i] = y(i) / b[i] }
        case .max: for i in 0..<count { b[i] = Swift.max(y(i), b[i]) }
        case .min: for i in 0..<count { b[i] = Swift.min(y(i), b[i]) }
        case .pow: preconditionFailure("PointwiseFusion admits no Pow")
        }
    }

    /// The original steps one by one, for shapes the fast path does not cover.
    private func fallback(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        var values: [Int: Value] = [:]
        for (i, s) in inputSlots.enumerated() { if let v = inputs.optional(i) { values[s] = v } }
        for step in original {
            let results = try Graph.execute(step, step.inputs.map { $0.flatMap { values[$0] } }, context)
            for (s, v) in zip(step.outputs, results) { values[s] = v }
        }
        guard let v = values[outputSlot] else { throw .missingInput("output of fused '\(inputs.node)'") }
        return [v]
    }
}
