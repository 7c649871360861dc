import Foundation
import StylizeTensor

/// The memory passes around a fused convolution block, in the channels-last (NHWC) layout
/// oneDNN's convolutions run fastest in on AVX-512 (its brgconv kernels pick NHWC for every layer
/// of the style networks). Blocks hand each other channels-last values, so a block reads its
/// input once while upsampling and padding it (transposing only a planar NCHW input such as the
/// picture), and normalises, activates and adds the residual in one pass over the output.
enum ChannelsLast {
    /// Writes the C planes of `x` (each `width` wide) into `dst`, an Hp×Wp×C image whose row i
    /// and column j come from source row `rows[i]` and column `cols[j]` (the maps encode nearest
    /// upsampling and reflect or edge padding).
    static func pack(_ x: UnsafePointer<Float>, channels c: Int, plane: Int, width: Int,
                     rows: [Int], cols: [Int], into dst: UnsafeMutablePointer<Float>, _ context: ExecutionContext) {
        eachRow(rows, cols, context) { sourceRow, cols, i in
            let source = x + sourceRow * width
            var q = dst + i * cols.count * c
            if c == 3 {
                let (p0, p1, p2) = (source, source + plane, source + 2 * plane)
                for s in cols {
                    q[0] = p0[s]; q[1] = p1[s]; q[2] = p2[s]
                    q += 3
                }
            } else {
                for s in cols {
                    let p = source + s
                    for ch in 0..<c { q[ch] = p[ch * plane] }
                    q += c
                }
            }
        }
    }

    /// Source index along an axis of `n` values for each output position: upsampled (nearest) by
    /// `factor`, then padded by `before` and `after` (reflected, or the edge repeated; constant
    /// mode is taken as no padding). Nil when reflect padding is wider than the axis allows.
    static func sourceIndices(_ n: Int, factor: Int, before: Int, after: Int, mode: PadKernel.Mode) -> [Int]? {
        let up = n * factor
        if mode == .reflect, before > up - 1 || after > up - 1 { return nil }
        return (0..<(up + before + after)).map { i in
            var k = i - before
            if k < 0 { k = mode == .reflect ? -k : 0 }
            if k >= up { k = mode == .reflect ? 2 * (up - 1) - k : up - 1 }
            return k / factor
        }
    }

    /// Runs `body(rows[i], cols, i)` for every output row i, rows split between threads.
    private static func eachRow(_ rows: [Int], _ cols: [Int], _ context: ExecutionContext,
                                _ body: (Int, UnsafeBufferPointer<Int>, Int) -> Void) {
        rows.withUnsafeBufferPointer { rows in
            cols.withUnsafeBufferPointer { cols in
                context.parallel(rows.count) { range in
                    for i in range { body(rows[i], cols, i) }
                }
            }
        }
    }

