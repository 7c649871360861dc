import Testing
import StylizeNN
import StylizeTensor
import StylizeModels

/// Deterministic pseudo-random values in [-1, 1) (a linear congruential generator: tests only).
func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var s = seed &* 6364136223846793005 &+ 1442695040888963407
    let n = shape.reduce(1, *)
    var v = [Float](repeating: 0, count: n)
    for i in 0..<n {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        v[i] = Float(Int64(bitPattern: s >> 11) % 2_000_000) / 1_000_000 - 1
    }
    return Tensor(shape: shape, scalars: v)
}

@Suite struct GradientTests {
    /// L(x) = Σ over taps of ⟨R_tap, F_tap(x)⟩; backward({tap: R}) must equal dL/dx.
    func checkNetworkGradient(pooling: Pooling, taps: [String]) throws {
        let net = try VGG19(convolutions: cachedWeights(), pooling: pooling)
        var x = randomTensor([1, 3, 20, 24], seed: 1)
        x.scale(by: 60)
        let first = try net.forward(x, taps: Set(taps))
        var probes: [String: Tensor] = [:]
        for (i, t) in taps.enumerated() { probes[t] = randomTensor(first[t]!.shape, seed: UInt64(10 + i)) }
        func loss(_ x: Tensor) throws -> Double {
            let f = try net.forward(x, taps: Set(taps))
            return taps.reduce(0) { $0 + f[$1]!.dot(probes[$1]!) }
        }
        _ = try net.forward(x, taps: Set(taps))
        let grad = net.backward(probes)
        let eps: Float = 0.02
        var worst = 0.0
        let scale = Double(grad.maxAbs)
        for index in stride(from: 7, to: x.count, by: 131) {
            var plus = x, minus = x
            plus.withUnsafeMutableBufferPointer { $0[index] += eps }
            minus.withUnsafeMutableBufferPointer { $0[index] -= eps }
            let numeric = (try loss(plus) - loss(minus)) / Double(2 * eps)
            let analytic = Double(grad.scalars[index])
            worst = max(worst, abs(numeric - analytic) / scale)
        }
        #expect(worst < 1e-2, "worst relative gradient error \(worst) for \(pooling) \(taps)")
    }

    @Test func maxPoolingNetworkGradient() throws {
        try checkNetworkGradient(pooling: .max, taps: ["relu1_1", "relu2_1", "relu3_1"])
    }

    @Test func averagePoolingNetworkGradient() throws {
        try checkNetworkGradient(pooling: .average, taps: ["relu1_2", "relu3_2"])
    }

    @Test func gramMatchesDefinitionAndGradient() {
        let f = randomTensor([1, 5, 3, 4], seed: 3)
        let g = Gram.forward(f)
        let v = f.scalars
        for i in 0..<5 { for j in 0..<5 {
            let direct = (0..<12).reduce(Float(0)) { $0 + v[i * 12 + $1] * v[j * 12 + $1] } / 12
            #expect(abs(g.scalars[i * 5 + j] - direct) < 1e-5)
        } }
        // L = ⟨R, G(F)⟩ with a non-symmetric R.
        let r = randomTensor([5, 5], seed: 4)
        let df = Gram.backward(features: f, gradient: r)
        let eps: Float = 1e-2
        for index in 0..<f.count {
            var p = f, m = f
            p.withUnsafeMutableBufferPointer { $0[index] += eps }
            m.withUnsafeMutableBufferPointer { $0[index] -= eps }
            let numeric = (Gram.forward(p).dot(r) - Gram.forward(m).dot(r)) / Double(2 * eps)
            #expect(abs(numeric - Double(df.scalars[index])) < 1e-3)
        }
    }
}

@Suite struct PrecisionTests {
    /// bf16 kernels (fp32 accumulation) stay close to fp32 on activations and on the input gradient.
    @Test(.enabled(if: Precision.bf16.isAvailable, "bf16 needs AVX-512; this CPU has \(CPUCapabilities.current.isaName)"))
    func bf16TracksFP32() throws {
        let convs = try cachedWeights()
        let fp32 = try VGG19(convolutions: convs, pooling: .max, precision: .fp32)
        let bf16 = try VGG19(convolutions: convs, pooling: .max, precision: .bf16)
        var x = randomTensor([1, 3, 40, 56], seed: 5)
        x.scale(by: 100)
        let taps: Set<String> = ["relu1_1", "relu3_1", "relu5_1"]
        let a = try fp32.forward(x, taps: taps), b = try bf16.forward(x, taps: taps)
        var probes: [String: Tensor] = [:]
        for t in taps {
            var diff = a[t]!
            diff.add(b[t]!, scaledBy: -1)
            let relative = (diff.squaredNorm / a[t]!.squaredNorm).squareRoot()
            #expect(relative < 0.03, "\(t): relative difference \(relative)")
            probes[t] = randomTensor(a[t]!.shape, seed: 9)
        }
        let ga = fp32.backward(probes), gb = bf16.backward(probes)
        var diff = ga
        diff.add(gb, scaledBy: -1)
        let relative = (diff.squaredNorm / ga.squaredNorm).squareRoot()
        #expect(relative < 0.1, "input gradient: relative difference \(relative)")
    }

