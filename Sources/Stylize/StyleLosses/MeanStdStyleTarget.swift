import Foundation
import StylizeTensor
import StylizeNN

/// Each channel's mean and standard deviation (the statistics AdaIN transfers; Huang & Belongie
/// 2017, Li et al. 2017): (1/C)·Σ_c (μ_c − μ̂_c)² + (σ_c − σ̂_c)², with σ = √(var + 1e-5) as AdaIN's.
/// Several styles are pooled: μ̂ and σ̂ are those of all their features, each image weighted by
/// its blend weight (the mixture's moments, as the Gram blend is the mixture's second moment).
public final class MeanStdStyleTarget: StyleTarget {
    public let mean: [Double], std: [Double]
    static let epsilon = 1e-5

    public init(_ styles: WeightedFeatures) {
        let c = styles[0].features.shape[1]
        var m = [Double](repeating: 0, count: c), second = [Double](repeating: 0, count: c)
        for (features, weight) in styles {
            let (fm, fv) = Self.moments(features)
            for i in 0..<c {
                m[i] += Double(weight) * fm[i]
                second[i] += Double(weight) * (fv[i] + fm[i] * fm[i])
            }
        }
        mean = m
        std = (0..<c).map { (max(second[$0] - m[$0] * m[$0], 0) + Self.epsilon).squareRoot() }
    }

    /// Each channel's mean and (population) variance, in double precision.
    static func moments(_ features: Tensor) -> (mean: [Double], variance: [Double]) {
        let c = features.shape[1], n = features.count / c
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
        features.withUnsafeBufferPointer { f in
            for ch in 0..<c {
                let row = UnsafeBufferPointer(rebasing: f[(ch * n)..<((ch + 1) * n)])
                var s = 0.0
                for v in row { s += Double(v) }
                let mu = s / Double(n)
                var ss = 0.0
                for v in row { let d = Double(v) - mu; ss += d * d }
                mean[ch] = mu
                variance[ch] = ss / Double(n)
            }
        }
        return (mean, variance)
    }

    public func loss(replacing features: inout Tensor) -> Double {
        let c = features.shape[1], n = features.count / c
        let (mu, variance) = Self.moments(features)
        var value = 0.0
        features.withUnsafeMutableBufferPointer { f in
            for ch in 0..<c {
                let sigma = (variance[ch] + Self.epsilon).squareRoot()
                let dm = mu[ch] - mean[ch], ds = sigma - std[ch]
                value += dm * dm + ds * ds
                // d/dF of (μ − μ̂)² + (σ − σ̂)², over C: 2/C·[(μ − μ̂)/N + (σ − σ̂)(F − μ)/(N·σ)]
                let a = 2 * ds / (Double(c) * Double(n) * sigma)
                let b = 2 * dm / (Double(c) * Double(n)) - a * mu[ch]
                let fa = Float(a), fb = Float(b)
                for i in (ch * n)..<((ch + 1) * n) { f[i] = fa * f[i] + fb }
            }
        }
        return value / Double(c)
    }
}
