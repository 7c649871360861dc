import Foundation
import StylizeTensor

/// Add, Sub, Mul, Div, Pow, Max, Min with broadcasting, on floats or on integers (shape arithmetic).
final class BinaryKernel: Kernel {
    enum Op: String { case add = "Add", sub = "Sub", mul = "Mul", div = "Div", pow = "Pow", max = "Max", min = "Min" }
    let op: Op

    init(_ op: Op) { self.op = op }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let a = try inputs.required(0), b = try inputs.required(1)
        let bc = try Broadcast(a.shape, b.shape, what: "\(op.rawValue) '\(inputs.node)'")
        if !a.type.isFloatCoded && (!b.type.isFloatCoded || op == .pow) && a.type != .bool {
            return [Value(ints: try integerOp(try a.integers("Add"), try b.integers("Add"), bc, node: inputs.node), shape: bc.shape, type: a.type)]
        }
        guard a.type.isFloatCoded, b.type.isFloatCoded else {
            throw .malformed("\(op.rawValue) '\(inputs.node)' mixes \(a.type) and \(b.type)")
        }
        let x = a.tensor, y = b.tensor
        switch op {
        case .add: return [Value(floats: Self.apply(x, y, bc) { $0 + $1 })]
        case .sub: return [Value(floats: Self.apply(x, y, bc) { $0 - $1 })]
        case .mul: return [Value(floats: Self.apply(x, y, bc) { $0 * $1 })]
        case .div: return [Value(floats: Self.apply(x, y, bc) { $0 / $1 })]
        case .max: return [Value(floats: Self.apply(x, y, bc) { Swift.max($0, $1) })]
        case .min: return [Value(floats: Self.apply(x, y, bc) { Swift.min($0, $1) })]
        case .pow:
            // Squares (PyTorch's variance) are the common case: a multiply, exact like powf.
            if y.count == 1, y.scalars[0] == 2 { return [Value(floats: Self.apply(x, y, bc) { a, _ in a * a })] }
            return [Value(floats: Self.apply(x, y, bc) { Foundation.pow($0, $1) })]
        }
    }

    private func integerOp(_ a: [Int], _ b: [Int], _ bc: Broadcast, node: String) throws(ONNXError) -> [Int] {
        var out = [Int](repeating: 0, count: bc.count)
        var failure = false
        bc.forEachRow { oa, ob, oo, n, ia, ib in
            for i in 0..<n {
                let x = a[oa + i * ia], y = b[ob + i * ib]
                switch op {
                case .add: out[oo + i] = x &+ y
                case .sub: out[oo + i] = x &- y
                case .mul: out[oo + i] = x &* y
                case .div:
                    if y == 0 { failure = true } else { out[oo + i] = x / y }
                case .max: out[oo + i] = Swift.max(x, y)
                case .min: out[oo + i] = Swift.min(x, y)
                case .pow: out[oo + i] = Int(Foundation.pow(Double(x), Double(y)))
                }
            }
        }
        if failure { throw .malformed("\(op.rawValue) '\(node)' divides an integer by zero") }
        return out
    }

    /// out = f(a, b) with broadcasting; the inner loops are specialised on which operand repeats so
    /// the compiler vectorises them.
    @inline(__always)
    static func apply(_ a: Tensor, _ b: Tensor, _ bc: Broadcast, _ f: (Float, Float) -> Float) -> Tensor {
        let out = Tensor(shape: bc.shape)
        let pa = a.storage.pointer, pb = b.storage.pointer, po = out.storage.pointer
        bc.forEachRow { oa, ob, oo, n, ia, ib in
            let x = pa + oa, y = pb + ob, z = po + oo
            switch (ia, ib) {
            case (1, 1): for i in 0..<n { z[i] = f(x[i], y[i]) }
            case (1, 0): let c = y[0]; for i in 0..<n { z[i] = f(x[i], c) }
            case (0, 1): let c = x[0]; for i in 0..<n { z[i] = f(c, y[i]) }
            default: for i in 0..<n { z[i] = f(x[i * ia], y[i * ib]) }
            }
        }
        return out
    }
}

/// One-input elementwise operators on floats.
final class UnaryKernel: Kernel {
    enum Op: String {
        case relu = "Relu", sigmoid = "Sigmoid", tanh = "Tanh", sqrt = "Sqrt", reciprocal = "Reciprocal"
        case exp = "Exp", neg = "Neg", abs = "Abs", leakyRelu = "LeakyRelu", clip = "Clip", identity = "Identity"
    }
    let op: Op
    var alpha: Float = 0.01
    var clipMin = -Float.infinity, clipMax = Float.infinity

    init(_ op: Op, _ a: Attributes) throws(ONNXError) {
        self.op = op
        if op == .leakyRelu { alpha = try a.float("alpha", default: 0.01) }
        if op == .clip {
            // Opset < 11 gives the bounds as attributes, later ones as inputs.
            clipMin = try a.float("min", default: -.infinity)
            clipMax = try a.float("max", default: .infinity)
        }
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let v = try inputs.required(0)
        if op == .identity { return [v] }
        let x = try inputs.floatTensor(0)
        let out = Tensor(shape: x.shape)
        let p = x.storage.pointer, q = out.storage.pointer, n = x.count
        switch op {
        case .relu: for i in 0..<n { q[i] = max(p[i], 0) }
        case .sigmoid: for i in 0..<n { q[i] = 1 / (1 + Foundation.exp(-p[i])) }
        case .tanh: for i in 0..<n { q[i] = Foundation.tanh(p[i]) }
        case .sqrt: for i in 0..<n { q[i] = p[i].squareRoot() }
        case .reciprocal: for i in 0..<n { q[i] = 1 / p[i] }
        case .exp: for i in 0..<n { q[i] = Foundation.exp(p[i]) }
        case .neg: for i in 0..<n { q[i] = -p[i] }
        case .abs: for i in 0..<n { q[i] = Swift.abs(p[i]) }
        case .leakyRelu: let a = alpha; for i in 0..<n { q[i] = p[i] < 0 ? a * p[i] : p[i] }
        case .clip:
            var lo = clipMin, hi = clipMax
            if let m = inputs.optional(1) { lo = try Self.scalar(m, inputs) }
            if let m = inputs.optional(2) { hi = try Self.scalar(m, inputs) }
            for i in 0..<n { q[i] = Swift.min(Swift.max(p[i], lo), hi) }
        case .identity: break
        }
        return [Value(floats: out, type: v.type == .float ? .float : v.type)]
    }

    static func scalar(_ v: Value, _ inputs: KernelInputs) throws(ONNXError) -> Float {
        guard v.count == 1 else { throw .shapeMismatch("\(inputs.op) '\(inputs.node)' needs a scalar bound, got \(v.shape)") }
        return v.tensor.scalars[0]
    }
}
