import StylizeTensor

/// Adam (Kingma & Ba 2014) with torch.optim.Adam's bias correction, for one tensor.
public struct Adam: Sendable {
    /// The step size; a schedule may change it between steps.
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    /// The running averages of the gradient and of its square (nil before the first step).
    public private(set) var m: Tensor?
    public private(set) var v: Tensor?
    /// Number of steps taken.
    public private(set) var iteration = 0

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// Resumes from saved state (a checkpoint's averages and step count).
    public mutating func restore(m: Tensor, v: Tensor, iteration: Int) {
        precondition(m.shape == v.shape, "Adam state shapes differ")
        self.m = m
        self.v = v
        self.iteration = iteration
    }

    /// Moves `x` one step against `gradient`.
    public mutating func step(_ x: inout Tensor, gradient: Tensor) {
        iteration += 1
        var m = self.m ?? Tensor(shape: gradient.shape)
        var v = self.v ?? Tensor(shape: gradient.shape)
        self.m = nil; self.v = nil  // keep m and v uniquely referenced: no copy on write
        let b1 = beta1, b2 = beta2, eps = epsilon
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), Double(iteration))))
        let correction2 = Float((1 - pow(Double(beta2), Double(iteration))).squareRoot())
        gradient.withUnsafeBufferPointer { g in
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    x.withUnsafeMutableBufferPointer { x in
                        for i in 0..<g.count {
                            m[i] = b1 * m[i] + (1 - b1) * g[i]
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                            x[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2 + eps)
                        }
                    }
                }
            }
        }
        self.m = m
        self.v = v
    }
}

/// Adam over every parameter of a network, each with its own averages, all with one learning rate.
public struct ParameterAdam: Sendable {
    public var learningRate: Float
    /// Each parameter's optimizer state, by parameter name.
    public private(set) var states: [String: Adam] = [:]

    public init(learningRate: Float) { self.learningRate = learningRate }

    /// Steps taken (the same for every parameter).
    public var iteration: Int { states.values.first?.iteration ?? 0 }

    /// Resumes one parameter's state.
    public mutating func restore(_ name: String, m: Tensor, v: Tensor, iteration: Int) {
        var adam = Adam(learningRate: learningRate)
        adam.restore(m: m, v: v, iteration: iteration)
        states[name] = adam
    }

    /// One step on every parameter against its accumulated gradient, which is then cleared.
    public mutating func step(_ parameters: [Parameter]) {
        for p in parameters {
            var adam = states.removeValue(forKey: p.name) ?? Adam(learningRate: learningRate)
            adam.learningRate = learningRate
            adam.step(&p.value, gradient: p.gradient)
            states[p.name] = adam
            p.zeroGradient()
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
