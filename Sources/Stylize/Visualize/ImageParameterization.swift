import Foundation
import StylizeTensor

/// How a visualization's picture is made from the numbers being optimised (Olah et al., "Feature
/// Visualization", 2017; lucid's `image` parameterization):
/// - `pixels`: one number per pixel and channel;
/// - `fourier`: a complex spectrum per channel, scaled by 1/frequency, so that every frequency
///   learns at the same speed and the picture is not drowned in high-frequency noise;
/// and then, for both, optionally a fixed decorrelating colour transform (the square root of
/// ImageNet's colour covariance) and a sigmoid into (0, 1).
public enum Parameterization: String, Sendable, CaseIterable, Equatable {
    case pixels, fourier
}

/// The optimised numbers and the maps from them to a picture and back.
struct ImageParameters {
    let kind: Parameterization
    let decorrelate: Bool
    let width: Int, height: Int
    /// pixels: [3, H, W]; fourier: [2, 3, H, W] (real and imaginary parts).
    var values: Tensor
    /// fourier: the spectrum's scale per frequency, [H, W].
    private var scale: Tensor
    /// fourier: cos and sin of 2π·k·m/N for the rows (N = H) and the columns (N = W).
    private let cosH: Tensor, sinH: Tensor, cosW: Tensor, sinW: Tensor

