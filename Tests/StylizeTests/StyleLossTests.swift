import Foundation
import Testing
import StylizeTensor
import StylizeNN
import Stylize

/// The five style losses: values and gradients against an independent numpy computation
/// (Fixtures/make_style_loss_fixtures.py), gradients against finite differences, and the
/// parsing of `--style-loss`.
@Suite struct StyleLossTests {
    struct Fixture {
        var picture: Tensor
        var styles: WeightedFeatures
        var settings = StyleLossSettings()
        var expected: [String: (value: Double, gradient: [Float])] = [:]
    }

    static let fixturePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/style_losses.json").path

    func fixture() throws -> Fixture {
        guard let data = FileManager.default.contents(atPath: Self.fixturePath) else {
            throw MissingFixture(path: Self.fixturePath, origin: "Tests/StylizeTests/Fixtures/make_style_loss_fixtures.py")
        }
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        func tensor(_ any: Any?) throws -> Tensor {
            let d = try #require(any as? [String: Any])
            let shape = try #require(d["shape"] as? [Int]), values = try #require(d["values"] as? [Double])
            return Tensor(shape: shape, scalars: values.map { Float($0) })
        }
        let weights = try #require(json["weights"] as? [Double])
        let styles = try #require(json["styles"] as? [Any])
        var f = Fixture(picture: try tensor(json["picture"]),
                        styles: try zip(styles, weights).map { (try tensor($0), Float($1)) })
        let settings = try #require(json["settings"] as? [String: Double])
        f.settings.histogramBins = Int(settings["histogramBins"]!)
        f.settings.mrfPatchSize = Int(settings["mrfPatchSize"]!)
        f.settings.mrfStride = Int(settings["mrfStride"]!)
        f.settings.w2Epsilon = Float(settings["w2Epsilon"]!)
        for (name, any) in try #require(json["losses"] as? [String: [String: Any]]) {
            f.expected[name] = (try #require(any["value"] as? Double), try #require(any["gradient"] as? [Double]).map { Float($0) })
        }
        return f
    }

    func target(_ kind: StyleLossKind, _ styles: WeightedFeatures, _ settings: StyleLossSettings) throws -> StyleTarget {
        try kind.target(for: styles, layer: "test", settings: settings, precision: .fp32)
    }

    @Test(arguments: StyleLossKind.allCases)
    func valueAndGradientMatchNumpy(kind: StyleLossKind) throws {
        let f = try fixture()
        let expected = try #require(f.expected[kind.rawValue], "no \(kind) entry in \(Self.fixturePath)")
        var features = f.picture
        let value = try target(kind, f.styles, f.settings).loss(replacing: &features)
        #expect(abs(value - expected.value) <= 1e-4 * abs(expected.value), "\(kind): \(value) vs numpy \(expected.value)")
        let scale = expected.gradient.map { abs($0) }.max()!
        let worst = zip(features.scalars, expected.gradient).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-3 * scale, "\(kind): gradient differs by \(worst) (largest \(scale))")
    }

    /// Gaussian features without ties (the histogram loss's gradient is exact where no two values
    /// tie, the MRF's where no match changes).
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(1 + g.nextGaussian()) })
    }

    @Test(arguments: StyleLossKind.allCases)
    func gradientMatchesFiniteDifferences(kind: StyleLossKind) throws {
        var settings = StyleLossSettings()
        settings.histogramBins = 32
        let styles: WeightedFeatures = [(random([1, 5, 9, 8], seed: 3), 0.6), (random([1, 5, 7, 10], seed: 4), 0.4)]
        let target = try target(kind, styles, settings)
        let x = random([1, 5, 8, 7], seed: 5)
        var analytic = x
        _ = try target.loss(replacing: &analytic)
        let scale = Double(analytic.maxAbs)
        let step: Float = 1e-2
        var worst = 0.0, checked = 0
        let values = x.scalars, plane = 8 * 7
        for i in stride(from: 0, to: x.count, by: 3) {
            // The histogram loss has a kink wherever two values of a channel cross: step over none.
            let channel = (i / plane * plane)..<(i / plane * plane + plane)
            if kind == .histogram, channel.contains(where: { $0 != i && abs(values[$0] - values[i]) <= 2 * step }) { continue }
            var plus = x, minus = x
            plus.withUnsafeMutableBufferPointer { $0[i] += step }
            minus.withUnsafeMutableBufferPointer { $0[i] -= step }
            let numeric = (try target.loss(replacing: &plus) - target.loss(replacing: &minus)) / (2 * Double(step))
            worst = max(worst, abs(numeric - Double(analytic.scalars[i])) / scale)
            checked += 1
        }
        #expect(checked >= 20, "\(kind): only \(checked) coordinates checked")
        #expect(worst < 1e-2, "\(kind): worst relative gradient error \(worst)")
    }

    @Test func lossIsZeroAtTheStyleItself() throws {
        let style = random([1, 4, 9, 9], seed: 9)
        for kind in StyleLossKind.allCases where kind != .w2 {
            var settings = StyleLossSettings()
            settings.mrfStride = 1
            var features = style
            let value = try target(kind, [(style, 1)], settings).loss(replacing: &features)
            #expect(abs(value) < 1e-3, "\(kind) of the style against itself: \(value)")
        }
    }

    @Test func parsing() throws {
        let terms = try StyleLossTerm.parse("gram:1, histogram:0.5,mrf")
        #expect(terms.map(\.kind) == [.gram, .histogram, .mrf])
        #expect(terms.map(\.weight) == [1, 0.5, 1])
        #expect(terms[2].layers?.map(\.layer) == ["relu3_1", "relu4_1"])
        for bad in ["gramm", "gram:-1", "gram:nan", "gram:inf", "gram,gram", "gram:0", "", "w2:x"] {
            #expect(throws: StylizeError.self, "'\(bad)' should be refused") { try StyleLossTerm.parse(bad) }
        }
    }

    @Test func patchesThatDoNotFitAreRefusedUpFront() throws {
        var o = StyleTransferOptions()
        o.styleLosses = [StyleLossTerm(.mrf)]
        o.styleLossSettings.mrfPatchSize = 5
        // relu4_1 of a 32×32 picture is 4×4: a 5×5 patch does not fit.
        #expect(throws: StylizeError.self) { try o.checkStyleLossesFit(width: 32, height: 32, styleSizes: [(64, 64)]) }
        #expect(throws: StylizeError.self) { try o.checkStyleLossesFit(width: 64, height: 64, styleSizes: [(32, 40)]) }
        try o.checkStyleLossesFit(width: 40, height: 40, styleSizes: [(40, 48)])
    }
}

