import Foundation
import Testing
import StylizeIO
import StylizeNN
import StylizeTensor
import Stylize
import StylizeModels

/// Training a style network, at toy sizes: the loss falls, a resumed run is the same run, the
/// exported network computes what the trainer's does, and checkpoints from elsewhere are refused.
@Suite struct TrainingTests {
    /// A small run: 8-wide network, 32-px crops of three shared photos, The Starry Night at 64 px.
    func options(steps: Int = 4) -> TrainingOptions {
        var o = TrainingOptions()
        o.architecture = TransformerNetArchitecture(channels: [4, 8, 8], residualBlocks: 1)
        o.cropSize = 32
        o.styleSize = 64
        o.batchSize = 2
        o.steps = steps
        o.seed = 5
        return o
    }

    func trainer(_ options: TrainingOptions) throws -> StyleNetworkTrainer {
        let style = try ImageIO.load(sharedImages + "/starry_night.jpg")
        return try StyleNetworkTrainer(weights: try sharedWeightsOrThrow(), styles: [style], options: options)
    }

    func train(_ trainer: StyleNetworkTrainer, photos: TrainingPhotos, until steps: Int) throws -> [LossTerms] {
        let o = trainer.options
        let batches = PhotoBatches(photos: photos, batchSize: o.batchSize, cropSize: o.cropSize, seed: o.seed,
                                   startStep: trainer.step) { _ in }
        var losses: [LossTerms] = []
        while trainer.step < steps {
            let (step, batch) = try batches.next()
            losses.append(try trainer.train(on: batch, fractionDone: Double(step) / Double(o.steps)))
        }
        return losses
    }

