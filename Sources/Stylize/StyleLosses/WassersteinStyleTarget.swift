import StylizeTensor
import StylizeNN

/// The squared Wasserstein-2 distance between Gaussians with the features' and the style's mean
/// and covariance, over C (as crowsonkb's style-transfer-pytorch):
/// (1/C)·[‖μ − μ̂‖² + tr Σ + tr Σ̂ − 2 tr (Σ̂^½ Σ Σ̂^½)^½], both covariances with ε·I added.
/// The square roots come from exact eigendecompositions (LAPACK), so there is no iteration count
/// to tune; Σ̂^½ is computed once. Several styles are pooled (the mixture's mean and covariance).
public final class WassersteinStyleTarget: StyleTarget {
    public let mean: [Float]
    /// Σ̂ + εI and its square root, [C, C].
    public let covariance: Tensor, covarianceRoot: Tensor
    /// Added to the diagonals: `epsilon` × the style's mean variance.
    public let ridge: Float
    private let traceTarget: Double

    public init(_ styles: WeightedFeatures, epsilon: Float) throws(StylizeError) {
        let c = styles[0].features.shape[1]
        var mu = [Float](repeating: 0, count: c)
        let moments = styles.map { Self.centred($0.features) }
        for ((m, _, _), (_, w)) in zip(moments, styles) { for i in 0..<c { mu[i] += w * m[i] } }
        var cov = Tensor(shape: [c, c])
        for ((m, _, g), (_, w)) in zip(moments, styles) {
            cov.add(g, scaledBy: w)
            let d = (0..<c).map { m[$0] - mu[$0] }
            cov.withUnsafeMutableBufferPointer { p in
                for i in 0..<c { for j in 0..<c { p[i * c + j] += w * d[i] * d[j] } }
            }
        }
        var trace = 0.0
        cov.withUnsafeBufferPointer { p in for i in 0..<c { trace += Double(p[i * c + i]) } }
        let ridge = max(epsilon * Float(trace / Double(c)), Float.leastNormalMagnitude.squareRoot())
        cov.withUnsafeMutableBufferPointer { p in for i in 0..<c { p[i * c + i] += ridge } }
        self.ridge = ridge
        guard let eig = SymmetricEigen(cov) else { throw .invalidOption("W2: the style's covariance could not be decomposed") }
        mean = mu
        covariance = cov
        covarianceRoot = eig.map { max($0, 0).squareRoot() }
        traceTarget = trace + Double(ridge) * Double(c)
    }

    /// Each channel's mean, the features less their means, and their covariance (population).
    static func centred(_ features: Tensor) -> (mean: [Float], centred: Tensor, covariance: Tensor) {
        let c = features.shape[1], n = features.count / c
        var x = Tensor(shape: [1, c, n], scalars: features.scalars)
        let (m, _) = MeanStdStyleTarget.moments(features)
        x.withUnsafeMutableBufferPointer { p in
            for ch in 0..<c {
                let mu = Float(m[ch])
                for i in (ch * n)..<((ch + 1) * n) { p[i] -= mu }
            }
        }
        return (m.map { Float($0) }, x, Gram.forward(x))
    }

    public func loss(replacing features: inout Tensor) -> Double {
        let shape = features.shape, c = shape[1], n = features.count / c
        let (mu, centred, sample) = Self.centred(features)
        var sigma = sample
        var trace = 0.0
        sigma.withUnsafeMutableBufferPointer { p in
            for i in 0..<c { p[i * c + i] += ridge; trace += Double(p[i * c + i]) }
        }
        let m = Tensor.matrixProduct(Tensor.matrixProduct(covarianceRoot, sigma), covarianceRoot)
        // Only a non-finite picture (a diverging run) fails to decompose: report NaN, which the
        // optimiser loop turns into `.diverged`.
        guard let eig = SymmetricEigen(m) else {
            features = Tensor(shape: shape)
            return .nan
        }
        // Eigenvalues of M are at least ridge² in exact arithmetic; the floor keeps M^-½ finite.
        let floor = ridge * ridge
        let rootTrace = eig.values.reduce(0.0) { $0 + Double(max($1, 0).squareRoot()) }
        var dm = 0.0
        for i in 0..<c { let d = Double(mu[i] - mean[i]); dm += d * d }
        let value = (dm + trace + traceTarget - 2 * rootTrace) / Double(c)

        // d/dΣ = (1/C)(I − Σ̂^½ M^-½ Σ̂^½) =: A/C; through Σ = XXᵀ/N, d/dX = 2·A·X/(C·N), and
        // d/dμ = 2(μ − μ̂)/C spread over the N positions.
        var a = Tensor.matrixProduct(Tensor.matrixProduct(covarianceRoot, eig.map { 1 / max($0, floor).squareRoot() }), covarianceRoot)
        a.withUnsafeMutableBufferPointer { p in
            for i in 0..<(c * c) { p[i] = -p[i] }
            for i in 0..<c { p[i * c + i] += 1 }
        }
        a.scale(by: 1 / Float(c))
        var gradient = centred
        Gram.backward(replacing: &gradient, gradient: a)
        gradient.withUnsafeMutableBufferPointer { p in
            for ch in 0..<c {
                let shift = 2 * (mu[ch] - mean[ch]) / Float(c * n)
                for i in (ch * n)..<((ch + 1) * n) { p[i] += shift }
            }
        }
        features = gradient.reshaped(shape)
        return value
    }
}
