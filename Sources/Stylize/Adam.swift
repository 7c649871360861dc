import StylizeTensor

/// Adam (Kingma & Ba 2014) with torch.optim.Adam's bias correction.
public struct Adam {
    public let learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    private var m: Tensor?
    private var v: Tensor?
    /// Number of steps taken.
    public private(set) var iteration = 0

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