    @Test(arguments: Precision.allCases.filter(\.isAvailable))
    func lossFallsOnOneBatch(precision: Precision) throws {
        var o = options(steps: 40)
        o.learningRate = 1e-2
        o.precision = precision
        let t = try trainer(o)
        let dir = try photoFolder(copying: ["chelsea.png", "coffee.png"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let batch = try PhotoBatches(photos: TrainingPhotos(folder: dir), batchSize: 2, cropSize: 32, seed: 1, startStep: 0) { _ in }.next().batch
        var totals: [Double] = []
        for step in 0..<40 { totals.append(try t.train(on: batch, fractionDone: Double(step) / 40).total) }
        #expect(t.step == 40)
        #expect(totals.allSatisfy { $0.isFinite })
        #expect(totals.last! < 0.5 * totals.first!, "total loss \(totals.first!) → \(totals.last!)")
    }

    /// With one style weight per style, each image of a batch is weighed by its own style's
    /// weight: two styles (the same painting), first-step totals with weights (w, w), (w, 0) and
    /// (0, w) differ by w times each image's style distance, which add up to the first run's.
    @Test func eachStyleHasItsOwnWeight() throws {
        let dir = try photoFolder(copying: ["chelsea.png", "coffee.png"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let style = try ImageIO.load(sharedImages + "/starry_night.jpg")
        let batch = try PhotoBatches(photos: TrainingPhotos(folder: dir), batchSize: 2, cropSize: 32, seed: 1, startStep: 0) { _ in }.next().batch
        let w: Float = 0.5
        func firstStep(_ weights: [Float]) throws -> LossTerms {
            var o = options()
            o.architecture.styles = 2
            o.styleWeights = weights
            let t = try StyleNetworkTrainer(weights: try sharedWeightsOrThrow(), styles: [style, style], options: o)
            #expect(t.styleIndices(step: 0, batchSize: 2) == [0, 1])
            return try t.train(on: batch, fractionDone: 0)
        }
        let (both, first, second) = try (firstStep([w, w]), firstStep([w, 0]), firstStep([0, w]))
        var single = options()
        single.architecture.styles = 2
        single.styleWeight = w
        let t = try StyleNetworkTrainer(weights: try sharedWeightsOrThrow(), styles: [style, style], options: single)
        #expect(try t.train(on: batch, fractionDone: 0) == both, "(w, w) is the single weight w")
        #expect(both.style == first.style && both.style == second.style, "the distances do not depend on the weights")
        let parts = (both.total - first.total) + (both.total - second.total)
        #expect(abs(parts - Double(w) * both.style) < 1e-3 * Double(w) * both.style, "\(parts) against \(Double(w) * both.style)")
        #expect(both.total - first.total > 0 && both.total - second.total > 0)

        var wrong = options()
        wrong.architecture.styles = 2
        wrong.styleWeights = [1, 2, 3]
        expectError({ try wrong.validate() }, contains: "3 style weights for 2 styles")
    }

    /// Each style loss other than Gram trains a network too: scaled to Gram's on a calibration
    /// photo, the total falls by half on one batch.
    @Test(arguments: [StyleLossKind.meanStd, .w2, .histogram, .mrf])
    func otherStyleLossesTrain(kind: StyleLossKind) throws {
        var o = options(steps: 40)
        o.learningRate = 1e-2
        o.styleLosses = [StyleLossTerm(kind, layers: kind == .mrf ? [LayerWeight("relu2_1"), LayerWeight("relu3_1")] : nil)]
        let dir = try photoFolder(copying: ["chelsea.png", "coffee.png"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let style = try ImageIO.load(sharedImages + "/starry_night.jpg")
        let calibration = try ImageIO.load(sharedImages + "/chelsea.png")
        let t = try StyleNetworkTrainer(weights: try sharedWeightsOrThrow(), styles: [style], options: o, calibration: calibration)
        let batch = try PhotoBatches(photos: TrainingPhotos(folder: dir), batchSize: 2, cropSize: 32, seed: 1, startStep: 0) { _ in }.next().batch
        var losses: [LossTerms] = []
        for step in 0..<40 { losses.append(try t.train(on: batch, fractionDone: Double(step) / 40)) }
        #expect(losses.allSatisfy { $0.total.isFinite && $0.style > 0 })
        #expect(losses.last!.total < 0.5 * losses.first!.total, "\(kind): total loss \(losses.first!.total) → \(losses.last!.total)")
    }

    /// Two steps, a checkpoint through its file bytes, a new trainer, two more steps: the same
    /// parameters, bit for bit, as four steps in one go (with the loss window moving).
    @Test func resumedRunIsTheSameRun() throws {
        let dir = try photoFolder(copying: ["chelsea.png", "coffee.png", "rocket.jpg"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let photos = try TrainingPhotos(folder: dir)
        var o = options()
        o.jitter = 4  // the moving loss window is drawn from the seed and the step too

        let straight = try trainer(o)
        _ = try train(straight, photos: photos, until: 4)

        let first = try trainer(o)
        _ = try train(first, photos: photos, until: 2)
        let bytes = first.checkpoint().serialized()
        let second = try trainer(o)
        try second.restore(SafeTensors(bytes: bytes, name: "checkpoint"), path: "checkpoint")
        #expect(second.step == 2)
        _ = try train(second, photos: photos, until: 4)

        for (a, b) in zip(straight.network.parameters, second.network.parameters) {
            #expect(a.value.scalars == b.value.scalars, "\(a.name) differs after resuming")
        }
        // And training did move them.
        let untrained = try trainer(o)
        #expect(untrained.network.parameters[0].value.scalars != straight.network.parameters[0].value.scalars)
    }

    /// A checkpoint written before the style-loss and jitter options existed resumes as what it
    /// was: a Gram run whose loss network saw the pictures unmoved.
    @Test func checkpointsWithoutNewerOptionsResume() throws {
        let old = options()
        let first = try trainer(old)
        var checkpoint = first.checkpoint()
        var json = try #require(try JSONSerialization.jsonObject(with: Data(checkpoint.metadata["options"]!.utf8)) as? [String: Any])
        #expect(json.removeValue(forKey: "styleLosses") != nil && json.removeValue(forKey: "styleLossSettings") != nil)
        #expect(json.removeValue(forKey: "jitter") != nil)
        checkpoint.metadata["options"] = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        let second = try trainer(old)
        try second.restore(SafeTensors(bytes: checkpoint.serialized(), name: "old"), path: "old")
        let restored = try StyleNetworkTrainer.options(in: checkpoint, path: "old")
        #expect(restored.styleLosses == [.gram] && restored.jitter == 1)
        var moved = options()
        moved.jitter = 4
        expectError({ try trainer(moved).restore(SafeTensors(bytes: checkpoint.serialized(), name: "old"), path: "old") },
                    contains: "jitter")
    }

    /// The loss network's window moves from step to step within 0…jitter − 1, the same way in
    /// every run of a seed (so resumed runs stay exact), and not at all with jitter 1.
    @Test func jitterMovesTheLossWindow() throws {
        var moved = options()
        moved.jitter = 4
        let a = try trainer(moved), b = try trainer(moved)
        let offsets = (0..<64).map { a.jitterOffsets(step: $0) }
        #expect(offsets.allSatisfy { (0..<4).contains($0.dy) && (0..<4).contains($0.dx) })
        #expect(Set(offsets.map { $0.dy * 4 + $0.dx }).count >= 12, "only \(Set(offsets.map { $0.dy * 4 + $0.dx }).count) of 16 windows in 64 steps")
        #expect(offsets.map { [$0.dy, $0.dx] } == (0..<64).map { [b.jitterOffsets(step: $0).dy, b.jitterOffsets(step: $0).dx] })
        let c = try trainer(options())
        #expect((0..<16).allSatisfy { c.jitterOffsets(step: $0) == (0, 0) })
        var bad = options()
        bad.jitter = 0
        expectError({ try trainer(bad) }, contains: "jitter must be 1–16 pixels")
    }

    @Test func checkpointsFromOtherRunsAreRefused() throws {
        let t = try trainer(options())
        let saved = t.checkpoint()

        var wider = options()
        wider.architecture.channels = [8, 8, 8]
        let w = try trainer(wider)
        expectError({ try w.restore(saved, path: "a.ckpt") }, contains: "a.ckpt: it is for a network of 4,8,8 × 1 blocks; this run builds 8,8,8 × 1 blocks")

        var heavier = options()
        heavier.styleWeight = 5
        let h = try trainer(heavier)
        expectError({ try h.restore(saved, path: "a.ckpt") }, contains: "styleWeight")

        var more = options(steps: 10)
        more.minutes = 3
        try trainer(more).restore(saved, path: "a.ckpt")  // a longer budget is allowed

        let foreign = SafeTensors(tensors: saved.tensors, metadata: ["format": "something else"])
        expectError({ try t.restore(foreign, path: "b.ckpt") }, contains: "not a Stylize training checkpoint")
    }

    /// What the trainer computes, the ONNX file computes in Stylize's executor.
    @Test(arguments: UpsamplingMode.allCases) func exportedNetworkMatchesTheTrainer(upsampling: UpsamplingMode) throws {
        var o = options()
        o.architecture.upsampling = upsampling
        let t = try trainer(o)
        let dir = try photoFolder(copying: ["chelsea.png", "coffee.png"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try train(t, photos: TrainingPhotos(folder: dir), until: 2)
        let path = dir + "/net.onnx"
        try writeAtomically(t.exportONNX(), to: path)
        let photo = try ImageIO.load(sharedImages + "/chelsea.png").resized(width: 64, height: 48)
        let ours = try t.stylize(photo).pixels.scalars
        let onnx = try PictureNetwork(path: path).stylize(photo).pixels.scalars
        let worst = zip(ours, onnx).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "largest difference \(worst) in [0, 1] units")
    }

    @Test(arguments: [
        ("style weight", "style weight must be a finite number ≥ 0"), ("learning rate", "learning rate"),
        ("crop", "crop size must be a multiple of 4"), ("layer", "unknown layer 'relu9_9'"),
        ("channels", "channels"), ("batch", "batch size"),
        ("mrf", "MRF patch size 9 does not fit relu3_1"), ("bins", "histogram bins"),
    ])
    func badOptionsAreRefused(change: String, message: String) {
        var o = options()
        switch change {
        case "style weight": o.styleWeight = -1
        case "learning rate": o.learningRate = .nan
        case "crop": o.cropSize = 30
        case "layer": o.styleLayers = ["relu9_9"]
        case "channels": o.architecture.channels = [4, 0, 8]
        case "mrf":
            o.styleLosses = [StyleLossTerm(.mrf)]
            o.styleLossSettings.mrfPatchSize = 9
        case "bins":
            o.styleLosses = [StyleLossTerm(.histogram)]
            o.styleLossSettings.histogramBins = 1
        default: o.batchSize = 0
        }
        expectError({ try o.validate() }, contains: message)
    }

    func expectError(_ body: () throws -> Void, contains text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("no error; expected one mentioning '\(text)'", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(text), "\(error)", sourceLocation: sourceLocation)
        }
    }
}
