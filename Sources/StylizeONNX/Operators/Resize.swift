import Foundation
import StylizeTensor

/// Resize (opset 10+) and Upsample (opset 7–9) over the last two axes of an N×C×H×W tensor, in
/// nearest and (bi)linear modes with the spec's coordinate transformations.
final class ResizeKernel: Kernel {
    enum Mode: String { case nearest, linear }
    enum Coordinates: String { case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners", asymmetric, tfHalfPixelForNN = "tf_half_pixel_for_nn" }
    enum Nearest: String { case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil }

    let legacyUpsample: Bool
    let mode: Mode
    let coordinates: Coordinates
    let nearest: Nearest
    let attributeScales: [Float]?

    init(_ a: Attributes, legacyUpsample: Bool) throws(ONNXError) {
        self.legacyUpsample = legacyUpsample
        let m = try a.string("mode", default: "nearest")
        // Upsample called bilinear "linear" too; some exporters wrote "bilinear".
        guard let mode = Mode(rawValue: m == "bilinear" ? "linear" : m) else { throw a.unsupported("mode", m) }
        self.mode = mode
        if legacyUpsample {
            coordinates = .asymmetric
            nearest = .floor
            attributeScales = try a.floats("scales")
            return
        }
        let c = try a.string("coordinate_transformation_mode", default: "half_pixel")
        guard let coordinates = Coordinates(rawValue: c) else { throw a.unsupported("coordinate_transformation_mode", c) }
        self.coordinates = coordinates
        let n = try a.string("nearest_mode", default: "round_prefer_floor")
        guard let nearest = Nearest(rawValue: n) else { throw a.unsupported("nearest_mode", n) }
        self.nearest = nearest
        attributeScales = nil
        // Only bicubic reads these; the defaults are harmless otherwise.
        _ = try a.float("cubic_coeff_a", default: -0.75)
        if try a.int("exclude_outside", default: 0) != 0 { throw a.unsupported("exclude_outside", "1") }
        if try a.int("antialias", default: 0) != 0 { throw a.unsupported("antialias", "1") }
        _ = try a.float("extrapolation_value", default: 0)
        if a.has("axes") { throw a.unsupported("axes") }
        let policy = try a.string("keep_aspect_ratio_policy", default: "stretch")
        if policy != "stretch" { throw a.unsupported("keep_aspect_ratio_policy", policy) }
    }

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let xv = try inputs.required(0)
        let x = try inputs.floatTensor(0)
        guard x.shape.count == 4 else { throw .shapeMismatch("\(inputs.op) '\(inputs.node)' supports N×C×H×W input, got \(x.shape)") }
        var scales: [Float]? = nil
        var sizes: [Int]? = nil
        if legacyUpsample {
            if let s = attributeScales { scales = s } else { scales = try inputs.floatTensor(1).scalars }
        } else {
            if let s = inputs.optional(2), s.count > 0 { scales = s.tensor.scalars }
            if let s = inputs.optional(3), s.count > 0 { sizes = try inputs.integers(3) }
        }
        let (h, w) = (x.shape[2], x.shape[3])
        var outShape = x.shape
        var scaleH: Float, scaleW: Float
        if let sizes {
            guard sizes.count == 4, sizes[0] == x.shape[0], sizes[1] == x.shape[1], sizes[2] > 0, sizes[3] > 0 else {
                throw .shapeMismatch("\(inputs.op) '\(inputs.node)': sizes \(sizes) for input \(x.shape) (only H and W may change)")
            }
            outShape = sizes
            scaleH = Float(sizes[2]) / Float(h); scaleW = Float(sizes[3]) / Float(w)
        } else if let scales {
            guard scales.count == 4, scales[0] == 1, scales[1] == 1, scales[2] > 0, scales[3] > 0 else {
                throw .shapeMismatch("\(inputs.op) '\(inputs.node)': scales \(scales) (only H and W may scale)")
            }
            scaleH = scales[2]; scaleW = scales[3]
            outShape[2] = Int((Float(h) * scaleH).rounded(.down)); outShape[3] = Int((Float(w) * scaleW).rounded(.down))
        } else {
            throw .missingInput("scales or sizes of \(inputs.op) '\(inputs.node)'")
        }
        guard outShape[2] > 0, outShape[3] > 0, outShape.reduce(1, *) < 1 << 31 else {
            throw .shapeMismatch("\(inputs.op) '\(inputs.node)': output \(outShape)")
        }
        let (oh, ow) = (outShape[2], outShape[3])
        let out = context.recycledTensor(outShape)  // every value is written
        let planes = x.shape[0] * x.shape[1]
        if mode == .nearest {
            let rows = (0..<oh).map { nearestIndex(original($0, scaleH, h, oh), h) }
            let cols = (0..<ow).map { nearestIndex(original($0, scaleW, w, ow), w) }
            for p in 0..<planes {
                let src = x.storage.pointer + p * h * w, dst = out.storage.pointer + p * oh * ow
                for (i, r) in rows.enumerated() {
                    let s = src + r * w, d = dst + i * ow
                    for (j, c) in cols.enumerated() { d[j] = s[c] }
                }
            }
        } else {
            func taps(_ o: Int, _ scale: Float, _ n: Int, _ on: Int) -> (Int, Int, Float) {
                let f = min(max(original(o, scale, n, on), 0), Float(n - 1))
                let i0 = Int(f.rounded(.down)), i1 = min(i0 + 1, n - 1)
                return (i0, i1, f - Float(i0))
            }
            let rows = (0..<oh).map { taps($0, scaleH, h, oh) }, cols = (0..<ow).map { taps($0, scaleW, w, ow) }
            for p in 0..<planes {
                let src = x.storage.pointer + p * h * w, dst = out.storage.pointer + p * oh * ow
                for (i, (r0, r1, fr)) in rows.enumerated() {
                    let a = src + r0 * w, b = src + r1 * w, d = dst + i * ow
                    for (j, (c0, c1, fc)) in cols.enumerated() {
                        let top = a[c0] + (a[c1] - a[c0]) * fc, bottom = b[c0] + (b[c1] - b[c0]) * fc
                        d[j] = top + (bottom - top) * fr
                    }
                }
            }
        }
        return [Value(floats: out, type: xv.type)]
    }

    /// The input coordinate of output index `o` along an axis of input length `n`, output `on`.
    private func original(_ o: Int, _ scale: Float, _ n: Int, _ on: Int) -> Float {
        let x = Float(o)
        switch coordinates {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return on > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return on > 1 ? x * Float(n - 1) / Float(on - 1) : 0
        case .asymmetric: return x / scale
        case .tfHalfPixelForNN: return (x + 0.5) / scale
        }
    }

    private func nearestIndex(_ f: Float, _ n: Int) -> Int {
        let i: Int
        switch nearest {
        case .floor: i = Int(f.rounded(.down))
        case .ceil: i = Int(f.rounded(.up))
        case .roundPreferFloor: i = f == f.rounded(.down) + 0.5 ? Int(f.rounded(.down)) : Int(f.rounded())
        case .roundPreferCeil: i = Int(f.rounded(.toNearestOrAwayFromZero))
        }
        return min(max(i, 0), n - 1)
    }
}
