import StylizeNN
import StylizeTensor

/// How a feature visualization is optimised and regularised. The defaults are lucid's `render`
/// (Olah et al. 2017): 512 Adam steps of 0.05 on a Fourier-parameterised, colour-decorrelated
/// picture under its standard transforms; the deep-visualization toolbox's regularizers (Yosinski
/// et al. 2015: L2 decay, periodic blur, clipping of weak pixels) are there too, off by default.
/// `plain` turns every regularizer off: raw pixels, as in the first visualizations.
public struct VisualizationOptions: Sendable, Equatable {
    public var width = 224, height = 224
    public var steps = 512
    public var learningRate: Float = 0.05
    public var parameterization: Parameterization = .fourier
    public var decorrelate = true
    /// Grey border in pixels around the picture, on the network's canvas.
    public var pad = 12
    /// Random shift, in pixels.
    public var jitter = 8
    /// Random scale range.
    public var scales: ClosedRange<Float> = 0.9...1.1
    /// Random rotation, ± degrees.
    public var rotation: Float = 10
    /// L2 decay: the objective minus `decay`·‖picture − grey‖² per pixel (toolbox: 0.0001–0.01).
    public var decay: Float = 0
    /// Blur the picture every this many steps (0: never; toolbox: 4 steps of σ 0.5–1).
    public var blurEvery = 0
    public var blurSigma: Float = 1
    /// Each step, pixels whose distance from grey is below this percentile become grey (0: none;
    /// toolbox: 0–50). Pixel parameterization only.
    public var clipPercentile: Float = 0
    public var seed: UInt64 = 0
    public var precision: Precision = .fp32

    public init() {}

    /// Everything off: raw pixels, no transforms, no decay, blur or clipping.
    public static var plain: VisualizationOptions {
        var o = VisualizationOptions()
        o.parameterization = .pixels
        o.decorrelate = false
        o.pad = 0
        o.jitter = 0
        o.scales = 1...1
        o.rotation = 0
        return o
    }

    public func validate() throws(StylizeError) {
        func check(_ ok: Bool, _ message: String) throws(StylizeError) { if !ok { throw .invalidOption(message) } }
        try check((16...2048).contains(width) && (16...2048).contains(height), "the size must be 16–2048 pixels a side, got \(width)×\(height)")
        try check((1...100_000).contains(steps), "steps must be 1–100000, got \(steps)")
        try check(learningRate.isFinite && learningRate > 0, "the learning rate must be a finite number > 0, got \(learningRate)")
        try check((0...512).contains(pad) && (0...512).contains(jitter), "pad and jitter must be 0–512 pixels")
        try check(scales.lowerBound > 0.1 && scales.upperBound < 10 && scales.lowerBound.isFinite && scales.upperBound.isFinite,
                  "the scale range must lie within 0.1–10, got \(scales)")
        try check(rotation.isFinite && (0...180).contains(rotation), "rotation must be 0–180 degrees, got \(rotation)")
        try check(decay.isFinite && decay >= 0, "decay must be a finite number ≥ 0, got \(decay)")
        try check(blurEvery >= 0 && blurSigma.isFinite && blurSigma > 0 && blurSigma <= 20, "blur: every ≥ 0 steps, σ in (0, 20]")
        try check(clipPercentile.isFinite && (0..<100).contains(clipPercentile), "the clip percentile must be 0–99, got \(clipPercentile)")
        try check(clipPercentile == 0 || parameterization == .pixels, "clipping pixels needs the pixel parameterization")
        try check(precision.isAvailable, "--precision \(precision.rawValue): \(NNError.precisionUnavailable(precision, cpu: CPUCapabilities.current.isaName))")
    }
}
