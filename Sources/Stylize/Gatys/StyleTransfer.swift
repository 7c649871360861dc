import StylizeTensor
import StylizeNN
import StylizeIO
import StylizeModels

/// Neural style transfer by optimisation (Gatys, Ecker & Bethge 2015): the pixels of a generated
/// image move until its VGG-19 activations match the content image's at the content layers and
/// its Gram matrices match the style images' at the style layers.
///
///     let transfer = try StyleTransfer(weights: try VGG19Weights.load(path: path), options: options)
///     let picture = try transfer.run(content: photo, styles: [painting]) { print($0.losses.total) }
public struct StyleTransfer {
    /// Where a run stands, reported after each evaluation of the objective.
    public struct Progress: Sendable {
        /// 1-based, counted within the current scale; `losses` are those of the image before
        /// this iteration's step.
        public var iteration: Int
        /// The iterations at the current scale.
        public var iterations: Int
        public var losses: LossTerms
        /// Since the run started, preparation included.
        public var elapsedSeconds: Double
        /// Coarse to fine: the current scale, 1-based, and how many there are (1 and 1 for a
        /// single-scale run and for texture synthesis).
        public var scale: Int = 1
        public var scales: Int = 1
        /// The longer side, in pixels, of the picture being optimised at this scale.
        public var size: Int
        /// The estimated fraction of the whole run's work done, 0–1: iterations weighted by the
        /// pixels they process, so that a time left can be estimated across scales. Work planned
        /// for iterations that an early stop skipped no longer counts, so this and the time left
        /// estimated from it assume the rest runs to its planned iterations (an upper bound).
        public var fractionDone: Double
        /// True on a scale's last iteration when the scale ends before `iterations`: the
        /// objective stopped improving (`StyleTransferOptions.tolerance`) or L-BFGS converged.
        public var stoppedEarly: Bool = false
    }

    public let options: StyleTransferOptions
    public let preprocessing: Preprocessing
    let network: VGG19

    /// Builds the network; checks the options.
    public init(weights: VGG19Weights, options: StyleTransferOptions) throws(StylizeError) {
        try options.validate()
        self.options = options
        preprocessing = weights.preprocessing
        network = try options.network(weights: weights)
    }

