import Testing
import StylizeNN
import StylizeTensor

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

/// The training layers: forward values against direct computations, and every backward pass
/// (to the input and to the parameters) against central finite differences of
/// L = ⟨R, layer(x)⟩ for a fixed random R.
@Suite struct LayerTests {
    let context = DNNLContext()

    /// Checks dL/dx and dL/dθ at sampled coordinates; returns the worst relative error.
    @discardableResult
    func checkGradients(_ layer: any Layer, input: Tensor, eps: Float = 1e-2, samples: Int = 24,
                        forward: ((Tensor) throws -> Tensor)? = nil,
                        backward: ((Tensor) throws -> Tensor?)? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> Double {
        let run = forward ?? { try layer.forward($0) }
        let back = backward ?? { try layer.backward($0, needsInputGradient: true) }
        let y = try run(input)
        let probe = randomTensor(y.shape, seed: 99)
        for p in layer.parameters { p.zeroGradient() }
        let inputGradient = try back(probe)
        var inputGlobal = input
        func loss() throws -> Double { try run(inputGlobal).dot(probe) }
        var worst = 0.0
        func compare(_ numeric: Double, _ analytic: Double, _ what: String) {
            let error = abs(numeric - analytic) / max(1, abs(analytic))
            worst = max(worst, error)
            #expect(error < 2e-2, "\(what): finite difference \(numeric), backward \(analytic)", sourceLocation: sourceLocation)
        }
        if let inputGradient {
            #expect(inputGradient.shape == input.shape, sourceLocation: sourceLocation)
            for index in sampleIndices(input.count, samples) {
                inputGlobal = input
                inputGlobal.withUnsafeMutableBufferPointer { $0[index] += eps }
                let plus = try loss()
                inputGlobal = input
                inputGlobal.withUnsafeMutableBufferPointer { $0[index] -= eps }
                let minus = try loss()
                compare((plus - minus) / Double(2 * eps), Double(inputGradient.scalars[index]), "input[\(index)]")
            }
            inputGlobal = input
        }
        for p in layer.parameters {
            let analytic = p.gradient.scalars
            let original = p.value
            for index in sampleIndices(original.count, samples / 2) {
                p.value = original
                p.value.withUnsafeMutableBufferPointer { $0[index] += eps }
                let plus = try loss()
                p.value = original
                p.value.withUnsafeMutableBufferPointer { $0[index] -= eps }
                let minus = try loss()
                compare((plus - minus) / Double(2 * eps), Double(analytic[index]), "\(p.name)[\(index)]")
            }
            p.value = original
        }
        return worst
    }

    func sampleIndices(_ count: Int, _ samples: Int) -> [Int] {
        let step = max(1, count / max(samples, 1))
        return Array(stride(from: step / 3, to: count, by: step).prefix(samples))
    }

    func conv(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, seed: UInt64 = 1) -> Conv2D {
        Conv2D(name: "c", weight: randomTensor([cout, cin, kernel, kernel], seed: seed),
               bias: randomTensor([cout], seed: seed + 1), stride: stride, context: context)
    }

    @Test func convolutionMatchesDirectSum() throws {
        let layer = conv(3, 5, kernel: 3, stride: 2)
        let x = randomTensor([2, 3, 9, 8], seed: 3)
        let y = try layer.forward(x)
        #expect(y.shape == [2, 5, 4, 3])
        let w = layer.weight.value.scalars, b = layer.bias.value.scalars, xs = x.scalars, ys = y.scalars
        var worst: Float = 0
        for n in 0..<2 { for o in 0..<5 { for i in 0..<4 { for j in 0..<3 {
            var sum = b[o]
            for c in 0..<3 { for u in 0..<3 { for v in 0..<3 {
                sum += w[((o * 3 + c) * 3 + u) * 3 + v] * xs[((n * 3 + c) * 9 + 2 * i + u) * 8 + 2 * j + v]
            } } }
            worst = max(worst, abs(sum - ys[((n * 5 + o) * 4 + i) * 3 + j]))
        } } } }
        #expect(worst < 1e-4)
    }

    @Test(arguments: [(3, 16, 9, 1), (16, 32, 3, 2), (32, 32, 3, 1), (8, 3, 9, 1)])
    func convolutionGradients(cin: Int, cout: Int, kernel: Int, stride: Int) throws {
        let layer = conv(cin, cout, kernel: kernel, stride: stride)
        try checkGradients(layer, input: randomTensor([2, cin, 13, 12], seed: 5))
    }

    // 3 channels × 2 images run on the plain layout; 8 × 2 fill a channel block (8 with AVX2,
    // 16 with AVX-512) and run on the blocked one.
    @Test(arguments: [3, 8])
    func instanceNormMatchesDefinition(channels c: Int) throws {
        let norm = InstanceNorm(name: "in", channels: c, styles: 2, fusedReLU: false, context: context)
        norm.weight.value = randomTensor([2, c], seed: 7)
        norm.bias.value = randomTensor([2, c], seed: 8)
        norm.styleIndices = [1, 0]
        var x = randomTensor([2, c, 5, 6], seed: 9)
        x.scale(by: 40)
        let y = try norm.forward(x).scalars, xs = x.scalars
        let g = norm.weight.value.scalars, b = norm.bias.value.scalars
        var worst: Float = 0
        for n in 0..<2 {
            let style = [1, 0][n]
            for k in 0..<c {
                let plane = Array(xs[((n * c + k) * 30)..<((n * c + k + 1) * 30)])
                let mean = plane.reduce(0, +) / 30
                let variance = plane.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 30
                for i in 0..<30 {
                    let expected = g[style * c + k] * (plane[i] - mean) / (variance + 1e-5).squareRoot() + b[style * c + k]
                    worst = max(worst, abs(expected - y[(n * c + k) * 30 + i]))
                }
            }
        }
        #expect(worst < 1e-4)
    }

    @Test(arguments: [(false, 4), (true, 4), (false, 8), (true, 8)])
    func instanceNormGradients(relu: Bool, channels c: Int) throws {
        let norm = InstanceNorm(name: "in", channels: c, styles: 3, fusedReLU: relu, context: context)
        norm.weight.value = randomTensor([3, c], seed: 11)
        norm.bias.value = randomTensor([3, c], seed: 12)
        norm.styleIndices = [2, 0]
        try checkGradients(norm, input: randomTensor([2, c, 7, 6], seed: 13), eps: 3e-3)
        // The unused style's row gets no gradient.
        #expect(norm.weight.gradient.scalars[c..<(2 * c)].allSatisfy { $0 == 0 })
    }

    @Test func reflectionPaddingMirrorsWithoutRepeatingTheEdge() throws {
        let pad = ReflectionPad2D(padding: 2)
        let y = try pad.forward(Tensor(shape: [1, 1, 3, 3], scalars: (1...9).map(Float.init)))
        #expect(y.shape == [1, 1, 7, 7])
        #expect(Array(y.scalars[14..<21]) == [3, 2, 1, 2, 3, 2, 1])  // row 2 = source row 0
        #expect(Array(y.scalars[0..<7]) == [9, 8, 7, 8, 9, 8, 7])    // row 0 = source row 2
        try checkGradients(pad, input: randomTensor([2, 3, 5, 4], seed: 15))
        #expect(throws: NNError.self) { try pad.forward(Tensor(shape: [1, 1, 2, 5])) }
    }

    @Test func upsamplingRepeatsEachPixel() throws {
        let up = Upsample2x()
        let y = try up.forward(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4]))
        #expect(y.scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        try checkGradients(up, input: randomTensor([2, 3, 3, 5], seed: 17))
    }

    /// PyTorch's `interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)` of
    /// [[1, 2], [3, 4]], and of a 1 × 3 row (edges clamp: the first and last pixels repeat).
    @Test func bilinearUpsamplingAsPyTorch() throws {
        let up = Upsample2x(mode: .bilinear)
        let y = try up.forward(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4]))
        #expect(y.scalars == [1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0])
        let row = try up.forward(Tensor(shape: [1, 1, 1, 3], scalars: [0, 4, 8]))
        #expect(row.scalars == [0, 1, 3, 5, 7, 8, 0, 1, 3, 5, 7, 8])
        try checkGradients(up, input: randomTensor([2, 3, 3, 5], seed: 17))
        try checkGradients(up, input: randomTensor([1, 2, 1, 1], seed: 18))
    }

    @Test func residualBlockGradients() throws {
        let block = Residual(Sequential([ReflectionPad2D(padding: 1), conv(6, 6, kernel: 3, seed: 21),
                                         InstanceNorm(name: "in", channels: 6, fusedReLU: true, context: context)]))
        try checkGradients(block, input: randomTensor([2, 6, 8, 8], seed: 19), eps: 3e-3)
    }

    @Test func adamOverParametersStepsEachAndClearsGradients() throws {
        let p = Parameter(name: "p", value: Tensor(shape: [3], scalars: [1, 2, 3]))
        let q = Parameter(name: "q", value: Tensor(shape: [2], scalars: [5, 5]))
        var adam = ParameterAdam(learningRate: 0.1)
        // Minimise Σ p² + Σ q²: every value moves toward 0 by about the learning rate per step.
        for _ in 0..<5 {
            p.gradient = Tensor(shape: [3], scalars: p.value.scalars.map { 2 * $0 })
            q.gradient = Tensor(shape: [2], scalars: q.value.scalars.map { 2 * $0 })
            adam.step([p, q])
            #expect(p.gradient.scalars == [0, 0, 0])
        }
        #expect(adam.iteration == 5)
        #expect(abs(p.value.scalars[2] - 2.5) < 0.01)
        #expect(abs(q.value.scalars[0] - 4.5) < 0.01)
    }
}

