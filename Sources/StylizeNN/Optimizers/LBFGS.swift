import StylizeTensor

/// Limited-memory BFGS as torch.optim.LBFGS does it with `line_search_fn=None`: a fixed step of
/// `learningRate` along the two-loop direction, the very first step shrunk to
/// min(1, 1/‖g‖₁)·learningRate, pairs with yᵀs ≤ 1e-10 not remembered. One call of `step` is one
/// of torch's inner iterations, so a caller evaluates the objective, reports, and steps again.
public struct LBFGS {
    public enum Outcome: Sendable, Equatable {
        /// `x` moved; evaluate the objective there next.
        case stepped
        /// Converged by one of torch's tolerances; `x` was left as it was.
        case converged
    }

    public let historySize: Int
    public let learningRate: Float
    /// Stop when max|g| is at most this.
    public let toleranceGrad: Float
    /// Stop when the loss, the step, or the directional derivative changes less than this.
    public let toleranceChange: Float

    // History pairs, oldest first: s (steps) and y (gradient changes), ρ = 1/(yᵀs).
    private var steps: [Tensor] = []
    private var gradientChanges: [Tensor] = []
    private var rho: [Double] = []
    private var hessianDiagonal: Double = 1
    private var direction: Tensor?
    private var stepLength: Float = 0
    private var previousGradient: Tensor?
    private var previousLoss: Double = 0

    /// Number of steps taken.
    public private(set) var iteration = 0

    public init(historySize: Int = 100, learningRate: Float = 1,
                toleranceGrad: Float = 1e-5, toleranceChange: Float = 1e-9) {
        precondition(historySize >= 1, "L-BFGS needs a history of at least one pair")
        self.historySize = historySize
        self.learningRate = learningRate
        self.toleranceGrad = toleranceGrad
        self.toleranceChange = toleranceChange
    }

    /// Given the loss and its gradient at `x`, moves `x` one step, or says it has converged.
    public mutating func step(_ x: inout Tensor, loss: Double, gradient g: Tensor) -> Outcome {
        if gradient(g, isBelow: toleranceGrad) { return .converged }
        var d: Tensor
        if let previous = previousGradient, let lastDirection = direction {
            // torch checks these after its evaluation of the new point, before the next direction.
            if Double(lastDirection.maxAbs) * Double(stepLength) <= Double(toleranceChange) { return .converged }
            if abs(loss - previousLoss) < Double(toleranceChange) { return .converged }
            var y = g
            y.add(previous, scaledBy: -1)
            var s = lastDirection
            s.scale(by: stepLength)
            let ys = y.dot(s)
            if ys > 1e-10 {
                if steps.count == historySize {
                    steps.removeFirst(); gradientChanges.removeFirst(); rho.removeFirst()
                }
                hessianDiagonal = ys / y.squaredNorm
                steps.append(s); gradientChanges.append(y); rho.append(1 / ys)
            }
            d = twoLoop(g)
            stepLength = learningRate
        } else {
            d = g
            d.scale(by: -1)
            stepLength = min(1, Float(1 / l1Norm(g))) * learningRate
        }
        // Not a descent direction (or too flat to matter): nothing left to gain.
        if g.dot(d) > -Double(toleranceChange) { return .converged }
        previousGradient = g
        previousLoss = loss
        x.add(d, scaledBy: stepLength)
        direction = d
        iteration += 1
        return .stepped
    }

    /// −H·g by the two-loop recursion (Nocedal & Wright, algorithm 7.4).
    private func twoLoop(_ g: Tensor) -> Tensor {
        var q = g
        q.scale(by: -1)
        var alpha = [Double](repeating: 0, count: steps.count)
        for i in steps.indices.reversed() {
            alpha[i] = steps[i].dot(q) * rho[i]
            q.add(gradientChanges[i], scaledBy: Float(-alpha[i]))
        }
        q.scale(by: Float(hessianDiagonal))
        for i in steps.indices {
            let beta = gradientChanges[i].dot(q) * rho[i]
            q.add(steps[i], scaledBy: Float(alpha[i] - beta))
        }
        return q
    }

    private func gradient(_ g: Tensor, isBelow tolerance: Float) -> Bool { g.maxAbs <= tolerance }

    private func l1Norm(_ g: Tensor) -> Double {
        g.withUnsafeBufferPointer { p in Double(cblas_sasum(Int32(p.count), p.baseAddress, 1)) }
    }
}

import COpenBLAS