    /// Stylizes `content` (resized to `options.imageSize` on its longer side) after `styles`
    /// (each resized to `imageSize × styleScale` on its longer side).
    ///
    /// With several scales (`options.resolvedScales`) the picture is optimised at each size in
    /// turn, content and styles resized for that size (styles to `size × styleScale`), with that
    /// scale's content weight (`options.resolvedScaleContentWeights`); the first
    /// scale starts as `options.initialization` says, each later one from the previous result
    /// upsampled (Lanczos), with a fresh optimizer. Original colours are applied once, at the end.
    ///
    /// - Parameters:
    ///   - initialImage: the start for `.image(path:)` initialisation when the caller has
    ///     already loaded it (else it is loaded from the path); resized to the (first scale's)
    ///     output size.
    ///   - progress: called after each iteration.
    ///   - snapshot: called every `options.saveEvery` iterations, counted across scales (not
    ///     after the last), with the picture so far at its scale's size, original colours applied.
    ///   - shouldCancel: checked before each iteration; when it says true the run throws
    ///     `StylizeError.cancelled` carrying the picture so far (at its scale's size) and the
    ///     iterations done across scales.
    public func run(content: Image, styles: [Image], initialImage: Image? = nil,
                    progress: ((Progress) -> Void)? = nil,
                    snapshot: ((_ iteration: Int, _ image: Image) -> Void)? = nil,
                    shouldCancel: (() -> Bool)? = nil) throws(StylizeError) -> Image {
        let start = ContinuousClock.now
        guard !styles.isEmpty || options.styleWeight == 0 else { throw .invalidOption("no style image given") }
        if !options.styleBlendWeights.isEmpty && options.styleBlendWeights.count != styles.count {
            throw .invalidOption("\(options.styleBlendWeights.count) style blend weights for \(styles.count) style images")
        }
        let sizes = options.resolvedScales, counts = options.resolvedScaleIterations
        let contentWeights = options.resolvedScaleContentWeights
        try checkMemory(content: content, styles: styles, size: sizes.last!)
        try checkStyleLossesFit(content: content, styles: styles, size: sizes.first!)
        // Work of one iteration ∝ the pixels it processes.
        let work = zip(sizes, counts).map { size, n in
            let (w, h) = scaledDimensions(width: content.width, height: content.height, longerSide: size)
            return Double(n) * Double(w * h)
        }
        // Work done, counting only the iterations that ran: an early stop takes its scale's
        // unused work out of the total, so the fractions stay estimates of time.
        var workDone = 0.0
        var plan = Stage(size: sizes[0], iterations: counts[0], totalIterations: counts.reduce(0, +))
        plan.scales = sizes.count

        var previous: Image?
        var result = content
        for (index, size) in sizes.enumerated() {
            let totalWork = workDone + work[index...].reduce(0, +)
            plan.scale = index + 1
            plan.size = size
            plan.iterations = counts[index]
            plan.totalIterations = plan.iterationsBefore + counts[index...].reduce(0, +)
            plan.workBefore = workDone / totalWork
            plan.workShare = work[index] / totalWork
            plan.workAfter = work[(index + 1)...].reduce(0, +) / totalWork
            let step = try prepare(content: content, styles: styles, size: size, contentWeight: contentWeights[index])
            let x: Tensor
            if let previous {
                x = preprocessing.networkInput(previous.resized(width: step.content.width, height: step.content.height))
            } else {
                x = try initialInput(content: step, initialImage: initialImage)
            }
            let finish = { (x: Tensor) -> Image in colours(preprocessing.image(fromNetworkInput: x), content: step.content) }
            let (optimized, done) = try optimize(step.objective, from: x, options: options, pixelStep: preprocessing.pixelStep,
                                                 start: start, stage: plan, finish: finish,
                                                 progress: progress, snapshot: snapshot, shouldCancel: shouldCancel)
            previous = preprocessing.image(fromNetworkInput: optimized)
            result = finish(optimized)
            plan.iterationsBefore += done
            workDone += work[index] * Double(done) / Double(counts[index])
        }
        return result
    }

    /// One scale's content picture, its network input, and the objective with its targets set.
    private struct Prepared {
        var content: Image
        var contentInput: Tensor
        var objective: Objective
    }

    private func prepare(content: Image, styles: [Image], size: Int, contentWeight: Float) throws(StylizeError) -> Prepared {
        let content = content.resized(longerSide: size)
        let styleSide = options.styleSide(forLongerSide: size)
        var styles = styles.map { $0.resized(longerSide: styleSide) }
        var networkContent = content
        if options.luminanceOnly {
            networkContent = ColorPreservation.luminance(content)
            styles = styles.map { ColorPreservation.luminance($0, matching: content) }
        }
        var scaleOptions = options
        scaleOptions.contentWeight = contentWeight
        let objective = Objective(network: network, options: scaleOptions)
        let contentInput = preprocessing.networkInput(networkContent)
        do {
            if contentWeight > 0 { try objective.setContent(contentInput) }
        } catch {
            throw .network(error)
        }
        if options.styleWeight > 0 {
            try objective.setStyles(styles.map(preprocessing.networkInput), blendWeights: options.styleBlendWeights,
                                    calibration: contentInput)
        }
        return Prepared(content: content, contentInput: contentInput, objective: objective)
    }

    /// The first scale's start, as `options.initialization` says.
    private func initialInput(content: Prepared, initialImage: Image?) throws(StylizeError) -> Tensor {
        switch options.initialization {
        case .content:
            return content.contentInput
        case .noise:
            return preprocessing.networkInput(noiseImage(width: content.content.width, height: content.content.height, seed: options.seed))
        case .image(let path):
            let start: Image
            if let initialImage {
                start = initialImage
            } else {
                do { start = try ImageIO.load(path) } catch { throw .image(error) }
            }
            return preprocessing.networkInput(start.resized(width: content.content.width, height: content.content.height))
        }
    }

