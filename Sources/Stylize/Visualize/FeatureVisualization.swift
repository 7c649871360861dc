import Foundation
import StylizeIO
import StylizeModels
import StylizeNN
import StylizeTensor

/// Feature visualization (Erhan et al. 2009; Yosinski et al. 2015; Olah et al. 2017): the
/// picture that most excites a VGG-19 channel, neuron or direction, found from noise by gradient
/// ascent on the picture's parameters under the regularizers of `VisualizationOptions`.
public final class FeatureVisualization {
    /// Where a run is, reported once per step.
    public struct Progress: Sendable {
        /// 1-based.
        public var step: Int, steps: Int
        /// Each picture's objective as the network saw it this step (transformed), in order.
        public var objectives: [Double]
        public var elapsedSeconds: Double
        /// The first picture's objective (the only one in a run of one).
        public var objective: Double { objectives[0] }
    }

    public let options: VisualizationOptions
    private let network: VGG19
    private let preprocessing: Preprocessing

    public init(weights: VGG19Weights, options: VisualizationOptions) throws(StylizeError) {
        try options.validate()
        self.options = options
        preprocessing = weights.preprocessing
        do {
            network = try VGG19(convolutions: weights.convolutions, pooling: .max, precision: options.precision)
        } catch { throw .network(error) }
    }

    /// The objective's value for `picture` as it is (no transforms): what the tests compare.
    public func value(of picture: Image, objective: VisualizationObjective) throws(StylizeError) -> Double {
        do {
            guard var a = try network.forward(preprocessing.networkInput(picture), taps: [objective.layer])[objective.layer] else {
                return 0
            }
            return objective.apply(to: &a)
        } catch { throw .network(error) }
    }

    /// The picture for `objective`.
    public func run(_ objective: VisualizationObjective, progress: (Progress) -> Void = { _ in },
                    shouldCancel: () -> Bool = { false }) throws(StylizeError) -> Image {
        try run([objective], progress: progress, shouldCancel: shouldCancel)[0]
    }

