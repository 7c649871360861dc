import Foundation
import StylizeTensor

/// Transformation robustness (Olah et al. 2017; lucid's standard transforms: pad 12, jitter 8,
/// scale 0.9–1.1, rotate ±10°, jitter 4): each step the network sees the picture padded with grey
/// and moved, scaled and turned by a random amount, so that only what survives all of them is
/// optimised, not a fragile high-frequency pattern. One affine map with bilinear sampling does it
/// all; its adjoint takes the gradient back to the picture.
struct RandomWarp {
    /// The network's canvas is the picture plus `pad` pixels of grey (0.5) on each side.
    let pad: Int
    /// Shift in pixels (each axis), scale factor and rotation in radians.
    let dx: Float, dy: Float, scale: Float, angle: Float

    /// A random warp within the given ranges.
    init(pad: Int, jitter: Int, scales: ClosedRange<Float>, degrees: Float, using random: inout SeededGenerator) {
        self.pad = pad
        dx = jitter > 0 ? Float(Int.random(in: -jitter...jitter, using: &random)) : 0
        dy = jitter > 0 ? Float(Int.random(in: -jitter...jitter, using: &random)) : 0
        // lucid draws the scale from 11 values and the angle from whole degrees.
        let steps = 10
        let i = Int.random(in: 0...steps, using: &random)
        scale = scales.lowerBound + (scales.upperBound - scales.lowerBound) * Float(i) / Float(steps)
        let d = Int(degrees.rounded())
        angle = d > 0 ? Float(Int.random(in: -d...d, using: &random)) * .pi / 180 : 0
    }

    /// The identity on a canvas padded by `pad`.
    init(pad: Int) { (self.pad, dx, dy, scale, angle) = (pad, 0, 0, 1, 0) }

    /// For output pixel (i, j) of the canvas, where it samples the picture (row, column).
    private func source(_ i: Int, _ j: Int, height: Int, width: Int) -> (Float, Float) {
        let (cy, cx) = (Float(height - 1) / 2, Float(width - 1) / 2)
        // Canvas coordinates relative to the picture's centre, then the inverse rotation and scale.
        let (y, x) = (Float(i - pad) - cy - dy, Float(j - pad) - cx - dx)
        let (c, s) = (cos(angle), sin(angle))
        return ((s * x + c * y) / scale + cy, (c * x - s * y) / scale + cx)
    }

    /// The canvas the network sees: [1, 3, H + 2·pad, W + 2·pad].
    func apply(_ picture: Tensor) -> Tensor {
        let (h, w) = (picture.shape[2], picture.shape[3])
        let (oh, ow) = (h + 2 * pad, w + 2 * pad)
        var out = Tensor(shape: [1, 3, oh, ow])
        picture.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<oh {
                    for j in 0..<ow {
                        let (sy, sx) = source(i, j, height: h, width: w)
                        let taps = Self.bilinear(sy, sx, height: h, width: w)
                        for c in 0..<3 {
                            var v: Float = 0, inside: Float = 0
                            for (index, weight) in taps { v += weight * p[c * h * w + index]; inside += weight }
                            o[(c * oh + i) * ow + j] = v + (1 - inside) * 0.5
                        }
                    }
                }
            }
        }
        return out
    }

    /// d/dpicture from d/dcanvas: each canvas pixel's gradient goes back to the pixels it sampled.
    func adjoint(_ gradient: Tensor, height h: Int, width w: Int) -> Tensor {
        let (oh, ow) = (h + 2 * pad, w + 2 * pad)
        var out = Tensor(shape: [1, 3, h, w])
        gradient.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<oh {
                    for j in 0..<ow {
                        let (sy, sx) = source(i, j, height: h, width: w)
                        for (index, weight) in Self.bilinear(sy, sx, height: h, width: w) {
                            for c in 0..<3 { o[c * h * w + index] += weight * g[(c * oh + i) * ow + j] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The up to four pixels around (y, x) inside the picture and their bilinear weights.
    private static func bilinear(_ y: Float, _ x: Float, height: Int, width: Int) -> [(Int, Float)] {
        let (y0, x0) = (Int(floor(y)), Int(floor(x)))
        let (fy, fx) = (y - Float(y0), x - Float(x0))
        var taps: [(Int, Float)] = []
        taps.reserveCapacity(4)
        for (yy, wy) in [(y0, 1 - fy), (y0 + 1, fy)] where yy >= 0 && yy < height && wy > 0 {
            for (xx, wx) in [(x0, 1 - fx), (x0 + 1, fx)] where xx >= 0 && xx < width && wx > 0 {
                taps.append((yy * width + xx, wy * wx))
            }
        }
        return taps
    }
}