    /// `picture` with `content`'s colours when the options ask for them.
    private func colours(_ picture: Image, content: Image) -> Image {
        options.originalColors || options.luminanceOnly ? ColorPreservation.originalColors(result: picture, content: content) : picture
    }

    /// How far `image` is from `content` and `styles` by this transfer's objective, measured at
    /// the image's own size: the content resized to the image's width and height, the styles to
    /// `styleScale ×` its longer side, with this transfer's layers, weights, blend weights and
    /// precision. `content` and `style` of the result are the content and style distances
    /// (before the content and style weights); `total` is the objective's value. Comparing two
    /// pictures of the same size this way says which is nearer its content and its style.
    ///
    /// - Parameter styleLosses: other style losses to measure with instead of the options' own
    ///   (the same network serves them all).
    public func distances(of image: Image, content: Image, styles: [Image],
                          styleLosses: [StyleLossTerm]? = nil) throws(StylizeError) -> LossTerms {
        var options = options
        if let styleLosses {
            options.styleLosses = styleLosses
            try options.validate()
        }
        guard !styles.isEmpty || options.styleWeight == 0 else { throw .invalidOption("no style image given") }
        if !options.styleBlendWeights.isEmpty && options.styleBlendWeights.count != styles.count {
            throw .invalidOption("\(options.styleBlendWeights.count) style blend weights for \(styles.count) style images")
        }
        let objective = Objective(network: network, options: options)
        let styleSide = options.styleSide(forLongerSide: max(image.width, image.height))
        try options.checkStyleLossesFit(width: image.width, height: image.height, styleSizes: styles.map {
            scaledDimensions(width: $0.width, height: $0.height, longerSide: styleSide)
        })
        let contentInput = preprocessing.networkInput(content.resized(width: image.width, height: image.height))
        if options.styleWeight > 0 {
            try objective.setStyles(styles.map { preprocessing.networkInput($0.resized(longerSide: styleSide)) },
                                    blendWeights: options.styleBlendWeights, calibration: contentInput)
        }
        do {
            if options.contentWeight > 0 { try objective.setContent(contentInput) }
            return try objective.evaluate(preprocessing.networkInput(image)).losses
        } catch {
            throw .network(error)
        }
    }
}

/// Gaussian noise around mid-grey (σ = 0.25 of the pixel range, clamped to [0, 1]), from `seed`.
func noiseImage(width: Int, height: Int, seed: UInt64) -> Image {
    var generator = SeededGenerator(seed: seed)
    let scalars = (0..<(3 * width * height)).map { _ in Float(min(max(0.5 + 0.25 * generator.nextGaussian(), 0), 1)) }
    return Image(pixels: Tensor(shape: [1, 3, height, width], scalars: scalars))
}

extension StyleTransfer {
    /// Refuses, before any resizing, a run at `size` whose pictures would not fit in memory.
    func checkMemory(content: Image, styles: [Image], size: Int) throws(StylizeError) {
        let (w, h) = scaledDimensions(width: content.width, height: content.height, longerSide: size)
        let styleSide = options.styleSide(forLongerSide: size)
        let (sw, sh) = styles.map { scaledDimensions(width: $0.width, height: $0.height, longerSide: styleSide) }
            .max { $0.width * $0.height < $1.width * $1.height } ?? (0, 0)
        try options.checkMemory(width: w, height: h, styleWidth: sw, styleHeight: sh,
                                pictureSize: "the image size", styleSize: "the style images' longer side (image size × style scale)")
    }
}

extension StyleTransfer {
    /// Refuses, before any work, MRF patches that do not fit the picture or the styles at `size`.
    func checkStyleLossesFit(content: Image, styles: [Image], size: Int) throws(StylizeError) {
        let (w, h) = scaledDimensions(width: content.width, height: content.height, longerSide: size)
        let styleSide = options.styleSide(forLongerSide: size)
        try options.checkStyleLossesFit(width: w, height: h, styleSizes: styles.map {
            scaledDimensions(width: $0.width, height: $0.height, longerSide: styleSide)
        })
    }
}