    /// The pictures for several objectives, optimised side by side: each has its own parameters,
    /// Adam state and random transforms (the ones a run of its own would draw), while one batched
    /// forward and backward pass of the network per step serves them all. Memory grows with the
    /// count (VGG-19's activations for each picture), so callers split long lists.
    public func run(_ objectives: [VisualizationObjective], progress: (Progress) -> Void = { _ in },
                    shouldCancel: () -> Bool = { false }) throws(StylizeError) -> [Image] {
        guard !objectives.isEmpty else { return [] }
        let o = options
        let count = objectives.count
        var parameters = (0..<count).map { _ in
            ImageParameters(kind: o.parameterization, decorrelate: o.decorrelate, width: o.width, height: o.height, seed: o.seed)
        }
        var adams = (0..<count).map { _ in Adam(learningRate: o.learningRate) }
        var randoms = (0..<count).map { _ in SeededGenerator(seed: o.seed &+ 0x5EED) }
        let taps = Set(objectives.map(\.layer))
        let started = Date()
        for step in 1...o.steps {
            let pictures = parameters.map { $0.picture() }
            let warps = (0..<count).map {
                RandomWarp(pad: o.pad, jitter: o.jitter, scales: o.scales, degrees: o.rotation, using: &randoms[$0])
            }
            let canvas = Tensor(stacking: (0..<count).map { warps[$0].apply(pictures[$0]) })
            var values = [Double](repeating: 0, count: count)
            let inputGradient: Tensor
            do {
                inputGradient = try network.gradient(preprocessing.networkInput(pixels: canvas, range: 1), taps: taps) { layer, a in
                    let perImage = a.count / count
                    for i in 0..<count {
                        if objectives[i].layer == layer {
                            values[i] = objectives[i].apply(to: &a, image: i)
                        } else {
                            a.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: i * perImage).update(repeating: 0, count: perImage) }
                        }
                    }
                }
            } catch { throw .network(error) }
            guard values.allSatisfy(\.isFinite) else { throw .diverged(iteration: step) }
            progress(Progress(step: step, steps: o.steps, objectives: values, elapsedSeconds: Date().timeIntervalSince(started)))
            for i in 0..<count {
                var canvasGradient = Tensor(shape: [1] + canvas.shape.dropFirst())
                preprocessing.addPixelGradient(inputGradient.image(i), to: &canvasGradient, image: 0, factor: 255)
                var pictureGradient = warps[i].adjoint(canvasGradient, height: o.height, width: o.width)
                if o.decay > 0 {
                    // d/dx of −decay·Σ(x − ½)² / pixels.
                    let k = -2 * o.decay / Float(o.width * o.height)
                    pictureGradient.withUnsafeMutableBufferPointer { g in
                        pictures[i].withUnsafeBufferPointer { x in for j in g.indices { g[j] += k * (x[j] - 0.5) } }
                    }
                }
                // Adam minimises: ascend by descending the negative.
                var descent = parameters[i].gradient(pictureGradient, picture: pictures[i])
                descent.scale(by: -1)
                adams[i].step(&parameters[i].values, gradient: descent)
                if o.blurEvery > 0 && step % o.blurEvery == 0 { blur(&parameters[i]) }
                if o.clipPercentile > 0 { clipWeakPixels(&parameters[i]) }
            }
            if shouldCancel() {
                throw .cancelled(iteration: step, partial: Image(pixels: parameters[0].picture()))
            }
        }
        return parameters.map { Image(pixels: $0.picture()) }
    }

    /// A Gaussian blur of σ pixels: of the picture for pixels (and back), of the spectrum's
    /// frequencies (exp(−2π²σ²f²)) for the Fourier parameterization.
    private func blur(_ parameters: inout ImageParameters) {
        let sigma = options.blurSigma
        switch parameters.kind {
        case .fourier:
            parameters.filterSpectrum { f in exp(-2 * .pi * .pi * sigma * sigma * f * f) }
        case .pixels:
            parameters.setPicture(gaussianBlur(parameters.picture(), sigma: sigma))
        }
    }

    /// Pixels whose distance from grey is under the percentile become grey (toolbox's norm clip).
    private func clipWeakPixels(_ parameters: inout ImageParameters) {
        var picture = parameters.picture()
        let plane = options.width * options.height
        var norms = [Float](repeating: 0, count: plane)
        picture.withUnsafeBufferPointer { x in
            for i in 0..<plane {
                norms[i] = (0..<3).reduce(Float(0)) { $0 + (x[$1 * plane + i] - 0.5) * (x[$1 * plane + i] - 0.5) }
            }
        }
        let threshold = norms.sorted()[min(plane - 1, Int(Float(plane) * options.clipPercentile / 100))]
        picture.withUnsafeMutableBufferPointer { x in
            for i in 0..<plane where norms[i] < threshold { for c in 0..<3 { x[c * plane + i] = 0.5 } }
        }
        parameters.setPicture(picture)
    }
}

/// A separable Gaussian blur of every plane of [1, C, H, W], edges clamped.
func gaussianBlur(_ x: Tensor, sigma: Float) -> Tensor {
    let radius = max(1, Int((3 * sigma).rounded(.up)))
    var kernel = (-radius...radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
    let total = kernel.reduce(0, +)
    kernel = kernel.map { $0 / total }
    let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
    var rows = Tensor(shape: x.shape), out = Tensor(shape: x.shape)
    x.withUnsafeBufferPointer { src in
        rows.withUnsafeMutableBufferPointer { dst in
            for p in 0..<(c * h) {
                for j in 0..<w {
                    var v: Float = 0
                    for (k, weight) in kernel.enumerated() { v += weight * src[p * w + min(max(j + k - radius, 0), w - 1)] }
                    dst[p * w + j] = v
                }
            }
        }
    }
    rows.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for ch in 0..<c {
                for i in 0..<h {
                    for j in 0..<w {
                        var v: Float = 0
                        for (k, weight) in kernel.enumerated() { v += weight * src[(ch * h + min(max(i + k - radius, 0), h - 1)) * w + j] }
                        dst[(ch * h + i) * w + j] = v
                    }
                }
            }
        }
    }
    return out
}
