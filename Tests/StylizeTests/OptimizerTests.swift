import Testing
import StylizeTensor
import Stylize
import StylizeNN

@Suite struct OptimizerTests {
    /// Σ over pairs of 100(x₂ᵢ₊₁ − x₂ᵢ²)² + (1 − x₂ᵢ)², minimum 0 at all ones.
    func rosenbrock(_ x: Tensor) -> (Double, Tensor) {
        let p = x.scalars.map(Double.init)
        var value = 0.0
        var g = [Float](repeating: 0, count: p.count)
        for i in stride(from: 0, to: p.count, by: 2) {
            let a = p[i], b = p[i + 1]
            value += 100 * (b - a * a) * (b - a * a) + (1 - a) * (1 - a)
            g[i] = Float(-400 * a * (b - a * a) - 2 * (1 - a))
            g[i + 1] = Float(200 * (b - a * a))
        }
        return (value, Tensor(shape: x.shape, scalars: g))
    }

    /// ½ Σ cᵢ (xᵢ − 1)², condition number 100.
    func quadratic(_ x: Tensor) -> (Double, Tensor) {
        let p = x.scalars
        var value = 0.0
        var g = [Float](repeating: 0, count: p.count)
        for i in p.indices {
            let c = 1 + 99 * Float(i) / Float(p.count - 1)
            value += 0.5 * Double(c * (p[i] - 1) * (p[i] - 1))
            g[i] = c * (p[i] - 1)
        }
        return (value, Tensor(shape: x.shape, scalars: g))
    }

    func runLBFGS(_ f: (Tensor) -> (Double, Tensor), from x0: [Float], iterations: Int) -> (Tensor, Int) {
        var x = Tensor(shape: [x0.count], scalars: x0)
        var lbfgs = LBFGS(historySize: 10)
        for _ in 0..<iterations {
            let (value, g) = f(x)
            if lbfgs.step(&x, loss: value, gradient: g) == .converged { break }
        }
        return (x, lbfgs.iteration)
    }

    @Test func lbfgsMinimisesAQuadratic() {
        let (x, _) = runLBFGS(quadratic, from: [Float](repeating: -2, count: 20), iterations: 200)
        #expect(x.scalars.allSatisfy { abs($0 - 1) < 1e-4 })
    }

    @Test func lbfgsMinimisesRosenbrock() {
        let (x, _) = runLBFGS(rosenbrock, from: [-1.2, 1, -1.2, 1, 0.5, 0.5], iterations: 1000)
        #expect(x.scalars.allSatisfy { abs($0 - 1) < 1e-3 }, "\(x.scalars)")
    }

    @Test func lbfgsStopsAtAStationaryPoint() {
        var x = Tensor(shape: [3], scalars: [1, 1, 1])
        var lbfgs = LBFGS()
        #expect(lbfgs.step(&x, loss: 0, gradient: Tensor(shape: [3])) == .converged)
        #expect(x.scalars == [1, 1, 1])
    }

    @Test func lbfgsFirstStepIsTorchs() {
        // torch: t = min(1, 1/‖g‖₁)·lr along −g.
        var x = Tensor(shape: [2], scalars: [0, 0])
        var lbfgs = LBFGS()
        _ = lbfgs.step(&x, loss: 1, gradient: Tensor(shape: [2], scalars: [3, -1]))
        #expect(x.scalars == [-0.75, 0.25])
    }

    @Test func adamMinimisesAQuadratic() {
        var x = Tensor(shape: [20], scalars: [Float](repeating: -2, count: 20))
        var adam = Adam(learningRate: 0.05)
        for _ in 0..<3000 { adam.step(&x, gradient: quadratic(x).1) }
        #expect(x.scalars.allSatisfy { abs($0 - 1) < 1e-3 }, "\(x.scalars)")
    }

    @Test func adamMinimisesRosenbrock() {
        var x = Tensor(shape: [2], scalars: [-1.2, 1])
        var adam = Adam(learningRate: 0.01)
        for _ in 0..<20000 { adam.step(&x, gradient: rosenbrock(x).1) }
        #expect(x.scalars.allSatisfy { abs($0 - 1) < 1e-2 }, "\(x.scalars)")
    }

    @Test func adamFirstStepIsLearningRateTimesSign() {
        var x = Tensor(shape: [2], scalars: [0, 0])
        var adam = Adam(learningRate: 0.5)
        adam.step(&x, gradient: Tensor(shape: [2], scalars: [10, -0.1]))
        #expect(abs(x.scalars[0] + 0.5) < 1e-5 && abs(x.scalars[1] - 0.5) < 1e-5)
    }
}