/// The width and height `Image.resized(longerSide:)` gives.
func scaledDimensions(width: Int, height: Int, longerSide: Int) -> (width: Int, height: Int) {
    let (long, short) = width >= height ? (width, height) : (height, width)
    let scaled = max(1, Int((Double(short) * Double(longerSide) / Double(long)).rounded()))
    return width >= height ? (longerSide, scaled) : (scaled, longerSide)
}

/// Where one optimisation sits in a coarse-to-fine run: which scale, and what came before.
struct Stage {
    var scale = 1, scales = 1
    /// The longer side of the picture at this scale.
    var size: Int
    var iterations: Int
    /// Iterations done at the earlier scales, and those plus the ones planned from here on:
    /// snapshots and cancellation count iterations across scales.
    var iterationsBefore = 0
    var totalIterations: Int
    /// Fractions of the whole run's work in the earlier scales, in this one, and in the later ones.
    var workBefore = 0.0, workShare = 1.0, workAfter = 0.0

    /// The fraction of the run's work done after `iteration` of this scale's iterations; when
    /// the scale stops there, its unused iterations leave the total.
    func fractionDone(after iteration: Int, stopped: Bool) -> Double {
        let done = workBefore + workShare * Double(iteration) / Double(iterations)
        return stopped ? done / (done + workAfter) : done
    }
}

/// The optimisation loop shared by style transfer and texture synthesis: up to `stage.iterations`
/// evaluations (`options.iterations` without a stage), each followed by one optimiser step,
/// stopping early when the objective stops improving (`options.tolerance`, see `EarlyStop`) or
/// L-BFGS converges. Returns the picture and the evaluations done.
func optimize(_ objective: Objective, from start: Tensor, options: StyleTransferOptions, pixelStep: Float,
              start clockStart: ContinuousClock.Instant, stage: Stage? = nil, finish: (Tensor) -> Image,
              progress: ((StyleTransfer.Progress) -> Void)?,
              snapshot: ((Int, Image) -> Void)?,
              shouldCancel: (() -> Bool)?) throws(StylizeError) -> (x: Tensor, iterations: Int) {
    let stage = stage ?? Stage(size: max(start.shape[2], start.shape[3]), iterations: options.iterations,
                               totalIterations: options.iterations)
    var x = start
    var lbfgs = LBFGS(historySize: options.lbfgsHistorySize)
    var adam = Adam(learningRate: options.learningRate * pixelStep)
    var earlyStop = EarlyStop(tolerance: options.tolerance, window: options.toleranceWindow)
    for iteration in 1...stage.iterations {
        let overall = stage.iterationsBefore + iteration
        if shouldCancel?() == true { throw .cancelled(iteration: overall - 1, partial: finish(x)) }
        let losses: LossTerms, gradient: Tensor
        do {
            (losses, gradient) = try objective.evaluate(x)
        } catch {
            throw .network(error)
        }
        guard losses.total.isFinite else { throw .diverged(iteration: overall) }
        var stop = earlyStop.record(losses.total)
        switch options.optimizer {
        case .lbfgs: if lbfgs.step(&x, loss: losses.total, gradient: gradient) == .converged { stop = true }
        case .adam: adam.step(&x, gradient: gradient)
        }
        let elapsed = ContinuousClock.now - clockStart
        progress?(StyleTransfer.Progress(
            iteration: iteration, iterations: stage.iterations, losses: losses,
            elapsedSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18,
            scale: stage.scale, scales: stage.scales, size: stage.size,
            fractionDone: stage.fractionDone(after: iteration, stopped: stop),
            stoppedEarly: stop && iteration < stage.iterations))
        if stop { return (x, iteration) }
        if options.saveEvery > 0 && overall % options.saveEvery == 0 && overall < stage.totalIterations {
            snapshot?(overall, finish(x))
        }
    }
    return (x, stage.iterations)
}
