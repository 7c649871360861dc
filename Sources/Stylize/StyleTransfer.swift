import StylizeTensor
import StylizeNN
import StylizeIO

/// Neural style transfer by optimisation (Gatys, Ecker & Bethge 2015): the pixels of a generated
/// image move until its VGG-19 activations match the content image's at the content layers and
/// its Gram matrices match the style images' at the style layers.
///
///     let transfer = try StyleTransfer(weights: try VGG19Weights.load(path: path), options: options)
///     let picture = try transfer.run(content: photo, styles: [painting]) { print($0.losses.total) }
public struct StyleTransfer {
    /// Where a run stands, reported after each evaluation of the objective.
    public struct Progress: Sendable {
        /// 1-based; `losses` are those of the image before this iteration's step.
        public var iteration: Int
        public var iterations: Int
        public var losses: LossTerms
        /// Since the run started, preparation included.
        public var elapsedSeconds: Double
    }

    public let options: StyleTransferOptions
    public let preprocessing: Preprocessing
    let network: VGG19

    /// Builds the network; checks the options.
    public init(weights: VGG19Weights, options: StyleTransferOptions) throws(StylizeError) {
        try options.validate()
        self.options = options
        preprocessing = weights.preprocessing
        do {
            network = try VGG19(convolutions: weights.convolutions, pooling: options.pooling == .max ? .max : .average,
                                 precision: options.precision)
        } catch {
            throw .network(error)
        }
    }

    /// Stylizes `content` (resized to `options.imageSize` on its longer side) after `styles`
    /// (each resized to `imageSize × styleScale` on its longer side).
    ///
    /// - Parameters:
    ///   - initialImage: the start for `.image(path:)` initialisation when the caller has
    ///     already loaded it (else it is loaded from the path); resized to the output size.
    ///   - progress: called after each iteration.
    ///   - snapshot: called every `options.saveEvery` iterations (not after the last) with the
    ///     picture so far, original colours applied.
    ///   - shouldCancel: checked before each iteration; when it says true the run throws
    ///     `StylizeError.cancelled` carrying the picture so far.
    public func run(content: Image, styles: [Image], initialImage: Image? = nil,
                    progress: ((Progress) -> Void)? = nil,
                    snapshot: ((_ iteration: Int, _ image: Image) -> Void)? = nil,
                    shouldCancel: (() -> Bool)? = nil) throws(StylizeError) -> Image {
        let start = ContinuousClock.now
        guard !styles.isEmpty || options.styleWeight == 0 else { throw .invalidOption("no style image given") }
        if !options.styleBlendWeights.isEmpty && options.styleBlendWeights.count != styles.count {
            throw .invalidOption("\(options.styleBlendWeights.count) style blend weights for \(styles.count) style images")
        }
        let content = content.resized(longerSide: options.imageSize)
        let styleSide = max(1, Int((Float(options.imageSize) * options.styleScale).rounded()))
        var styles = styles.map { $0.resized(longerSide: styleSide) }
        var networkContent = content
        if options.luminanceOnly {
            networkContent = ColorPreservation.luminance(content)
            styles = styles.map { ColorPreservation.luminance($0, matching: content) }
        }

        let objective = Objective(network: network, options: options)
        let contentInput = preprocessing.networkInput(networkContent)
        do {
            if options.contentWeight > 0 { try objective.setContent(contentInput) }
            if options.styleWeight > 0 {
                try objective.setStyles(styles.map(preprocessing.networkInput), blendWeights: options.styleBlendWeights)
            }
        } catch {
            throw .network(error)
        }

        let x: Tensor
        switch options.initialization {
        case .content:
            x = contentInput
        case .noise:
            x = preprocessing.networkInput(noiseImage(width: content.width, height: content.height, seed: options.seed))
        case .image(let path):
            let start: Image
            if let initialImage {
                start = initialImage
            } else {
                do { start = try ImageIO.load(path) } catch { throw .image(error) }
            }
            x = preprocessing.networkInput(start.resized(width: content.width, height: content.height))
        }

        let finish = { (x: Tensor) -> Image in
            let picture = preprocessing.image(fromNetworkInput: x)
            return options.originalColors || options.luminanceOnly ? ColorPreservation.originalColors(result: picture, content: content) : picture
        }
        let result = try optimize(objective, from: x, options: options, pixelStep: preprocessing.pixelStep,
                                  start: start, finish: finish,
                                  progress: progress, snapshot: snapshot, shouldCancel: shouldCancel)
        return finish(result)
    }
}

/// Gaussian noise around mid-grey (σ = 0.25 of the pixel range, clamped to [0, 1]), from `seed`.
func noiseImage(width: Int, height: Int, seed: UInt64) -> Image {
    var generator = SeededGenerator(seed: seed)
    let scalars = (0..<(3 * width * height)).map { _ in Float(min(max(0.5 + 0.25 * generator.nextGaussian(), 0), 1)) }
    return Image(pixels: Tensor(shape: [1, 3, height, width], scalars: scalars))
}

/// The optimisation loop shared by style transfer and texture synthesis: `options.iterations`
/// evaluations, each followed by one optimiser step, stopping early only when L-BFGS converges.
func optimize(_ objective: Objective, from start: Tensor, options: StyleTransferOptions, pixelStep: Float,
              start clockStart: ContinuousClock.Instant, finish: (Tensor) -> Image,
              progress: ((StyleTransfer.Progress) -> Void)?,
              snapshot: ((Int, Image) -> Void)?,
              shouldCancel: (() -> Bool)?) throws(StylizeError) -> Tensor {
    var x = start
    var lbfgs = LBFGS(historySize: options.lbfgsHistorySize)
    var adam = Adam(learningRate: options.learningRate * pixelStep)
    for iteration in 1...options.iterations {
        if shouldCancel?() == true { throw .cancelled(iteration: iteration - 1, partial: finish(x)) }
        let losses: LossTerms, gradient: Tensor
        do {
            (losses, gradient) = try objective.evaluate(x)
        } catch {
            throw .network(error)
        }
        guard losses.total.isFinite else { throw .diverged(iteration: iteration) }
        var converged = false
        switch options.optimizer {
        case .lbfgs: converged = lbfgs.step(&x, loss: losses.total, gradient: gradient) == .converged
        case .adam: adam.step(&x, gradient: gradient)
        }
        let elapsed = ContinuousClock.now - clockStart
        progress?(StyleTransfer.Progress(
            iteration: iteration, iterations: options.iterations, losses: losses,
            elapsedSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18))
        if converged { break }
        if options.saveEvery > 0 && iteration % options.saveEvery == 0 && iteration < options.iterations {
            snapshot?(iteration, finish(x))
        }
    }
    return x
}