/// Whole runs with each style loss on the 64×48 reference pictures and the real VGG-19 weights.
@Suite struct StyleLossRunTests {
    /// Each loss alone: the run brings the picture nearer the style under that loss, and the
    /// normalisation puts every loss at the Gram loss's value on the content photo.
    @Test(arguments: StyleLossKind.allCases)
    func eachLossReachesTheStyle(kind: StyleLossKind) throws {
        let content = try loadReferenceImage("content"), style = try loadReferenceImage("style")
        var o = StyleTransferOptions()
        o.imageSize = 64
        o.iterations = 30
        o.scales = [64]
        o.styleLosses = [StyleLossTerm(kind, layers: kind == .mrf ? [LayerWeight("relu3_1"), LayerWeight("relu4_1")] : nil)]
        let weights = try sharedWeightsOrThrow()
        let transfer = try StyleTransfer(weights: weights, options: o)
        let result = try transfer.run(content: content, styles: [style])
        let before = try transfer.distances(of: content, content: content, styles: [style])
        let after = try transfer.distances(of: result, content: content, styles: [style])
        #expect(after.style < 0.5 * before.style, "\(kind): style distance \(before.style) → \(after.style)")
        #expect(before.styleLossTerms.keys.sorted() == [kind.rawValue])

        // On the content photo (the calibration picture) the loss equals the Gram loss at its
        // layers, times its calibration share.
        var g = o
        g.styleLosses = [StyleLossTerm(.gram, layers: o.styleLosses[0].layers)]
        let gram = try StyleTransfer(weights: weights, options: g).distances(of: content, content: content, styles: [style])
        let expected = kind.calibrationShare * gram.style
        #expect(abs(before.style - expected) <= 1e-3 * expected, "\(kind): \(before.style) vs Gram × share \(expected)")
    }

    @Test func gramAloneIsTheDefaultObjective() throws {
        let content = try loadReferenceImage("content"), style = try loadReferenceImage("style")
        var o = StyleTransferOptions()
        o.imageSize = 64
        let weights = try sharedWeightsOrThrow()
        let plain = try StyleTransfer(weights: weights, options: o).distances(of: content, content: content, styles: [style])
        o.styleLosses = [StyleLossTerm(.gram, weight: 1)]
        let named = try StyleTransfer(weights: weights, options: o).distances(of: content, content: content, styles: [style])
        #expect(plain == named)
        #expect(plain.styleLossTerms["gram"] == plain.style)
    }
}
