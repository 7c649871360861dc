import StylizeTensor

/// Pad in constant, reflect and edge modes (pads as an input from opset 11, an attribute before).
/// Negative pads crop, as the spec allows.
final class PadKernel: Kernel {
    enum Mode: String { case constant, reflect, edge }
    let mode: Mode
    let attributePads: [Int]?
    let attributeValue: Float

    init(_ a: Attributes) throws(ONNXError) {
        let m = try a.string("mode", default: "constant")
        guard let mode = Mode(rawValue: m) else { throw a.unsupported("mode", m) }
        self.mode = mode
        attributePads = try a.ints("pads")
        attributeValue = try a.float("value", default: 0)
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let xv = try inputs.required(0)
        let x = try inputs.floatTensor(0)
        let r = x.shape.count
        var pads: [Int]
        if let p = attributePads { pads = p } else { pads = try inputs.integers(1) }
        if inputs.optional(3) != nil {
            // Opset 18's axes: pads given for these axes only.
            let axes = try inputs.integers(3)
            guard pads.count == 2 * axes.count else { throw .shapeMismatch("Pad '\(inputs.node)': pads \(pads) for axes \(axes)") }
            var full = [Int](repeating: 0, count: 2 * r)
            for (i, a) in axes.enumerated() {
                let k = try normalizedAxis(a, rank: r, "Pad '\(inputs.node)'")
                full[k] = pads[i]; full[k + r] = pads[i + axes.count]
            }
            pads = full
        }
        guard pads.count == 2 * r else { throw .shapeMismatch("Pad '\(inputs.node)': \(pads.count) pads for input \(x.shape)") }
        var value = attributeValue
        if let c = inputs.optional(2), c.count > 0 { value = c.tensor.scalars[0] }
        let shape = (0..<r).map { x.shape[$0] + pads[$0] + pads[$0 + r] }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .shapeMismatch("Pad '\(inputs.node)': pads \(pads) crop \(x.shape) below nothing") }
        for d in 0..<r where mode != .constant && (pads[d] > 0 || pads[d + r] > 0) {
            let limit = mode == .reflect ? x.shape[d] - 1 : (x.shape[d] > 0 ? Int.max : 0)
            guard pads[d] <= limit, pads[d + r] <= limit else {
                throw .shapeMismatch("Pad '\(inputs.node)': \(mode.rawValue) padding \(pads) is too large for input \(x.shape)")
            }
        }
        // Source index along one axis for an output index, or nil for the constant.
        func source(_ i: Int, _ d: Int) -> Int? {
            let n = x.shape[d]
            let k = i - pads[d]
            if k >= 0 && k < n { return k }
            switch mode {
            case .constant: return nil
            case .edge: return k < 0 ? 0 : n - 1
            case .reflect: return k < 0 ? -k : 2 * (n - 1) - k
            }
        }
        let maps: [[Int?]] = (0..<r).map { d in (0..<shape[d]).map { source($0, d) } }
        // Reflect and edge padding write every value: no fill needed.
        let out = mode == .constant ? Tensor(shape: shape, repeating: value) : context.recycledTensor(shape)
        let src = x.storage.pointer, dst = out.storage.pointer
        guard out.count > 0 else { return [Value(floats: out, type: xv.type)] }
        let inner = shape[r - 1], innerMap = maps[r - 1]
        let strides = rowMajorStrides(x.shape)
        // Loop over all but the last axis; each output row copies through the last axis's map.
        let outerShape = Array(shape.dropLast())
        forEachIndex(outerShape) { row, idx in
            var base = 0
            for d in 0..<(r - 1) {
                guard let s = maps[d][idx[d]] else { return }
                base += s * strides[d]
            }
            let o = dst + row * inner, p = src + base
            // The row's middle is a plain copy; only the padded ends go through the map.
            let before = min(pads[r - 1], inner), n = max(0, min(x.shape[r - 1], inner - before))
            if pads[r - 1] >= 0 {
                (o + before).update(from: p, count: n)
                for j in 0..<before { if let s = innerMap[j] { o[j] = p[s] } }
                for j in (before + n)..<inner { if let s = innerMap[j] { o[j] = p[s] } }
            } else {
                for j in 0..<inner { if let s = innerMap[j] { o[j] = p[s] } }
            }
        }
        return [Value(floats: out, type: xv.type)]
    }
}
