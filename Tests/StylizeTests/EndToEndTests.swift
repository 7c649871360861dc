import Testing
import StylizeTensor
import StylizeNN
import StylizeIO
import Stylize
import StylizeModels

/// Small whole runs on the 64×48 reference pictures with the real VGG-19 weights.
@Suite
struct EndToEndTests {
    func options(iterations: Int) -> StyleTransferOptions {
        var o = StyleTransferOptions()
        o.imageSize = 64
        o.iterations = iterations
        return o
    }

    /// Σ over the default style layers of the Gram loss between `image` and `style`.
    func styleDistance(_ image: Image, to style: Image) throws -> Double {
        let weights = try sharedWeightsOrThrow()
        let objective = Objective(network: try VGG19(convolutions: weights.convolutions, pooling: .max),
                                  options: { var o = StyleTransferOptions(); o.contentWeight = 0; o.tvWeight = 0; return o }())
        try objective.setStyles([weights.preprocessing.networkInput(style)])
        return try objective.evaluate(weights.preprocessing.networkInput(image)).losses.style
    }

    @Test func styleTransferLowersTheObjectiveAndReachesTheStyle() throws {
        let content = try loadReferenceImage("content"), style = try loadReferenceImage("style")
        var totals: [Double] = []
        let transfer = try StyleTransfer(weights: sharedWeightsOrThrow(), options: options(iterations: 30))
        let result = try transfer.run(content: content, styles: [style]) { totals.append($0.losses.total) }
        #expect(result.width == 64 && result.height == 48)
        #expect(totals.count == 30)
        #expect(totals.last! < 0.2 * totals.first!, "\(totals.first!) → \(totals.last!)")
        let before = try styleDistance(content, to: style), after = try styleDistance(result, to: style)
        #expect(after * 10 <= before, "style distance \(before) → \(after)")
    }

    @Test func adamLowersTheObjective() throws {
        var o = options(iterations: 20)
        o.optimizer = .adam
        var totals: [Double] = []
        let transfer = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
        _ = try transfer.run(content: try loadReferenceImage("content"), styles: [try loadReferenceImage("style")]) {
            totals.append($0.losses.total)
        }
        #expect(totals.last! < 0.7 * totals.first!, "\(totals.first!) → \(totals.last!)")
    }

    @Test func sameSeedSameBytes() throws {
        var o = options(iterations: 4)
        o.initialization = .noise
        o.originalColors = true
        o.seed = 7
        let content = try loadReferenceImage("content"), style = try loadReferenceImage("style")
        let weights = try sharedWeightsOrThrow()
        let a = try StyleTransfer(weights: weights, options: o).run(content: content, styles: [style])
        let b = try StyleTransfer(weights: weights, options: o).run(content: content, styles: [style])
        #expect(a.pixels.scalars == b.pixels.scalars)
        o.seed = 8
        let c = try StyleTransfer(weights: weights, options: o).run(content: content, styles: [style])
        #expect(a.pixels.scalars != c.pixels.scalars)
    }

    @Test func textureSynthesisLowersTheStyleLoss() throws {
        var o = options(iterations: 25)
        var styleLosses: [Double] = []
        let synthesis = try TextureSynthesis(weights: sharedWeightsOrThrow(), options: o)
        let texture = try synthesis.run(styles: [try loadReferenceImage("style")], width: 48, height: 40) {
            styleLosses.append($0.losses.style)
            #expect($0.losses.content == 0)
        }
        #expect(texture.width == 48 && texture.height == 40)
        #expect(styleLosses.last! < 0.1 * styleLosses.first!, "\(styleLosses.first!) → \(styleLosses.last!)")
        o.styleWeight = 0
        #expect(throws: StylizeError.self) { try TextureSynthesis(weights: sharedWeightsOrThrow(), options: o) }
    }

    @Test func cancellationSnapshotsAndBlendWeights() throws {
        var o = options(iterations: 10)
        o.saveEvery = 2
        let content = try loadReferenceImage("content"), style = try loadReferenceImage("style")
        let transfer = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
        var snapshots: [Int] = []
        var iterations = 0
        do {
            _ = try transfer.run(content: content, styles: [style, style],
                                 progress: { iterations = $0.iteration },
                                 snapshot: { i, image in snapshots.append(i); #expect(image.width == 64) },
                                 shouldCancel: { iterations >= 5 })
            Issue.record("not cancelled")
        } catch StylizeError.cancelled(let iteration, let partial) {
            #expect(iteration == 5)
            #expect(partial.width == 64 && partial.height == 48)
        }
        #expect(snapshots == [2, 4])

        o.styleBlendWeights = [1, 2, 3]
        let mismatched = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
        #expect(throws: StylizeError.self) { try mismatched.run(content: content, styles: [style, style]) }
    }

    @Test func luminanceOnlyKeepsTheContentsColours() throws {
        var o = options(iterations: 3)
        o.luminanceOnly = true
        let content = try loadReferenceImage("content")
        let result = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
            .run(content: content, styles: [try loadReferenceImage("style")])
        func chroma(_ i: Image) -> [Float] {
            let p = i.pixels.scalars, n = i.width * i.height
            var uv: [Float] = []
            for j in 0..<n {
                let r = p[j], g = p[n + j], b = p[2 * n + j]
                let u: Float = -0.14713 * r - 0.28886 * g + 0.436 * b
                let v: Float = 0.615 * r - 0.51499 * g - 0.10001 * b
                uv += [u, v]
            }
            return uv
        }
        // Clamping to [0, 1] may move a few saturated pixels; the rest keep the content's chroma.
        let kept = zip(chroma(result), chroma(content)).filter { abs($0 - $1) < 1e-3 }.count
        #expect(kept > 2 * 64 * 48 * 9 / 10)
    }
}
