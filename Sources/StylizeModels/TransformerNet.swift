import StylizeTensor
import StylizeNN
import StylizeIO

/// Johnson, Alahi & Fei-Fei's image transformation network (2016) as PyTorch's
/// examples/fast_neural_style builds it: three convolutions down (the last two with stride 2),
/// residual blocks, two upsampling convolutions up (nearest, or bilinear) and a 9×9 convolution to RGB, with
/// reflection padding and instance normalization throughout. Pictures in and out are RGB in
/// 0–255. Its parameter names match `transformer_net.py`'s.
public final class TransformerNet {
    public let architecture: TransformerNetArchitecture
    public let network: Sequential
    private let norms: [InstanceNorm]

    /// A network with PyTorch's default initialization (uniform ±1/√fan-in for weights and
    /// biases, γ = 1, β = 0), drawn from `seed`.
    /// - Parameter precision: the convolutions' arithmetic (`Conv2D.precision`); parameters,
    ///   norms and optimizer state are float32 in either.
    public init(architecture: TransformerNetArchitecture = .standard, seed: UInt64, precision: Precision = .fp32,
                context: DNNLContext = DNNLContext()) {
        precondition(architecture.problem == nil, architecture.problem ?? "")
        self.architecture = architecture
        var random = SeededGenerator(seed: seed)
        var norms: [InstanceNorm] = []

        func conv(_ name: String, _ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1) -> [any Layer] {
            let bound = 1 / Float(cin * kernel * kernel).squareRoot()
            let uniform = { (n: Int) in (0..<n).map { _ in Float(2 * random.nextUnit() - 1) * bound } }
            let weight = Tensor(shape: [cout, cin, kernel, kernel], scalars: uniform(cout * cin * kernel * kernel))
            let bias = Tensor(shape: [cout], scalars: uniform(cout))
            return [ReflectionPad2D(padding: kernel / 2),
                    Conv2D(name: name, weight: weight, bias: bias, stride: stride, precision: precision, context: context)]
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
        let upsampling = architecture.upsampling
        layers += [Upsample2x(mode: upsampling)] + conv("deconv1", c3, c2, kernel: 3) + norm("in4", c2)
        layers += [Upsample2x(mode: upsampling)] + conv("deconv2", c2, c1, kernel: 3) + norm("in5", c1)
        layers += conv("deconv3", c1, 3, kernel: 9)
        layers.append(ChannelAffine(scale: Self.outputScale, offsets: Self.outputOffsets))
        network = Sequential(layers)
        self.norms = norms
    }

    /// The last convolution's output is scaled by this and shifted by `outputOffsets` (ImageNet's
    /// mean pixel, RGB 0–255): a network fresh from initialization then paints mid-grey with
    /// pixel values spread by tens, not zeros, and learns colours in hundreds of steps instead of
    /// thousands (Johnson et al.'s own networks end in 150·tanh for the same reason). Exported
    /// networks have the two folded into deconv3's weights and bias (`foldedParameters`).
    public static let outputScale: Float = 100
    public static let outputOffsets: [Float] = [123.7, 116.3, 103.5]

    /// The parameters by name, with the output scale and offset folded into deconv3 so that
    /// the plain layer list of PyTorch's `transformer_net.py` computes this network.
    public var foldedParameters: [String: Tensor] {
        var values = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value) })
        values["deconv3.weight"]?.scale(by: Self.outputScale)
        if var bias = values["deconv3.bias"] {
            bias.scale(by: Self.outputScale)
            bias.add(Tensor(shape: [3], scalars: Self.outputOffsets))
            values["deconv3.bias"] = bias
        }
        return values
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