    /// Where oneDNN has no bf16 kernels (AVX2 and older) asking for bf16 is a typed error that
    /// names the CPU, before any kernel is built (run the suite with ONEDNN_MAX_CPU_ISA=AVX2 to
    /// see it on an AVX-512 host).
    @Test(.enabled(if: !Precision.bf16.isAvailable, "this CPU (\(CPUCapabilities.current.isaName)) runs bf16; the refusal is for AVX2 and older"))
    func bf16IsRefusedWithoutAVX512() throws {
        let convs = try cachedWeights()
        #expect(throws: NNError.precisionUnavailable(.bf16, cpu: CPUCapabilities.current.isaName)) {
            try VGG19(convolutions: convs, pooling: .max, precision: .bf16)
        }
        #expect(Precision.automatic == .fp32)
        // fp32 still runs here.
        let fp32 = try VGG19(convolutions: convs, pooling: .max, precision: .fp32)
        let out = try fp32.forward(randomTensor([1, 3, 32, 32], seed: 1), taps: ["relu2_1"])
        #expect(out["relu2_1"]!.shape == [1, 128, 16, 16])
    }
}

/// A batch of N images gives each image what a batch of one gives it: activations, and the
/// input gradient of `gradient` (the path feature visualization batches).
@Suite struct BatchTests {
    func check(precision: Precision) throws {
        let net = try VGG19(convolutions: cachedWeights(), pooling: .max, precision: precision)
        let single = try VGG19(convolutions: cachedWeights(), pooling: .max, precision: precision)
        let images = (0..<3).map { n -> Tensor in
            var x = randomTensor([1, 3, 28, 36], seed: UInt64(20 + n))
            x.scale(by: 80)
            return x
        }
        var batch = Tensor(shape: [3, 3, 28, 36])
        batch.withUnsafeMutableBufferPointer { dst in
            for (n, x) in images.enumerated() { x.withUnsafeBufferPointer { (dst.baseAddress! + n * x.count).update(from: $0.baseAddress!, count: x.count) } }
        }
        let taps: Set<String> = ["relu2_1", "relu3_2"]
        let batched = try net.forward(batch, taps: taps)
        #expect(batched["relu3_2"]!.shape == [3, 256, 7, 9])
        // The loss ⟨R, F⟩ at both taps, R drawn per image: its gradient is R pulled back.
        let probes = taps.sorted().enumerated().map { k, t in (t, randomTensor(batched[t]!.shape, seed: UInt64(40 + k))) }
        let batchGradient = try net.gradient(batch, taps: taps) { layer, a in a = probes.first { $0.0 == layer }!.1 }
        let tolerance: Float = precision == .fp32 ? 1e-4 : 2e-2
        for n in 0..<3 {
            let alone = try single.forward(images[n], taps: taps)
            for t in taps {
                let a = alone[t]!, per = a.count
                let b = Array(batched[t]!.scalars[n * per ..< (n + 1) * per])
                let worst = zip(a.scalars, b).map { abs($0 - $1) }.max()! / a.maxAbs
                #expect(worst < tolerance, "image \(n) \(t): worst relative difference \(worst)")
            }
            let g = try single.gradient(images[n], taps: taps) { layer, a in
                let probe = probes.first { $0.0 == layer }!.1, per = a.count
                a = Tensor(shape: a.shape, scalars: Array(probe.scalars[n * per ..< (n + 1) * per]))
            }
            let per = g.count
            let b = Array(batchGradient.scalars[n * per ..< (n + 1) * per])
            let worst = zip(g.scalars, b).map { abs($0 - $1) }.max()! / g.maxAbs
            #expect(worst < tolerance, "image \(n) input gradient: worst relative difference \(worst)")
        }
    }

    @Test func fp32BatchMatchesImagesAlone() throws { try check(precision: .fp32) }

    @Test(.enabled(if: Precision.bf16.isAvailable, "bf16 needs AVX-512; this CPU has \(CPUCapabilities.current.isaName)"))
    func bf16BatchMatchesImagesAlone() throws { try check(precision: .bf16) }
}