    /// lucid's colour_correlation_svd_sqrt, divided by its largest column norm.
    static let colour: [[Float]] = {
        let m: [[Float]] = [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]]
        let norm = (0..<3).map { j in (0..<3).reduce(Float(0)) { $0 + m[$1][j] * m[$1][j] }.squareRoot() }.max()!
        return m.map { $0.map { $0 / norm } }
    }()

    /// Random values: a spectrum of standard deviation 0.01 (lucid's), which the 1/f scale makes
    /// a grey picture with soft blotches; pixels of standard deviation 1 before the sigmoid (about
    /// ±0.2 around grey), since VGG-19's units are read after their ReLU and a flat grey start
    /// leaves many of them at 0, where no gradient flows.
    init(kind: Parameterization, decorrelate: Bool, width: Int, height: Int, seed: UInt64) {
        self.kind = kind
        self.decorrelate = decorrelate
        self.width = width
        self.height = height
        var random = SeededGenerator(seed: seed)
        values = Tensor(shape: kind == .pixels ? [3, height, width] : [2, 3, height, width])
        let deviation = kind == .pixels ? 1.0 : 0.01
        values.withUnsafeMutableBufferPointer { v in for i in v.indices { v[i] = Float(deviation * random.nextGaussian()) } }
        if kind == .fourier {
            (cosH, sinH) = Self.dft(height)
            (cosW, sinW) = Self.dft(width)
            scale = Tensor(shape: [height, width])
            let floor = 1 / Float(max(width, height)), root = Float(width * height).squareRoot()
            scale.withUnsafeMutableBufferPointer { s in
                for k in 0..<height {
                    let fy = Float(k <= height / 2 ? k : k - height) / Float(height)
                    for l in 0..<width {
                        let fx = Float(l <= width / 2 ? l : l - width) / Float(width)
                        s[k * width + l] = root / max((fy * fy + fx * fx).squareRoot(), floor)
                    }
                }
            }
        } else {
            (cosH, sinH, cosW, sinW, scale) = (Tensor(shape: [0]), Tensor(shape: [0]), Tensor(shape: [0]), Tensor(shape: [0]), Tensor(shape: [0]))
        }
    }

    static func dft(_ n: Int) -> (Tensor, Tensor) {
        var c = Tensor(shape: [n, n]), s = Tensor(shape: [n, n])
        c.withUnsafeMutableBufferPointer { cp in
            s.withUnsafeMutableBufferPointer { sp in
                for m in 0..<n {
                    for k in 0..<n {
                        let angle = 2 * Double.pi * Double((k * m) % n) / Double(n)
                        cp[m * n + k] = Float(cos(angle))
                        sp[m * n + k] = Float(sin(angle))
                    }
                }
            }
        }
        return (c, s)
    }

    /// The picture ([1, 3, H, W] in (0, 1)).
    func picture() -> Tensor {
        var t = kind == .pixels ? values : spatial()
        if decorrelate { t = Self.mixColours(t, transpose: false) }
        t.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 1 / (1 + exp(-p[i])) } }
        return t.reshaped([1, 3, height, width])
    }

    /// d/dvalues from d/dpicture (`picture` is the picture those values give).
    func gradient(_ pictureGradient: Tensor, picture: Tensor) -> Tensor {
        var g = Tensor(shape: [3, height, width])
        picture.withUnsafeBufferPointer { y in
            pictureGradient.withUnsafeBufferPointer { dy in
                g.withUnsafeMutableBufferPointer { out in for i in out.indices { out[i] = dy[i] * y[i] * (1 - y[i]) } }
            }
        }
        if decorrelate { g = Self.mixColours(g, transpose: true) }
        return kind == .pixels ? g : spectralGradient(g)
    }

    /// Multiplies every spectrum value by `factor(f)` of its frequency f (cycles per pixel):
    /// a blur in Fourier space, exact.
    mutating func filterSpectrum(_ factor: (Float) -> Float) {
        let (h, w) = (height, width)
        values.withUnsafeMutableBufferPointer { v in
            for part in 0..<2 { for c in 0..<3 { for k in 0..<h {
                let fy = Float(k <= h / 2 ? k : k - h) / Float(h)
                for l in 0..<w {
                    let fx = Float(l <= w / 2 ? l : l - w) / Float(w)
                    v[((part * 3 + c) * h + k) * w + l] *= factor((fy * fy + fx * fx).squareRoot())
                }
            } } }
        }
    }

    /// Sets pixel values from a picture in (0, 1) (the inverse of `picture`, pixels only).
    mutating func setPicture(_ picture: Tensor) {
        precondition(kind == .pixels, "setPicture is for the pixel parameterization")
        var t = Tensor(shape: [3, height, width])
        picture.withUnsafeBufferPointer { y in
            t.withUnsafeMutableBufferPointer { out in
                for i in out.indices { let v = min(max(y[i], 1e-4), 1 - 1e-4); out[i] = log(v / (1 - v)) }
            }
        }
        values = decorrelate ? Self.mixColours(t, inverse: true) : t
    }

    /// rgb[c] = Σ_j M[c][j]·t[j] at every pixel (or with Mᵀ, or M⁻¹).
    static func mixColours(_ t: Tensor, transpose: Bool = false, inverse: Bool = false) -> Tensor {
        var m = colour
        if inverse { m = invert(m) }
        if transpose { m = (0..<3).map { i in (0..<3).map { j in m[j][i] } } }
        let plane = t.count / 3
        var out = Tensor(shape: t.shape)
        t.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for c in 0..<3 {
                    for i in 0..<plane { y[c * plane + i] = m[c][0] * x[i] + m[c][1] * x[plane + i] + m[c][2] * x[2 * plane + i] }
                }
            }
        }
        return out
    }

    static func invert(_ m: [[Float]]) -> [[Float]] {
        let (a, b, c, d, e, f, g, h, i) = (m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2])
        let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        return [[(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
                [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
                [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det]]
    }

    /// Re(IDFT₂(scale ⊙ (A + iB))) / 4 per channel, as lucid's irfft2d of its scaled spectrum:
    /// x = k·[(C_H·A′ − S_H·B′)·C_W − (S_H·A′ + C_H·B′)·S_W], A′ = scale ⊙ A, k = 1 / (4HW).
    private func spatial() -> Tensor {
        let (h, w) = (height, width)
        let k = 1 / Float(4 * h * w)
        var out = Tensor(shape: [3, h, w])
        for c in 0..<3 {
            let a = scaled(part: 0, channel: c), b = scaled(part: 1, channel: c)
            var u = Tensor.matrixProduct(cosH, a); u.add(Tensor.matrixProduct(sinH, b), scaledBy: -1)
            var v = Tensor.matrixProduct(sinH, a); v.add(Tensor.matrixProduct(cosH, b))
            var x = Tensor.matrixProduct(u, cosW); x.add(Tensor.matrixProduct(v, sinW), scaledBy: -1)
            x.scale(by: k)
            out.setPlane(c, x)
        }
        return out
    }

    /// The adjoint of `spatial`: dA′ = k·(C_H·G·C_W − S_H·G·S_W), dB′ = −k·(S_H·G·C_W + C_H·G·S_W),
    /// then times the scale (C and S are symmetric).
    private func spectralGradient(_ g: Tensor) -> Tensor {
        let (h, w) = (height, width)
        let k = 1 / Float(4 * h * w)
        var out = Tensor(shape: [2, 3, h, w])
        for c in 0..<3 {
            let gc = g.plane(c, height: h, width: w)
            let p = Tensor.matrixProduct(gc, cosW), q = Tensor.matrixProduct(gc, sinW)
            var da = Tensor.matrixProduct(cosH, p); da.add(Tensor.matrixProduct(sinH, q), scaledBy: -1)
            var db = Tensor.matrixProduct(sinH, p); db.add(Tensor.matrixProduct(cosH, q))
            da.scale(by: k); db.scale(by: -k)
            out.setPlane(c, da.multiplied(by: scale))
            out.setPlane(3 + c, db.multiplied(by: scale))
        }
        return out
    }

    /// Part 0 (real) or 1 (imaginary) of channel `c`'s spectrum times the scale, [H, W].
    private func scaled(part: Int, channel c: Int) -> Tensor {
        values.plane(part * 3 + c, height: height, width: width).multiplied(by: scale)
    }
}

extension Tensor {
    /// Plane `index` (of H·W values) as [H, W].
    func plane(_ index: Int, height: Int, width: Int) -> Tensor {
        let n = height * width
        var out = Tensor(shape: [height, width])
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: src.baseAddress! + index * n, count: n) }
        }
        return out
    }

    /// Writes `plane` over plane `index`.
    mutating func setPlane(_ index: Int, _ plane: Tensor) {
        let n = plane.count
        withUnsafeMutableBufferPointer { dst in
            plane.withUnsafeBufferPointer { (dst.baseAddress! + index * n).update(from: $0.baseAddress!, count: n) }
        }
    }

    /// Element by element.
    func multiplied(by other: Tensor) -> Tensor {
        var out = self
        out.withUnsafeMutableBufferPointer { o in
            other.withUnsafeBufferPointer { p in for i in o.indices { o[i] *= p[i] } }
        }
        return out
    }
}
