import Foundation
import StylizeIO
import StylizeNN
import StylizeONNX
import StylizeTensor
import StylizeModels

/// Trains a feed-forward style network (Johnson, Alahi & Fei-Fei 2016; Ulyanov et al. 2016): a
/// `TransformerNet` learns to turn any photo into the painting's style by minimising, on batches
/// of photos, the Gatys losses that `stylize` minimises per picture. VGG-19 is the fixed loss
/// network; it is only run forward and backward to its input, never to its weights.
///
/// With several styles the network's instance norms are conditional (one γ, β row per style) and
/// the images of a batch cycle through the styles. With `options.texture` it learns a texture
/// instead: noise in (`textureBatch(step:)`), the style loss only.
public final class StyleNetworkTrainer {
    public let options: TrainingOptions
    public let network: TransformerNet
    public internal(set) var optimizer: ParameterAdam
    /// Optimizer steps taken, resumed ones included.
    public var step: Int { optimizer.iteration }
    /// Seconds spent training, resumed runs included (`--minutes` counts against it).
    public var elapsedSeconds: Double = 0
    private let preprocessing: Preprocessing
    /// One objective per style, all on the same VGG-19.
    private let objectives: [Objective]

    /// - Parameters:
    ///   - styles: one picture per style (the architecture's `styles`), resized here to
    ///     `options.styleSize` on the longer side.
    ///   - calibration: the picture on which style losses other than Gram are scaled to the Gram
    ///     loss (`Objective.setStyles`): a typical photo of the training set, cropped and resized
    ///     here as the training crops are. Texture networks use their noise instead. Without one,
    ///     such losses keep their raw scale.
    public init(weights: VGG19Weights, styles: [Image], options: TrainingOptions, calibration: Image? = nil) throws(TrainingError) {
        try options.validate()
        guard styles.count == options.architecture.styles else {
            throw .invalidOption("the network learns \(options.architecture.styles) styles, \(styles.count) pictures given")
        }
        self.options = options
        self.preprocessing = weights.preprocessing
        let vgg: VGG19
        do {
            vgg = try VGG19(convolutions: weights.convolutions, pooling: options.pooling, precision: options.precision)
        } catch { throw .network(error) }
        let preprocessing = weights.preprocessing
        let calibrationInput: Tensor? = if options.texture {
            preprocessing.networkInput(pixels255: Self.textureNoise(options: options, step: 0).image(0))
        } else {
            calibration.map { preprocessing.networkInput($0.centreSquare(side: options.cropSize)) }
        }
        var objectives: [Objective] = []
        for (k, style) in styles.enumerated() {
            let objective = Objective(network: vgg, contentWeight: options.texture ? 0 : options.contentWeight,
                                      styleWeight: options.styleWeight(ofStyle: k), tvWeight: options.tvWeight,
                                      contentLayers: options.texture ? [] : options.contentLayers.map { LayerWeight($0) },
                                      styleLayers: options.styleLayers.map { LayerWeight($0) },
                                      styleLosses: options.styleLosses, styleLossSettings: options.styleLossSettings)
            let picture = style.resized(longerSide: options.styleSize)
            do throws(StylizeError) {
                try options.checkStyleLossesFit(width: options.cropSize, height: options.cropSize,
                                                styleSizes: [(picture.width, picture.height)])
                try objective.setStyles([preprocessing.networkInput(picture)], calibration: calibrationInput)
            } catch {
                switch error {
                case .network(let e): throw .network(e)
                case .invalidOption(let message): throw .invalidOption(message)
                default: throw .invalidOption("\(error)")
                }
            }
            objectives.append(objective)
        }
        self.objectives = objectives
        network = TransformerNet(architecture: options.architecture, seed: options.seed, precision: options.precision)
        optimizer = ParameterAdam(learningRate: options.learningRate)
    }

    /// The style each image of step `step`'s batch learns: the styles in turn.
    public func styleIndices(step: Int, batchSize: Int) -> [Int] {
        (0..<batchSize).map { (step * batchSize + $0) % options.architecture.styles }
    }

    /// The learning rate for the next step: constant for the first half of the run, then a
    /// cosine down to a tenth, so the last steps settle instead of jittering.
    public func learningRate(fractionDone: Double) -> Float {
        let f = min(max(fractionDone, 0), 1)
        guard f > 0.5 else { return options.learningRate }
        let cosine = 0.5 * (1 + cos(Double.pi * (f - 0.5) / 0.5))
        return options.learningRate * Float(0.1 + 0.9 * cosine)
    }

