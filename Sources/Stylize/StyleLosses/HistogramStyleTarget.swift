import Foundation
import StylizeTensor
import StylizeNN

/// Histogram matching of each channel (Risser, Wilmot & Barnes 2017): every value is matched to
/// the style's value at the same quantile, R(F), and the loss is mean((F − R(F))²). The style's
/// distribution is kept as a `bins`-bin histogram per channel (linear within a bin); the picture's
/// quantiles are its exact ranks, so the loss is a function whose gradient, 2(F − R(F))/(C·N),
/// is exact wherever no two values tie. Several styles are pooled as a mixture, each weighted by
/// its blend weight.
public final class HistogramStyleTarget: StyleTarget, Sendable {
    /// Per channel: the range [low, high] and the cumulative mass at each bin's upper edge.
    let low: [Float], high: [Float]
    let cumulative: [[Double]]
    public let bins: Int

    public init(_ styles: WeightedFeatures, bins: Int) {
        let c = styles[0].features.shape[1]
        var lo = [Float](repeating: .infinity, count: c), hi = [Float](repeating: -.infinity, count: c)
        for (features, _) in styles {
            let n = features.count / c
            features.withUnsafeBufferPointer { f in
                for ch in 0..<c {
                    for v in f[(ch * n)..<((ch + 1) * n)] { lo[ch] = min(lo[ch], v); hi[ch] = max(hi[ch], v) }
                }
            }
        }
        var mass = [[Double]](repeating: [Double](repeating: 0, count: bins), count: c)
        for (features, weight) in styles {
            let n = features.count / c
            let share = Double(weight) / Double(n)
            features.withUnsafeBufferPointer { f in
                for ch in 0..<c {
                    let width = hi[ch] - lo[ch]
                    let scale = width > 0 ? Float(bins) / width : 0
                    for v in f[(ch * n)..<((ch + 1) * n)] {
                        mass[ch][min(bins - 1, Int((v - lo[ch]) * scale))] += share
                    }
                }
            }
        }
        let total = Double(styles.reduce(0) { $0 + $1.weight })
        cumulative = mass.map { m in
            var running = 0.0
            return m.map { running += $0 / total; return running }
        }
        low = lo
        high = hi
        self.bins = bins
    }

    /// Writes into `out` the style's value at quantiles (r + ½)/N, r = 0..<N, of channel `ch`:
    /// the inverse of the histogram's piecewise-linear cumulative distribution.
    func quantiles(channel ch: Int, into out: UnsafeMutableBufferPointer<Float>) {
        let n = out.count, cdf = cumulative[ch]
        let width = Double(high[ch] - low[ch]) / Double(bins), lo = Double(low[ch])
        var bin = 0
        for r in 0..<n {
            let u = (Double(r) + 0.5) / Double(n)
            while bin < bins - 1 && cdf[bin] < u { bin += 1 }
            let below = bin == 0 ? 0 : cdf[bin - 1], inBin = cdf[bin] - below
            let t = inBin > 0 ? min(max((u - below) / inBin, 0), 1) : 0.5
            out[r] = Float(lo + width * (Double(bin) + t))
        }
    }

    public func loss(replacing features: inout Tensor) -> Double {
        let c = features.shape[1], n = features.count / c
        let sums = SharedBuffer<Double>(count: c)
        defer { sums.pointer.deallocate() }
        features.withUnsafeMutableBufferPointer { f in
            let values = SharedBuffer(f)
            DispatchQueue.concurrentPerform(iterations: c) { ch in
                sums.pointer[ch] = self.match(channel: ch, UnsafeMutableBufferPointer(start: values.pointer + ch * n, count: n),
                                              gradientScale: 2 / (Float(c) * Float(n)))
            }
        }
        return UnsafeBufferPointer(start: sums.pointer, count: c).reduce(0, +) / (Double(c) * Double(n))
    }

    /// Σ (x − R(x))² over one channel's values `x`, which it replaces by scale·(x − R(x)).
    private func match(channel ch: Int, _ x: UnsafeMutableBufferPointer<Float>, gradientScale scale: Float) -> Double {
        let n = x.count
        let order = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: n)
        let target = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { order.deallocate(); target.deallocate() }
        RadixSort.order(of: UnsafeBufferPointer(x), into: order)
        quantiles(channel: ch, into: target)
        var sum = 0.0
        for r in 0..<n {
            let i = Int(order[r])
            let d = x[i] - target[r]
            sum += Double(d * d)
            x[i] = scale * d
        }
        return sum
    }
}

/// A buffer whose disjoint parts are written by concurrent iterations (`concurrentPerform`).
private struct SharedBuffer<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    init(count: Int) { pointer = .allocate(capacity: count) }
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { pointer = buffer.baseAddress! }
}

/// Stable least-significant-digit radix sort of floats by value, returning the order (indices).
enum RadixSort {
    /// Fills `order` with the indices of `values` in ascending order of value (ties by index).
    static func order(of values: UnsafeBufferPointer<Float>, into order: UnsafeMutableBufferPointer<UInt32>) {
        let n = values.count
        precondition(order.count == n && n < Int(UInt32.max), "radix sort: \(n) values")
        // Floats as unsigned integers in the same order: flip all bits of negatives, the sign of the rest.
        let keys = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 2 * n)
        let indices = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: n)
        defer { keys.deallocate(); indices.deallocate() }
        for i in 0..<n {
            let b = values[i].bitPattern
            keys[i] = b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
            order[i] = UInt32(i)
        }
        var (src, dst) = (0, n)
        var (from, to) = (order, indices)
        var counts = [Int](repeating: 0, count: 2048)
        for shift in [0, 11, 22] as [UInt32] {
            for i in counts.indices { counts[i] = 0 }
            for i in 0..<n { counts[Int((keys[src + i] >> shift) & 0x7FF)] += 1 }
            var start = 0
            for d in 0..<2048 { let k = counts[d]; counts[d] = start; start += k }
            for i in 0..<n {
                let key = keys[src + i], digit = Int((key >> shift) & 0x7FF)
                let at = counts[digit]
                counts[digit] = at + 1
                keys[dst + at] = key
                to[at] = from[i]
            }
            swap(&src, &dst)
            swap(&from, &to)
        }
        // Three passes leave the result in `indices`.
        _ = order.update(fromContentsOf: indices)
    }
}
