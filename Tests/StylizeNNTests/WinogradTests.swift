import Testing
import StylizeNN
import StylizeTensor

/// Winograd F(2×2, 3×3) against the definition of a 3×3 convolution with zero padding 1, on
/// both blocked layouts, odd sizes (partial tiles at the edges) and a batch of two.
@Suite struct WinogradTests {
    /// Plain NCHW → nChw{block}c.
    func blocked(_ x: [Float], n: Int, c: Int, h: Int, w: Int, block: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<n { for ch in 0..<c { for i in 0..<(h * w) {
            out[((b * (c / block) + ch / block) * h * w + i) * block + ch % block] = x[(b * c + ch) * h * w + i]
        } } }
        return out
    }

    /// y[o] = Σ_i k[o][i] ⋆ x[i] (cross-correlation, zero padding 1), plain NCHW.
    func direct(_ x: [Float], _ k: [Float], n: Int, ci: Int, co: Int, h: Int, w: Int) -> [Float] {
        var y = [Float](repeating: 0, count: n * co * h * w)
        for b in 0..<n { for o in 0..<co { for i in 0..<ci { for r in 0..<h { for c in 0..<w {
            var s: Float = 0
            for dy in 0..<3 { for dx in 0..<3 {
                let (yy, xx) = (r + dy - 1, c + dx - 1)
                if yy >= 0, yy < h, xx >= 0, xx < w { s += k[((o * ci + i) * 3 + dy) * 3 + dx] * x[((b * ci + i) * h + yy) * w + xx] }
            } }
            y[((b * co + o) * h + r) * w + c] += s
        } } } } }
        return y
    }

    func worst(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()! / max(a.map(abs).max()!, 1e-6)
    }

    /// Blocks of 8 and 16 channels; all tiles at once, and chunks of 7 tiles (the last one short).
    @Test(arguments: [(8, nil), (16, nil), (8, 7), (16, 7)] as [(Int, Int?)])
    func forwardAndBackwardMatchTheDefinition(block: Int, chunk: Int?) throws {
        let (n, ci, co, h, w) = (2, 16, 32, 7, 10)
        let x = randomTensor([n, ci, h, w], seed: 1).scalars
        let k = randomTensor([co, ci, 3, 3], seed: 2).scalars
        let bias = randomTensor([co], seed: 3).scalars
        let scratch = DNNLBuffer(byteCount: WinogradConv3x3.scratchBytes(inChannels: ci, outChannels: co, batch: n, height: h, width: w))
        let layer = try k.withUnsafeBufferPointer {
            try WinogradConv3x3(weight: $0.baseAddress!, outChannels: co, inChannels: ci, batch: n, height: h, width: w,
                                block: block, scratch: scratch, context: DNNLContext(), chunkTiles: chunk)
        }
        // Forward: ReLU(conv + bias).
        var expected = direct(x, k, n: n, ci: ci, co: co, h: h, w: w)
        for i in expected.indices { expected[i] = max(0, expected[i] + bias[(i / (h * w)) % co]) }
        let src = blocked(x, n: n, c: ci, h: h, w: w, block: block)
        var out = [Float](repeating: .nan, count: n * co * h * w)
        src.withUnsafeBufferPointer { s in bias.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { d in
            layer.forward(src: s.baseAddress!, dst: d.baseAddress!, bias: b.baseAddress!)
        } } }
        let forwardError = worst(blocked(expected, n: n, c: co, h: h, w: w, block: block), out)
        #expect(forwardError < 1e-5, "forward: worst relative error \(forwardError)")
        #expect(out.contains(0) && out.contains { $0 > 0 }, "the ReLU cut some values and kept others")

        // Backward to the input of L = ⟨g, y⟩: convᵀ of g masked where y ≤ 0, i.e. the
        // convolution with flipped kernels and swapped channels.
        let g = randomTensor([n, co, h, w], seed: 4).scalars
        let masked = zip(g, expected).map { $1 > 0 ? $0 : 0 }
        var flipped = [Float](repeating: 0, count: k.count)
        for o in 0..<co { for i in 0..<ci { for t in 0..<9 { flipped[(i * co + o) * 9 + 8 - t] = k[(o * ci + i) * 9 + t] } } }
        let expectedGradient = direct(masked, flipped, n: n, ci: co, co: ci, h: h, w: w)
        let diffDst = blocked(g, n: n, c: co, h: h, w: w, block: block)
        var gradient = [Float](repeating: .nan, count: x.count)
        diffDst.withUnsafeBufferPointer { d in out.withUnsafeBufferPointer { y in gradient.withUnsafeMutableBufferPointer { s in
            layer.backwardData(diffDst: d.baseAddress!, out: y.baseAddress!, diffSrc: s.baseAddress!)
        } } }
        let backwardError = worst(blocked(expectedGradient, n: n, c: ci, h: h, w: w, block: block), gradient)
        #expect(backwardError < 1e-5, "backward: worst relative error \(backwardError)")
    }
}
