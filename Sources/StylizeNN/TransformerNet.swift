import StylizeTensor

/// The shape of a `TransformerNet`: its three widths, how many residual blocks, how many styles.
public struct TransformerNetArchitecture: Sendable, Equatable, Codable {
    /// Channels after the first, second and third convolution (Johnson et al.: 32, 64, 128).
    public var channels: [Int]
    public var residualBlocks: Int
    /// Styles learned by conditional instance normalization (1: an ordinary style network).
    public var styles: Int

    public init(channels: [Int] = [32, 64, 128], residualBlocks: Int = 5, styles: Int = 1) {
        self.channels = channels
        self.residualBlocks = residualBlocks
        self.styles = styles
    }

    /// Johnson et al.'s network, as in PyTorch's examples/fast_neural_style.
    public static let standard = TransformerNetArchitecture()

    /// A one-line description, "32,64,128 × 5 blocks".
    public var summary: String {
        channels.map(String.init).joined(separator: ",") + " × \(residualBlocks) blocks"
            + (styles > 1 ? ", \(styles) styles" : "")
    }
}

/// Johnson, Alahi & Fei-Fei's image transformation network (2016) as PyTorch's
/// examples/fast_neural_style builds it: three convolutions down (the last two with stride 2),
/// residual blocks, two nearest-upsampling convolutions up and a 9×9 convolution to RGB, with
/// reflection padding and instance normalization throughout. Pictures in and out are RGB in
/// 0–255. Its parameter names match `transformer_net.py`'s.
public final class TransformerNet {
    public let architecture: TransformerNetArchitecture
    public let network: Sequential
    private let norms: [InstanceNorm]

    /// A network with PyTorch's default initialization (uniform ±1/√fan-in for weights and
    /// biases, γ = 1, β = 0), drawn from `seed`.
    public init(architecture: TransformerNetArchitecture = .standard, seed: UInt64, context: DNNLContext = DNNLContext()) {
        precondition(architecture.channels.count == 3 && architecture.channels.allSatisfy { $0 > 0 }, "three widths")
        precondition(architecture.residualBlocks >= 0 && architecture.styles >= 1, "blocks ≥ 0, styles ≥ 1")
        self.architecture = architecture
        var random = SeededGenerator(seed: seed)
        var norms: [InstanceNorm] = []

        func conv(_ name: String, _ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1) -> [any Layer] {
            let bound = 1 / Float(cin * kernel * kernel).squareRoot()
            let uniform = { (n: Int) in (0..<n).map { _ in Float(2 * random.nextUnit() - 1) * bound } }
            let weight = Tensor(shape: [cout, cin, kernel, kernel], scalars: uniform(cout * cin * kernel * kernel))
            let bias = Tensor(shape: [cout], scalars: uniform(cout))
            return [ReflectionPad2D(padding: kernel / 2),
                    Conv2D(name: name, weight: weight, bias: bias, stride: stride, context: context)]
        }
        func norm(_ name: String, _ c: Int, relu: Bool = true) -> [any Layer] {
            let layer = InstanceNorm(name: name, channels: c, styles: architecture.styles, fusedReLU: relu, context: context)
            norms.append(layer)
            return [layer]
        }
        func residual(_ i: Int, _ c: Int) -> any Layer {
            Residual(Sequential(conv("res\(i).conv1", c, c, kernel: 3) + norm("res\(i).in1", c)
                                + conv("res\(i).conv2", c, c, kernel: 3) + norm("res\(i).in2", c, relu: false)))
        }

        let (c1, c2, c3) = (architecture.channels[0], architecture.channels[1], architecture.channels[2])
        var layers: [any Layer] = []
        layers += conv("conv1", 3, c1, kernel: 9) + norm("in1", c1)
        layers += conv("conv2", c1, c2, kernel: 3, stride: 2) + norm("in2", c2)
        layers += conv("conv3", c2, c3, kernel: 3, stride: 2) + norm("in3", c3)
        layers += (0..<architecture.residualBlocks).map { residual($0 + 1, c3) }
        layers += [Upsample2x()] + conv("deconv1", c3, c2, kernel: 3) + norm("in4", c2)
        layers += [Upsample2x()] + conv("deconv2", c2, c1, kernel: 3) + norm("in5", c1)
        layers += conv("deconv3", c1, 3, kernel: 9)
        network = Sequential(layers)
        self.norms = norms
    }

    /// Every learnable tensor, in network order.
    public var parameters: [Parameter] { network.parameters }

    /// Stylizes `batch` ([N, 3, H, W], RGB 0–255, H and W multiples of 4 to come back the same
    /// size); image n in style `styles[n]` (empty: style 0 for all).
    public func forward(_ batch: Tensor, styles: [Int] = []) throws(NNError) -> Tensor {
        guard batch.shape.count == 4, batch.shape[1] == 3 else { throw .wrongInputShape(batch.shape) }
        for norm in norms { norm.styleIndices = styles }
        return try network.forward(batch)
    }

    /// Adds dLoss/dParameter to every parameter's gradient, given dLoss/dOutput of the last forward.
    public func backward(_ outputGradient: Tensor) throws(NNError) {
        _ = try network.backward(outputGradient, needsInputGradient: false)
    }

    /// Replaces the parameters' values by `values` (every parameter by name, same shapes).
    public func load(_ values: [String: Tensor]) throws(NNError) {
        for p in parameters {
            guard let v = values[p.name] else { throw .missingParameter(p.name) }
            guard v.shape == p.value.shape else { throw .wrongWeightShape(layer: p.name, expected: p.value.shape, got: v.shape) }
        }
        for p in parameters { p.value = values[p.name]! }
    }
}