extension LayerTests {
    /// bf16 convolutions (float32 accumulation and weight gradients) stay close to float32 on the
    /// output, the input gradient and the weights' gradient, for the kernel shapes of the network.
    @Test(.enabled(if: Precision.bf16.isAvailable, "bf16 needs AVX-512; this CPU has \(CPUCapabilities.current.isaName)"),
          arguments: [(3, 16, 9, 1), (16, 32, 3, 2), (32, 3, 9, 1)])
    func bf16ConvolutionTracksFP32(cin: Int, cout: Int, kernel: Int, stride: Int) throws {
        let weight = randomTensor([cout, cin, kernel, kernel], seed: 31), bias = randomTensor([cout], seed: 32)
        let fp32 = Conv2D(name: "a", weight: weight, bias: bias, stride: stride, context: context)
        let bf16 = Conv2D(name: "b", weight: weight, bias: bias, stride: stride, precision: .bf16, context: context)
        let x = randomTensor([2, cin, 20, 18], seed: 33)
        let (ya, yb) = (try fp32.forward(x), try bf16.forward(x))
        let probe = randomTensor(ya.shape, seed: 34)
        let ga = try #require(try fp32.backward(probe, needsInputGradient: true))
        let gb = try #require(try bf16.backward(probe, needsInputGradient: true))
        func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
            zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / a.maxAbs
        }
        #expect(relativeError(ya, yb) < 2e-2)
        #expect(relativeError(ga, gb) < 2e-2)
        #expect(relativeError(fp32.weight.gradient, bf16.weight.gradient) < 2e-2)
        #expect(relativeError(fp32.bias.gradient, bf16.bias.gradient) < 2e-2)
    }
}
