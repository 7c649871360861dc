import COpenBLAS

/// Spatial views of [N, C, H, W] tensors, copied: windows, and circular shifts (the jitter of
/// feature visualization and DeepDream).
extension Tensor {
    /// The mean absolute value (0 for an empty tensor).
    public var meanAbs: Float {
        guard count > 0 else { return 0 }
        return Float(cblas_sasum(Int32(count), storage.pointer, 1)) / Float(count)
    }

    /// The `height` × `width` window at (`y`, `x`) of every plane.
    public func window(y: Int, x: Int, height: Int, width: Int) -> Tensor {
        precondition(shape.count == 4 && y >= 0 && x >= 0 && y + height <= shape[2] && x + width <= shape[3],
                     "window \(width)×\(height) at (\(x), \(y)) is outside \(shape)")
        let (h, w) = (shape[2], shape[3])
        if (y, x, height, width) == (0, 0, h, w) { return self }
        let planes = shape[0] * shape[1]
        let out = Tensor(shape: [shape[0], shape[1], height, width])
        let src = storage.pointer, dst = out.storage.pointer
        for p in 0..<planes {
            for r in 0..<height {
                (dst + (p * height + r) * width).update(from: src + (p * h + y + r) * w + x, count: width)
            }
        }
        return out
    }

    /// Writes `patch` ([N, C, h, w]) into every plane at (`y`, `x`).
    public mutating func setWindow(_ patch: Tensor, y: Int, x: Int) {
        precondition(shape.count == 4 && patch.shape.count == 4 && patch.shape[0] * patch.shape[1] == shape[0] * shape[1]
                     && y >= 0 && x >= 0 && y + patch.shape[2] <= shape[2] && x + patch.shape[3] <= shape[3],
                     "a \(patch.shape) patch at (\(x), \(y)) does not fit \(shape)")
        let (h, w, ph, pw) = (shape[2], shape[3], patch.shape[2], patch.shape[3])
        let planes = shape[0] * shape[1]
        withUnsafeMutableBufferPointer { out in
            let src = patch.storage.pointer
            for p in 0..<planes {
                for r in 0..<ph {
                    (out.baseAddress! + (p * h + y + r) * w + x).update(from: src + (p * ph + r) * pw, count: pw)
                }
            }
        }
    }

    /// Every plane shifted circularly by `dy` rows and `dx` columns (numpy's roll): the value at
    /// (i, j) moves to ((i + dy) mod H, (j + dx) mod W).
    public func rolled(dy: Int, dx: Int) -> Tensor {
        precondition(shape.count == 4, "rolled needs [N, C, H, W], got \(shape)")
        let (h, w) = (shape[2], shape[3])
        let (sy, sx) = (((dy % h) + h) % h, ((dx % w) + w) % w)
        if sy == 0 && sx == 0 { return self }
        let out = Tensor(shape: shape)
        let src = storage.pointer, dst = out.storage.pointer
        for p in 0..<(shape[0] * shape[1]) {
            for r in 0..<h {
                let from = src + (p * h + r) * w, to = dst + (p * h + (r + sy) % h) * w
                (to + sx).update(from: from, count: w - sx)
                if sx > 0 { to.update(from: from + w - sx, count: sx) }
            }
        }
        return out
    }
}