    /// Per-channel mean and variance (population) of `pixels` pixels of `c` interleaved channels.
    ///
    /// One pass: sums of deviations from each channel's first value (which keeps the
    /// E[x²] − E[x]² form from cancelling), in sixteen-lane float vectors over short runs that are
    /// then added up in double.
    static func moments(_ d: UnsafePointer<Float>, pixels: Int, channels c: Int, _ context: ExecutionContext) -> (mean: [Double], variance: [Double]) {
        // Lane l of vector v in a period of L = lcm(C, 16) floats always holds channel (16v + l) mod C.
        var l = 16
        while l % c != 0 { l += 16 }
        let vectors = l / 16, pixelsPerPeriod = l / c
        let periods = pixels / pixelsPerPeriod
        let shiftValues = (0..<l).map { d[$0 % c] }
        var shifts = [SIMD16<Float>](repeating: .zero, count: vectors)
        for v in 0..<vectors { for k in 0..<16 { shifts[v][k] = shiftValues[v * 16 + k] } }
        let parts = max(1, min(context.threads, periods / 64))
        var partial = [[Double]](repeating: [Double](repeating: 0, count: 2 * c), count: parts)
        partial.withUnsafeMutableBufferPointer { partial in
            shifts.withUnsafeBufferPointer { shifts in
                let sums = partial.baseAddress!
                context.parallel(parts) { range in
                    for part in range {
                        let first = periods * part / parts, last = periods * (part + 1) / parts
                        var totals = [Double](repeating: 0, count: 2 * c)
                        let a1 = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: vectors)
                        let a2 = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: vectors)
                        defer { a1.deallocate(); a2.deallocate() }
                        var start = first
                        while start < last {
                            // Runs of 256 periods: float sums short enough to stay accurate.
                            let end = min(start + 256, last)
                            a1.initialize(repeating: .zero, count: vectors)
                            a2.initialize(repeating: .zero, count: vectors)
                            var p = UnsafeRawPointer(d + start * l)
                            if vectors == 1 {
                                var s1 = SIMD16<Float>.zero, s2 = SIMD16<Float>.zero
                                let k = shifts[0]
                                for _ in start..<end {
                                    let x = p.loadUnaligned(as: SIMD16<Float>.self) - k
                                    s1 += x; s2 += x * x
                                    p += 64
                                }
                                a1[0] = s1; a2[0] = s2
                            } else if vectors == 2 {
                                var s1 = SIMD16<Float>.zero, s2 = SIMD16<Float>.zero
                                var t1 = SIMD16<Float>.zero, t2 = SIMD16<Float>.zero
                                let k0 = shifts[0], k1 = shifts[1]
                                for _ in start..<end {
                                    let x = p.loadUnaligned(as: SIMD16<Float>.self) - k0
                                    let y = (p + 64).loadUnaligned(as: SIMD16<Float>.self) - k1
                                    s1 += x; s2 += x * x; t1 += y; t2 += y * y
                                    p += 128
                                }
                                a1[0] = s1; a2[0] = s2; a1[1] = t1; a2[1] = t2
                            } else {
                                for _ in start..<end {
                                    for v in 0..<vectors {
                                        let x = (p + 64 * v).loadUnaligned(as: SIMD16<Float>.self) - shifts[v]
                                        a1[v] += x; a2[v] += x * x
                                    }
                                    p += 64 * vectors
                                }
                            }
                            for v in 0..<vectors {
                                for k in 0..<16 {
                                    let ch = (v * 16 + k) % c
                                    totals[ch] += Double(a1[v][k]); totals[c + ch] += Double(a2[v][k])
                                }
                            }
                            start = end
                        }
                        (sums + part).pointee = totals
                    }
                }
            }
        }
        var s1 = [Double](repeating: 0, count: c), s2 = [Double](repeating: 0, count: c)
        for t in partial { for ch in 0..<c { s1[ch] += t[ch]; s2[ch] += t[c + ch] } }
        // Pixels after the last whole period.
        for i in (periods * pixelsPerPeriod * c)..<(pixels * c) {
            let x = Double(d[i] - shiftValues[i % c])
            s1[i % c] += x; s2[i % c] += x * x
        }
        let n = Double(max(pixels, 1))
        var mean = [Double](repeating: 0, count: c), variance = mean
        for ch in 0..<c {
            let m = s1[ch] / n
            mean[ch] = Double(shiftValues[ch]) + m
            variance[ch] = max(s2[ch] / n - m * m, 0)
        }
        return (mean, variance)
    }

    /// What follows the per-channel affine map.
    enum Activation { case none, relu, sigmoid }

    /// Like `pack`, from an interleaved H×W×C source: each output row is source row `rows[i]`,
    /// copied in runs of consecutive source columns.
    static func packInterleaved(_ x: UnsafePointer<Float>, channels c: Int, width: Int,
                                rows: [Int], cols: [Int], into dst: UnsafeMutablePointer<Float>, _ context: ExecutionContext) {
        eachRow(rows, cols, context) { sourceRow, cols, i in
            let wp = cols.count
            let source = x + sourceRow * width * c, q = dst + i * wp * c
            var j = 0
            while j < wp {
                var k = j + 1
                while k < wp && cols[k] == cols[k - 1] + 1 { k += 1 }
                (q + j * c).update(from: source + cols[j] * c, count: (k - j) * c)
                j = k
            }
        }
    }

    /// N planes → interleaved, for a residual that arrives planar.
    static func interleave(_ t: Tensor) -> TensorStorage {
        let (n, c, pixels) = (t.shape[0], t.shape[1], t.shape[2] * t.shape[3])
        let out = TensorStorage(count: t.count)
        for s in 0..<n {
            let src = t.storage.pointer + s * c * pixels, dst = out.pointer + s * c * pixels
            for p0 in stride(from: 0, to: pixels, by: 64) {
                for ch in 0..<c {
                    let p = src + ch * pixels
                    for i in p0..<min(p0 + 64, pixels) { dst[i * c + ch] = p[i] }
                }
            }
        }
        return out
    }

    /// `activation(d · scale + shift) (+ residual)` per channel, interleaved in and out.
    static func normalize(_ d: UnsafePointer<Float>, pixels: Int, channels c: Int, scale: [Float], shift: [Float],
                          activation: Activation, residual: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
                          _ context: ExecutionContext) {
        var l = 16
        while l % c != 0 { l += 16 }
        let vectors = l / 16
        var k = [SIMD16<Float>](repeating: .zero, count: vectors), b = k
        for v in 0..<vectors {
            for lane in 0..<16 { k[v][lane] = scale[(v * 16 + lane) % c]; b[v][lane] = shift[(v * 16 + lane) % c] }
        }
        let total = pixels * c, periods = total / l
        k.withUnsafeBufferPointer { k in
            b.withUnsafeBufferPointer { b in
                context.parallel(periods, minimumPerThread: 1024) { range in
                    for period in range {
                        let base = period * l
                        for v in 0..<vectors {
                            let o = base + v * 16
                            var y = UnsafeRawPointer(d + o).loadUnaligned(as: SIMD16<Float>.self) * k[v] + b[v]
                            switch activation {
                            case .none: if let r = residual { y = UnsafeRawPointer(r + o).loadUnaligned(as: SIMD16<Float>.self) + y }
                            case .relu: y = y.replacing(with: 0, where: y .< 0)
                            case .sigmoid: for lane in 0..<16 { y[lane] = 1 / (1 + Foundation.exp(-y[lane])) }
                            }
                            UnsafeMutableRawPointer(out + o).storeBytes(of: y, as: SIMD16<Float>.self)
                        }
                    }
                }
            }
        }
        for i in (periods * l)..<total {
            var y = d[i] * scale[i % c] + shift[i % c]
            switch activation {
            case .none: if let r = residual { y = r[i] + y }
            case .relu: y = max(y, 0)
            case .sigmoid: y = 1 / (1 + Foundation.exp(-y))
            }
            out[i] = y
        }
    }
}
