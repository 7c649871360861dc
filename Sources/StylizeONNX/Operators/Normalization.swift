import StylizeTensor

/// Sums over contiguous floats with sixteen-lane accumulators: vectorised where a plain float
/// loop is not (the compiler may not reorder float additions), and more accurate than one
/// running sum over a large image.
enum RowMath {
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= n {
            acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// Σ (pᵢ − mean)²
    @inline(__always)
    static func squaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, _ mean: Float) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        let m = SIMD16<Float>(repeating: mean)
        var i = 0
        while i + 16 <= n {
            let d = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self) - m
            acc += d * d
            i += 16
        }
        var s = acc.sum()
        while i < n { let d = p[i] - mean; s += d * d; i += 1 }
        return s
    }
}

/// InstanceNormalization: each (sample, channel) plane normalised by its own mean and variance.
final class InstanceNormKernel: Kernel {
    let epsilon: Float

    init(_ a: Attributes) throws(ONNXError) { epsilon = try a.float("epsilon", default: 1e-5) }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.floatTensor(0), scale = try inputs.floatTensor(1), bias = try inputs.floatTensor(2)
        guard x.shape.count >= 3, scale.count == x.shape[1], bias.count == x.shape[1] else {
            throw .shapeMismatch("InstanceNormalization '\(inputs.node)': input \(x.shape), scale \(scale.shape), bias \(bias.shape)")
        }
        let (n, c) = (x.shape[0], x.shape[1]), plane = x.count / max(n * c, 1)
        let out = Tensor(shape: x.shape)
        for row in 0..<(n * c) {
            let ch = row % c
            let p = x.storage.pointer + row * plane, q = out.storage.pointer + row * plane
            let mean = RowMath.sum(p, plane) / Float(plane)
            let variance = RowMath.squaredDeviations(p, plane, mean) / Float(plane)
            let k = scale.storage.pointer[ch] / (variance + epsilon).squareRoot()
            let shift = bias.storage.pointer[ch] - mean * k
            for i in 0..<plane { q[i] = p[i] * k + shift }
        }
        return [Value(floats: out)]
    }
}

/// BatchNormalization in inference mode: per-channel affine map from the stored statistics.
final class BatchNormKernel: Kernel {
    let epsilon: Float

    init(_ a: Attributes) throws(ONNXError) {
        epsilon = try a.float("epsilon", default: 1e-5)
        _ = try a.float("momentum", default: 0.9)  // only matters for training
        if try a.int("training_mode", default: 0) != 0 { throw a.unsupported("training_mode", "1") }
        if try a.int("spatial", default: 1) != 1 { throw a.unsupported("spatial", "0") }
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.floatTensor(0)
        let params = try (1...4).map { i throws(ONNXError) in try inputs.floatTensor(i) }
        guard x.shape.count >= 2, params.allSatisfy({ $0.count == x.shape[1] }) else {
            throw .shapeMismatch("BatchNormalization '\(inputs.node)': input \(x.shape) and parameters \(params.map(\.shape))")
        }
        let (n, c) = (x.shape[0], x.shape[1]), plane = x.count / max(n * c, 1)
        let (s, b, m, v) = (params[0].scalars, params[1].scalars, params[2].scalars, params[3].scalars)
        let out = Tensor(shape: x.shape)
        for row in 0..<(n * c) {
            let ch = row % c
            let k = s[ch] / (v[ch] + epsilon).squareRoot(), shift = b[ch] - m[ch] * k
            let p = x.storage.pointer + row * plane, q = out.storage.pointer + row * plane
            for i in 0..<plane { q[i] = p[i] * k + shift }
        }
        return [Value(floats: out)]
    }
}

/// ReduceMean, ReduceSum and GlobalAveragePool.
final class ReduceKernel: Kernel {
    enum Op: String { case mean = "ReduceMean", sum = "ReduceSum", globalAverage = "GlobalAveragePool" }
    let op: Op
    let axesAttribute: [Int]?
    let keepDims: Bool
    let noopWithEmptyAxes: Bool

    init(_ op: Op, _ a: Attributes) throws(ONNXError) {
        self.op = op
        if op == .globalAverage {
            axesAttribute = nil; keepDims = true; noopWithEmptyAxes = false
        } else {
            axesAttribute = try a.ints("axes")
            keepDims = try a.int("keepdims", default: 1) != 0
            noopWithEmptyAxes = try a.int("noop_with_empty_axes", default: 0) != 0
        }
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.floatTensor(0)
        let rank = x.shape.count
        var axes: [Int]
        if op == .globalAverage {
            guard rank >= 3 else { throw .shapeMismatch("GlobalAveragePool '\(inputs.node)' needs N×C×… input, got \(x.shape)") }
            axes = Array(2..<rank)
        } else if let a = axesAttribute {
            axes = a
        } else if inputs.optional(1) != nil {
            axes = try inputs.integers(1)
        } else {
            axes = []
        }
        if axes.isEmpty {
            if noopWithEmptyAxes { return [Value(floats: x)] }
            axes = Array(0..<rank)
        }
        var reduced = [Bool](repeating: false, count: rank)
        for a in axes {
            let k = a < 0 ? a + rank : a
            guard k >= 0, k < rank, !reduced[k] else {
                throw .shapeMismatch("\(op.rawValue) '\(inputs.node)': axis \(a) for input \(x.shape)")
            }
            reduced[k] = true
        }
        let keptShape = x.shape.enumerated().map { reduced[$0.offset] ? 1 : $0.element }
        let outShape = keepDims ? keptShape : x.shape.enumerated().filter { !reduced[$0.offset] }.map(\.element)
        let out = Tensor(shape: outShape)
        let reducedCount = zip(x.shape, reduced).filter { $0.1 }.map { $0.0 }.reduce(1, *)
        let divisor: Float = op == .sum ? 1 : Float(max(reducedCount, 1))
        if let first = reduced.firstIndex(of: true), reduced[first...].allSatisfy({ $0 }) {
            // Trailing axes (instance statistics over H×W): one contiguous row per output.
            for r in 0..<out.count {
                out.storage.pointer[r] = RowMath.sum(x.storage.pointer + r * reducedCount, reducedCount) / divisor
            }
        } else {
            // General case (small tensors such as [styles, channels]): accumulate through strides.
            var outStrides = [Int](repeating: 0, count: rank)
            var s = 1
            for i in stride(from: rank - 1, through: 0, by: -1) where !reduced[i] { outStrides[i] = s; s *= x.shape[i] }
            let o = out.storage.pointer
            var index = [Int](repeating: 0, count: rank)
            for i in 0..<x.count {
                var k = 0
                for d in 0..<rank { k += index[d] * outStrides[d] }
                o[k] += x.storage.pointer[i]
                var d = rank - 1
                while d >= 0 { index[d] += 1; if index[d] < x.shape[d] { break }; index[d] = 0; d -= 1 }
            }
            if divisor != 1 { for i in 0..<out.count { o[i] /= divisor } }
        }
        return [Value(floats: out)]
    }
}
