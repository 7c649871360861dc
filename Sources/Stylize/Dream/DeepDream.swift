import Foundation
import StylizeIO
import StylizeModels
import StylizeNN
import StylizeTensor

/// DeepDream (Mordvintsev, Olah & Tyka 2015): gradient ascent on the photo itself, so that what a
/// VGG-19 layer already sees in it grows — the layer's L2 norm, one channel's, or, with a guide
/// picture, the features most like the guide's ("guided dreaming", deepdream.ipynb).
///
/// As the notebook: the photo is dreamed from its smallest octave up; at each octave the detail
/// the earlier ones added is enlarged onto the photo at that size; each step rolls the picture by
/// a random jitter, moves it along the gradient normalised by its mean magnitude, rolls it back
/// and keeps it within the pixel range. The gradient is computed in tiles, so memory stays
/// bounded however large the photo.
public final class DeepDream {
    /// Where a run is, reported once per step.
    public struct Progress: Sendable {
        /// 1-based.
        public var octave: Int, octaves: Int, step: Int, steps: Int
        /// The objective before this step (`DreamObjective.value`).
        public var objective: Double
        /// Since the run started.
        public var elapsedSeconds: Double
    }

    public let options: DreamOptions
    private let network: VGG19
    private let preprocessing: Preprocessing

    public init(weights: VGG19Weights, options: DreamOptions) throws(StylizeError) {
        try options.validate()
        self.options = options
        preprocessing = weights.preprocessing
        do {
            network = try VGG19(convolutions: weights.convolutions, pooling: options.pooling, precision: options.precision)
        } catch { throw .network(error) }
    }

    /// The objective for `guide` (nil: the layers' or the channel's L2 norm).
    public func objective(guide: Image?) throws(StylizeError) -> DreamObjective {
        guard let guide else { return options.channel.map { .channel($0) } ?? .norm }
        let picture = max(guide.width, guide.height) > options.tileSize ? guide.resized(longerSide: options.tileSize) : guide
        do {
            let features = try network.forward(preprocessing.networkInput(picture), taps: Set(options.layers))
            return .guide(features.mapValues { $0.reshaped([$0.shape[1], $0.shape[2] * $0.shape[3]]) })
        } catch { throw .network(error) }
    }

    /// The objective's value for `picture`, averaged over the layers (what the run increases).
    public func value(of picture: Image, objective: DreamObjective) throws(StylizeError) -> Double {
        try evaluate(preprocessing.networkInput(picture), objective: objective, wantGradient: false).value
    }

    /// `photo` dreamed, at its own size.
    ///
    /// - Parameter guide: with a guide picture, the features most like the guide's grow instead
    ///   (it is shrunk to `tileSize` on its longer side).
    public func run(_ photo: Image, guide: Image? = nil, progress: (Progress) -> Void = { _ in },
                    shouldCancel: () -> Bool = { false }) throws(StylizeError) -> Image {
        let objective = try objective(guide: guide)
        let sizes = octaveSizes(width: photo.width, height: photo.height)
        guard let smallest = sizes.last, min(smallest.width, smallest.height) >= 32 else {
            throw .invalidOption("a \(photo.width)×\(photo.height) photo is too small to dream: both sides must be at least 32 px")
        }
        var random = SeededGenerator(seed: options.seed)
        let started = Date()
        let step = options.stepSize * preprocessing.pixelStep
        var detail: Tensor?
        var x = Tensor(shape: [1, 3, 1, 1])
        for (index, size) in sizes.enumerated().reversed() {
            let base = preprocessing.networkInput(size.width == photo.width && size.height == photo.height
                                                  ? photo : photo.resized(width: size.width, height: size.height))
            x = base
            if let d = detail { x.add(Image(pixels: d).resizedUnclamped(width: size.width, height: size.height).pixels) }
            for s in 1...options.steps {
                let dx = options.jitter > 0 ? Int.random(in: -options.jitter...options.jitter, using: &random) : 0
                let dy = options.jitter > 0 ? Int.random(in: -options.jitter...options.jitter, using: &random) : 0
                var rolled = x.rolled(dy: dy, dx: dx)
                let (value, gradient) = try evaluate(rolled, objective: objective, wantGradient: true)
                guard value.isFinite, gradient.allFinite else { throw .diverged(iteration: s) }
                progress(Progress(octave: sizes.count - index, octaves: sizes.count, step: s, steps: options.steps,
                                  objective: value, elapsedSeconds: Date().timeIntervalSince(started)))
                let meanMagnitude = gradient.meanAbs
                if meanMagnitude > 0 { rolled.add(gradient, scaledBy: step / meanMagnitude) }
                x = rolled.rolled(dy: -dy, dx: -dx)
                preprocessing.clampToPictureRange(&x)
                if shouldCancel() {
                    throw .cancelled(iteration: s, partial: preprocessing.image(fromNetworkInput: x)
                        .resized(width: photo.width, height: photo.height))
                }
            }
            var d = x
            d.add(base, scaledBy: -1)
            detail = d
        }
        return preprocessing.image(fromNetworkInput: x)
    }

    /// The octaves' sizes, largest (the photo's) first, each `octaveScale` times smaller than the
    /// one before; those with a side under 32 pixels are left out.
    func octaveSizes(width: Int, height: Int) -> [(width: Int, height: Int)] {
        var sizes: [(width: Int, height: Int)] = [(width, height)]
        for k in 1..<options.octaves {
            let f = pow(Double(options.octaveScale), Double(k))
            let size = (width: Int((Double(width) / f).rounded()), height: Int((Double(height) / f).rounded()))
            guard min(size.width, size.height) >= 32 else { break }
            sizes.append(size)
        }
        return sizes
    }

    /// The objective and (if wanted) its gradient with respect to network input `x`, tile by tile.
    private func evaluate(_ x: Tensor, objective: DreamObjective, wantGradient: Bool) throws(StylizeError) -> (value: Double, gradient: Tensor) {
        let (h, w) = (x.shape[2], x.shape[3])
        let rows = Self.tiles(length: h, tile: options.tileSize), columns = Self.tiles(length: w, tile: options.tileSize)
        var gradient = Tensor(shape: wantGradient ? x.shape : [0])
        var total = 0.0
        let taps = Set(options.layers)
        for (y, th) in rows {
            for (x0, tw) in columns {
                let tile = x.window(y: y, x: x0, height: th, width: tw)
                var value = 0.0
                do {
                    if wantGradient {
                        let g = try network.gradient(tile, taps: taps) { layer, activation in
                            value += objective.apply(layer: layer, to: &activation)
                        }
                        gradient.setWindow(g, y: y, x: x0)
                    } else {
                        for (layer, var activation) in try network.forward(tile, taps: taps) {
                            value += objective.apply(layer: layer, to: &activation)
                        }
                    }
                } catch { throw .network(error) }
                total += value * Double(th * tw)
            }
        }
        // Overlapping last tiles count twice; the mean over the covered area is what matters.
        let covered = rows.reduce(0) { $0 + $1.size } * columns.reduce(0) { $0 + $1.size }
        return (total / Double(covered) / Double(options.layers.count), gradient)
    }

    /// Tiles of equal size covering `length`: one if it fits, else ⌈length / tile⌉ tiles, the
    /// last one ending at the edge (overlapping its neighbour), so every tile runs the same plan.
    static func tiles(length: Int, tile: Int) -> [(origin: Int, size: Int)] {
        guard length > tile else { return [(0, length)] }
        let count = (length + tile - 1) / tile
        let size = (length + count - 1) / count
        return (0..<count).map { (min($0 * size, length - size), size) }
    }
}
