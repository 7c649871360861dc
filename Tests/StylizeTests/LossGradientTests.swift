import Testing
import StylizeTensor
import Stylize

/// Each loss's gradient against central finite differences, computed in double precision from
/// float32 evaluations, on small random tensors.
@Suite struct LossGradientTests {
    func random(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(scale * g.nextGaussian()) })
    }

    /// Largest |analytic − numeric| over a few coordinates, relative to the largest |analytic|.
    func check(_ x: Tensor, step: Float, _ f: (Tensor) -> (value: Double, gradient: Tensor)) -> Double {
        let analytic = f(x).gradient.scalars
        let scale = Double(analytic.map { abs($0) }.max()!)
        var worst = 0.0
        for i in stride(from: 0, to: x.count, by: max(1, x.count / 37)) {
            var plus = x, minus = x
            plus.withUnsafeMutableBufferPointer { $0[i] += step }
            minus.withUnsafeMutableBufferPointer { $0[i] -= step }
            let numeric = (f(plus).value - f(minus).value) / (2 * Double(step))
            worst = max(worst, abs(numeric - Double(analytic[i])) / scale)
        }
        return worst
    }

    @Test func contentLoss() {
        let target = random([1, 4, 5, 6], seed: 1)
        let x = random([1, 4, 5, 6], seed: 2)
        let (value, _) = Losses.content(x, target: target)
        var d = x; d.add(target, scaledBy: -1)
        #expect(abs(value - d.squaredNorm / Double(x.count)) < 1e-9)
        #expect(check(x, step: 1e-2) { Losses.content($0, target: target) } < 1e-3)
    }

    @Test func styleLossThroughGram() {
        let target = Gram.forward(random([1, 5, 4, 3], seed: 3))
        let x = random([1, 5, 4, 3], seed: 4)
        #expect(check(x, step: 1e-2) { Losses.style($0, targetGram: target) } < 2e-3)
        // The value: (1/C²)·mean((G − G_s)²).
        var d = Gram.forward(x); d.add(target, scaledBy: -1)
        #expect(abs(Losses.style(x, targetGram: target).value - d.squaredNorm / 625) < 1e-9)
    }

    @Test func totalVariation() {
        let x = random([1, 3, 5, 7], seed: 5)
        #expect(check(x, step: 1e-2) { Losses.totalVariation($0) } < 1e-3)
        // By hand on a 2×2 single-channel image: (2−1)² + (4−3)² + (3−1)² + (4−2)² = 10.
        #expect(Losses.totalVariation(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])).value == 10)
    }
}

import StylizeNN