    /// Where the loss network's window lies in step `step`'s pictures: 0…jitter − 1 on each axis,
    /// drawn from the seed and the step, so that a resumed run sees the same windows.
    public func jitterOffsets(step: Int) -> (dy: Int, dx: Int) {
        guard options.jitter > 1 else { return (0, 0) }
        var random = SeededGenerator(seed: options.seed ^ 0x6A69_7474_6572 &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15)
        let j = UInt64(options.jitter)
        return (Int(random.next() % j), Int(random.next() % j))
    }

    /// The noise a texture network learns from at `step`: [batch, 3, crop, crop], 0–255, drawn
    /// from the seed and the step, so that a resumed run sees the same noise.
    public func textureBatch(step: Int) -> Tensor { Self.textureNoise(options: options, step: step) }

    private static func textureNoise(options: TrainingOptions, step: Int) -> Tensor {
        var mixer = SeededGenerator(seed: options.seed ^ 0x7465_7874_7572_6573)
        var noise = TextureNoise.batch(count: options.batchSize, width: options.cropSize, height: options.cropSize,
                                       seed: mixer.next() &+ UInt64(step))
        noise.scale(by: 255)
        return noise
    }

    /// One optimizer step on `batch` ([N, 3, S, S] photos, RGB 0–255, or a texture network's
    /// noise). Returns the loss terms averaged over the batch.
    public func train(on batch: Tensor, fractionDone: Double) throws(TrainingError) -> LossTerms {
        let n = batch.shape[0]
        let styles = styleIndices(step: step, batchSize: n)
        let output: Tensor
        do { output = try network.forward(batch, styles: options.architecture.styles > 1 ? styles : []) } catch {
            throw .network(error)
        }
        // The loss network sees every picture of the step through the same shifted window.
        let (dy, dx) = jitterOffsets(step: step)
        let cut = options.jitter - 1
        func seen(_ x: Tensor) -> Tensor { x.window(y: dy, x: dx, height: x.shape[2] - cut, width: x.shape[3] - cut) }
        let contentInput = options.texture ? batch : seen(preprocessing.networkInput(pixels255: batch))
        let outputInput = seen(preprocessing.networkInput(pixels255: output))
        var seenGradient = Tensor(shape: outputInput.shape)
        var mean = LossTerms()
        let share = 1 / Double(n)
        for i in 0..<n {
            let objective = objectives[styles[i]]
            let losses: LossTerms, gradient: Tensor
            do {
                if !options.texture { try objective.setContent(contentInput.image(i)) }
                (losses, gradient) = try objective.evaluate(outputInput.image(i))
            } catch { throw .network(error) }
            preprocessing.addPixelGradient(gradient, to: &seenGradient, image: i, factor: Float(share))
            mean.content += share * losses.content
            mean.style += share * losses.style
            mean.tv += share * losses.tv
            mean.total += share * losses.total
        }
        var outputGradient = Tensor(shape: output.shape)
        outputGradient.setWindow(seenGradient, y: dy, x: dx)
        guard mean.total.isFinite, outputGradient.allFinite else { throw .diverged(step: step + 1) }
        do { try network.backward(outputGradient) } catch { throw .network(error) }
        optimizer.learningRate = learningRate(fractionDone: fractionDone)
        optimizer.step(network.parameters)
        return mean
    }

    /// `photo` in style `style` through the network as it is now (sides rounded down to
    /// multiples of 4, as the network halves them twice).
    public func stylize(_ photo: Image, style: Int = 0) throws(TrainingError) -> Image {
        let (w, h) = (photo.width / 4 * 4, photo.height / 4 * 4)
        return try run((w, h) == (photo.width, photo.height) ? photo.pixels : photo.resized(width: w, height: h).pixels, style: style)
    }

    /// A texture network's picture from `seed`'s noise (sides multiples of 4), as
    /// `TextureNetwork.synthesize` makes it from the exported file.
    public func synthesize(width: Int, height: Int, seed: UInt64) throws(TrainingError) -> Image {
        try run(TextureNoise.batch(count: 1, width: width, height: height, seed: seed), style: 0)
    }

    /// The network on one picture in [0, 1].
    private func run(_ picture: Tensor, style: Int) throws(TrainingError) -> Image {
        var pixels = picture
        pixels.scale(by: 255)
        var output: Tensor
        do {
            output = try network.forward(pixels, styles: options.architecture.styles > 1 ? [style] : [])
        } catch { throw .network(error) }
        output.scale(by: 1 / 255)
        output.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = min(max(p[i], 0), 1) }
        }
        return Image(pixels: output)
    }
}

extension StyleNetworkTrainer {
    /// The network as an ONNX model (`TransformerNetExport`): `stylize fast --model` runs it,
    /// and so does onnxruntime.
    public func exportONNX() throws(TrainingError) -> [UInt8] {
        do { return Array(try TransformerNetExport.model(architecture: options.architecture, parameters: network.foldedParameters,
                                                            texture: options.texture)) } catch {
            throw .export(error)
        }
    }
}
