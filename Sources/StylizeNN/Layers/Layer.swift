import StylizeTensor

/// A learnable tensor and the gradient accumulated for it since the last optimizer step.
public final class Parameter {
    /// The name it is saved and exported under ("conv1.weight", "res2.in1.bias", …).
    public let name: String
    public var value: Tensor
    public var gradient: Tensor

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        gradient = Tensor(shape: value.shape)
    }

    /// Sets the gradient to zero, in place.
    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// One step of a trainable network on a batch of activations ([N, C, H, W], plain float32).
///
/// `forward` keeps what `backward` needs; `backward` takes dLoss/dOutput for the last forward,
/// adds dLoss/dParameter to each parameter's gradient and returns dLoss/dInput, or nil when
/// `needsInputGradient` is false (the first layer of a network, whose input is data).
public protocol Layer: AnyObject {
    /// The layer's learnable tensors (its sublayers' too), in a stable order.
    var parameters: [Parameter] { get }
    func forward(_ input: Tensor) throws(NNError) -> Tensor
    func backward(_ outputGradient: Tensor, needsInputGradient: Bool) throws(NNError) -> Tensor?
}

/// Layers applied one after the other.
public final class Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    public func forward(_ input: Tensor) throws(NNError) -> Tensor {
        var x = input
        for layer in layers { x = try layer.forward(x) }
        return x
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) throws(NNError) -> Tensor? {
        // A layer's input gradient is needed when the whole's is, or when a layer before it
        // learns: the first convolution of a network skips its backward-data pass.
        var needed: [Bool] = []
        var learnsBefore = needsInputGradient
        for layer in layers {
            needed.append(learnsBefore)
            learnsBefore = learnsBefore || !layer.parameters.isEmpty
        }
        var g: Tensor? = outputGradient
        for (i, layer) in layers.enumerated().reversed() {
            guard let current = g else { return nil }
            g = try layer.backward(current, needsInputGradient: needed[i])
        }
        return g
    }
}

/// x + body(x): He et al.'s residual connection, as in Johnson et al.'s transformation network.
public final class Residual: Layer {
    public let body: Sequential

    public init(_ body: Sequential) { self.body = body }

    public var parameters: [Parameter] { body.parameters }

    public func forward(_ input: Tensor) throws(NNError) -> Tensor {
        var y = try body.forward(input)
        guard y.shape == input.shape else { throw .wrongInputShape(input.shape) }
        y.add(input)
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) throws(NNError) -> Tensor? {
        // The body's parameters need its backward pass whether or not the input's gradient does.
        guard var g = try body.backward(outputGradient, needsInputGradient: true) else { return nil }
        guard needsInputGradient else { return nil }
        g.add(outputGradient)
        return g
    }
}
