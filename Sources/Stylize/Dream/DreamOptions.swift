import StylizeModels
import StylizeNN
import StylizeTensor

/// Everything a DeepDream run needs besides the photo. The defaults are deepdream.ipynb's
/// (Mordvintsev, Olah & Tyka 2015: 4 octaves of 1.4, 10 steps each, step 1.5 in 0–255 pixel units
/// over the mean gradient, 32-pixel jitter) on a VGG-19 layer instead of GoogLeNet's inception_4c.
public struct DreamOptions: Sendable, Equatable {
    /// The VGG-19 layers whose activations grow (their objectives add up).
    public var layers: [String] = ["relu4_2"]
    /// Only this channel of the (single) layer grows; nil: all of them.
    public var channel: Int?
    /// Scales the photo is dreamed at, smallest first, each `octaveScale` times the previous;
    /// octaves with a side under 32 pixels are left out.
    public var octaves = 4
    public var octaveScale: Float = 1.4
    /// Gradient steps per octave.
    public var steps = 10
    /// Each step moves the picture by this many 0–255 pixel units times the gradient over its
    /// mean magnitude.
    public var stepSize: Float = 1.5
    /// Each step the picture is rolled by a random shift of up to this many pixels (and rolled
    /// back after), so that no pixel grid or tile edge stays in one place.
    public var jitter = 32
    /// The gradient is computed in tiles of at most this side, so memory stays bounded on big
    /// photos (the random roll moves the tile edges every step).
    public var tileSize = 512
    public var seed: UInt64 = 0
    public var precision: Precision = .fp32
    public var pooling: Pooling = .max

    public init() {}

    /// Checks names and ranges before any work starts.
    public func validate() throws(StylizeError) {
        func check(_ ok: Bool, _ message: String) throws(StylizeError) { if !ok { throw .invalidOption(message) } }
        try check(!layers.isEmpty, "give at least one layer")
        for layer in layers {
            try check(VGG19.layerNames.contains(layer), "unknown layer '\(layer)' (VGG-19 has relu1_1 … relu5_4; see `stylize layers`)")
        }
        try check(Set(layers).count == layers.count, "a layer is listed twice")
        if let channel {
            try check(layers.count == 1, "--channel picks a channel of one layer, \(layers.count) are given")
            let count = VGG19.channels[VGG19.layerNames.firstIndex(of: layers[0])!]
            try check((0..<count).contains(channel), "channel \(channel) is out of range: \(layers[0]) has \(count) channels (0–\(count - 1))")
        }
        try check((1...12).contains(octaves), "octaves must be 1–12, got \(octaves)")
        try check(octaveScale.isFinite && octaveScale > 1 && octaveScale <= 4, "octave scale must be in (1, 4], got \(octaveScale)")
        try check((1...10_000).contains(steps), "steps must be 1–10000, got \(steps)")
        try check(stepSize.isFinite && stepSize > 0, "step size must be a finite number > 0, got \(stepSize)")
        try check((0...1024).contains(jitter), "jitter must be 0–1024 pixels, got \(jitter)")
        try check((64...4096).contains(tileSize), "tile size must be 64–4096 pixels, got \(tileSize)")
        try check(precision.isAvailable, "--precision \(precision.rawValue): \(NNError.precisionUnavailable(precision, cpu: CPUCapabilities.current.isaName))")
    }
}
