import Testing
import StylizeModels
import StylizeNN
import StylizeTensor

/// Johnson et al.'s transformation network: its gradient along itself, loading by name and shape,
/// and its parameters as the architecture (and so the exporter) names them.
@Suite struct TransformerNetTests {
    let context = DNNLContext()

    /// The whole network, small: every parameter kind, two styles in one batch. Single
    /// coordinates are a poor test here: through instance norms on 4×3-pixel planes and a dozen
    /// ReLUs the loss curves sharply, and float32 rounding swamps small steps. Along the gradient
    /// itself the derivative is largest and best conditioned: (L(θ + εĝ) − L(θ − εĝ)) / 2ε must
    /// equal ‖∇L‖.
    @Test(arguments: UpsamplingMode.allCases) func transformerNetGradients(upsampling: UpsamplingMode) throws {
        let net = TransformerNet(architecture: TransformerNetArchitecture(channels: [4, 6, 8], residualBlocks: 1, styles: 2,
                                                                          upsampling: upsampling),
                                 seed: 1, context: context)
        var x = randomTensor([2, 3, 16, 12], seed: 23)
        x.scale(by: 100)
        let y = try net.forward(x, styles: [1, 0])
        #expect(y.shape == x.shape)
        let probe = randomTensor(y.shape, seed: 99)
        for p in net.parameters { p.zeroGradient() }
        try net.backward(probe)
        let original = net.parameters.map(\.value)
        let norm = net.parameters.reduce(0) { $0 + $1.gradient.squaredNorm }.squareRoot()
        func loss(_ eps: Float) throws -> Double {
            for (p, v) in zip(net.parameters, original) {
                p.value = v
                p.value.add(p.gradient, scaledBy: eps / Float(norm))
            }
            return try net.forward(x, styles: [1, 0]).dot(probe)
        }
        // Bilinear upsampling's loss bends sooner along the gradient (3e-4 is 1.7% off, 1e-4 4e-5).
        let eps: Float = 1e-4
        let numeric = (try loss(eps) - loss(-eps)) / Double(2 * eps)
        #expect(abs(numeric - norm) < 1e-2 * norm, "finite difference \(numeric), backward \(norm)")
        for (p, v) in zip(net.parameters, original) { p.value = v }
        #expect(net.parameters.count == 30)  // 8 convolutions and 7 norms, a weight and a bias each
        // Biases in front of an instance norm cannot change anything: the norm subtracts them.
        #expect(net.parameters.first { $0.name == "conv2.bias" }!.gradient.maxAbs < 1e-3)
    }

    @Test func transformerNetLoadChecksNamesAndShapes() throws {
        let small = TransformerNetArchitecture(channels: [4, 6, 8], residualBlocks: 1)
        let a = TransformerNet(architecture: small, seed: 1, context: context)
        let b = TransformerNet(architecture: small, seed: 2, context: context)
        var values = Dictionary(uniqueKeysWithValues: a.parameters.map { ($0.name, $0.value) })
        try b.load(values)
        let x = randomTensor([1, 3, 8, 8], seed: 3)
        #expect(try a.forward(x).scalars == b.forward(x).scalars)
        values["conv1.weight"] = Tensor(shape: [4, 3, 3, 3])
        #expect(throws: NNError.wrongWeightShape(layer: "conv1.weight", expected: [4, 3, 9, 9], got: [4, 3, 3, 3])) { try b.load(values) }
        values["conv1.weight"] = nil
        #expect(throws: NNError.missingParameter("conv1.weight")) { try b.load(values) }
    }

    /// The network and the exporter agree on every parameter's name and shape.
    @Test(arguments: [TransformerNetArchitecture.standard, TransformerNetArchitecture(channels: [4, 6, 8], residualBlocks: 2, styles: 3)])
    func transformerNetParametersMatchTheArchitecture(architecture: TransformerNetArchitecture) {
        let net = TransformerNet(architecture: architecture, seed: 1, context: context)
        #expect(net.parameters.map(\.name) == architecture.parameterShapes.map(\.name))
        #expect(net.parameters.map(\.value.shape) == architecture.parameterShapes.map(\.shape))
    }
}
