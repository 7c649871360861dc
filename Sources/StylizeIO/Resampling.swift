import StylizeTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Image {
    /// The image resampled to `width`×`height` with a Lanczos-3 filter.
    ///
    /// Separable (rows, then columns). When shrinking, the filter is widened by the scale factor,
    /// as Pillow does, so every input pixel contributes and fine detail averages out instead of
    /// aliasing into moiré; when enlarging it interpolates. Results are clamped to [0, 1] because
    /// Lanczos overshoots slightly at sharp edges.
    ///
    /// - Precondition: `width` and `height` are at least 1.
    public func resized(width: Int, height: Int) -> Image {
        resampled(width: width, height: height, clamping: true)
    }

    /// The same Lanczos-3 resampling without the clamping, for arrays that are not pictures in
    /// [0, 1]: network inputs, differences between pictures.
    public func resizedUnclamped(width: Int, height: Int) -> Image {
        resampled(width: width, height: height, clamping: false)
    }

    private func resampled(width: Int, height: Int, clamping: Bool) -> Image {
        precondition(width >= 1 && height >= 1, "cannot resize to \(width)x\(height)")
        if width == self.width && height == self.height { return self }
        let (inWidth, inHeight) = (self.width, self.height)

        // Rows first: the column pass then runs over whole (already narrowed) rows, the
        // cache-friendly, vectorizable direction.
        var afterRows = pixels
        if width != inWidth {
            let weights = ResamplingWeights(inputSize: inWidth, outputSize: width)
            var out = Tensor(shape: [1, 3, inHeight, width])
            pixels.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    weights.resampleRows(input.baseAddress!, rows: 3 * inHeight, inputWidth: inWidth,
                                         into: output.baseAddress!)
                }
            }
            afterRows = out
        }
        var result = afterRows
        if height != inHeight {
            let weights = ResamplingWeights(inputSize: inHeight, outputSize: height)
            var out = Tensor(shape: [1, 3, height, width])
            afterRows.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    for channel in 0..<3 {
                        weights.resampleColumns(input.baseAddress! + channel * inHeight * width,
                                                width: width,
                                                into: output.baseAddress! + channel * height * width)
                    }
                }
            }
            result = out
        }
        if clamping { result.withUnsafeMutableBufferPointer { values in
            for i in values.indices {
                let v = values[i]
                values[i] = v < 0 ? 0 : (v > 1 ? 1 : v)
            }
        } }
        return Image(pixels: result)
    }

    /// The image scaled so that its longer side is `longerSide` pixels, keeping the aspect ratio;
    /// the shorter side is rounded to the nearest pixel and is at least 1.
    ///
    /// - Precondition: `longerSide` is at least 1.
    public func resized(longerSide: Int) -> Image {
        precondition(longerSide >= 1, "longer side must be at least 1, got \(longerSide)")
        let (long, short) = width >= height ? (width, height) : (height, width)
        let scaled = max(1, Int((Double(short) * Double(longerSide) / Double(long)).rounded()))
        return width >= height ? resized(width: longerSide, height: scaled)
                               : resized(width: scaled, height: longerSide)
    }
}

/// Precomputed filter taps for resampling one axis from `inputSize` to `outputSize` samples.
///
/// Computing the weights once per output row/column (not per pixel) is what makes resampling
/// cheap: the inner loops are plain multiply-adds over contiguous memory.
struct ResamplingWeights {
    /// Lobes of the Lanczos window; 3 is the usual balance of sharpness and ringing.
    static let lobes = 3.0

    let outputSize: Int
    /// Stride between output samples in `weights`.
    let taps: Int
    /// First input sample and number of taps for each output sample.
    let first: [Int]
    let count: [Int]
    let weights: [Float]

    init(inputSize: Int, outputSize: Int) {
        self.outputSize = outputSize
        let scale = Double(inputSize) / Double(outputSize)
        // Shrinking by s: stretch the kernel by s so it low-passes at the new Nyquist frequency.
        let stretch = max(scale, 1)
        let support = Self.lobes * stretch
        let taps = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: outputSize)
        var count = [Int](repeating: 0, count: outputSize)
        var weights = [Float](repeating: 0, count: outputSize * taps)
        var row = [Double](repeating: 0, count: taps)
        for i in 0..<outputSize {
            // Pixel centres sit at half-integers, so output i covers input [i·s, (i+1)·s).
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int((center - support + 0.5).rounded(.down)), 0)
            let hi = min(Int((center + support + 0.5).rounded(.down)), inputSize)
            var total = 0.0
            for j in lo..<max(hi, lo) {
                let w = Self.lanczos((Double(j) + 0.5 - center) / stretch)
                row[j - lo] = w
                total += w
            }
            if hi <= lo || total == 0 {
                // Cannot happen for sane sizes; fall back to the nearest sample.
                first[i] = min(Int(center), inputSize - 1)
                count[i] = 1
                weights[i * taps] = 1
                continue
            }
            // Normalized so that a constant stays exactly constant, also where the kernel is cut
            // off at the picture's edge.
            first[i] = lo
            count[i] = hi - lo
            for k in 0..<(hi - lo) { weights[i * taps + k] = Float(row[k] / total) }
        }
        self.taps = taps
        self.first = first
        self.count = count
        self.weights = weights
    }

    static func lanczos(_ x: Double) -> Double {
        let x = abs(x)
        if x < 1e-9 { return 1 }
        if x >= lobes { return 0 }
        let px = Double.pi * x
        return lobes * sin(px) * sin(px / lobes) / (px * px)
    }

    /// Resamples `rows` rows of `inputWidth` samples each into rows of `outputSize` samples.
    func resampleRows(_ input: UnsafePointer<Float>, rows: Int, inputWidth: Int,
                      into output: UnsafeMutablePointer<Float>) {
        weights.withUnsafeBufferPointer { w in
            first.withUnsafeBufferPointer { first in
                count.withUnsafeBufferPointer { count in
                    for row in 0..<rows {
                        let source = input + row * inputWidth
                        let destination = output + row * outputSize
                        for x in 0..<outputSize {
                            let taps = w.baseAddress! + x * self.taps
                            let samples = source + first[x]
                            var sum: Float = 0
                            for k in 0..<count[x] { sum += taps[k] * samples[k] }
                            destination[x] = sum
                        }
                    }
                }
            }
        }
    }

    /// Resamples one plane of `width`-wide rows vertically into `outputSize` rows.
    func resampleColumns(_ input: UnsafePointer<Float>, width: Int, into output: UnsafeMutablePointer<Float>) {
        weights.withUnsafeBufferPointer { w in
            for y in 0..<outputSize {
                let destination = output + y * width
                let taps = w.baseAddress! + y * self.taps
                // Accumulate whole rows: each inner loop is a contiguous axpy the compiler
                // vectorizes.
                var source = input + first[y] * width
                let w0 = taps[0]
                for x in 0..<width { destination[x] = w0 * source[x] }
                for k in 1..<max(count[y], 1) {
                    source += width
                    let wk = taps[k]
                    for x in 0..<width { destination[x] += wk * source[x] }
                }
            }
        }
    }
}
