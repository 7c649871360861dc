import Testing
import StylizeTensor
import StylizeIO
import Stylize
import StylizeModels

@Suite struct SupportTests {
    func randomImage(width: Int, height: Int, seed: UInt64) -> Image {
        var g = SeededGenerator(seed: seed)
        return Image(pixels: Tensor(shape: [1, 3, height, width],
                                    scalars: (0..<(3 * width * height)).map { _ in Float(g.nextUnit()) }))
    }

    @Test func seededGeneratorRepeatsAndLooksNormal() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xs = (0..<10_000).map { _ in a.nextGaussian() }
        #expect(xs == (0..<10_000).map { _ in b.nextGaussian() })
        #expect(xs[0..<10] != (0..<10).map { _ in c.nextGaussian() }[...])
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        #expect(abs(mean) < 0.05 && abs(variance - 1) < 0.05)
    }

    @Test(arguments: [Preprocessing.caffeBGR, .torchvisionRGB])
    func preprocessingRoundTrips(_ p: Preprocessing) {
        let image = randomImage(width: 7, height: 5, seed: 1)
        let back = p.image(fromNetworkInput: p.networkInput(image))
        let worst = zip(image.pixels.scalars, back.pixels.scalars).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5)
    }

    @Test func caffePreprocessingIsBGRMinusMean() {
        // One pixel, RGB (1, 0.5, 0): BGR 0–255 is (0, 127.5, 255).
        let image = Image(pixels: Tensor(shape: [1, 3, 1, 1], scalars: [1, 0.5, 0]))
        let x = Preprocessing.caffeBGR.networkInput(image).scalars
        #expect(abs(x[0] - (0 - 103.939)) < 1e-3 && abs(x[1] - (127.5 - 116.779)) < 1e-3 && abs(x[2] - (255 - 123.68)) < 1e-3)
    }

    @Test func originalColorsKeepsContentChromaAndResultLuma() {
        let content = randomImage(width: 6, height: 4, seed: 2)
        let result = randomImage(width: 6, height: 4, seed: 3)
        let mixed = ColorPreservation.originalColors(result: result, content: content)
        func luma(_ i: Image) -> [Float] {
            let p = i.pixels.scalars, n = i.width * i.height
            return (0..<n).map { 0.299 * p[$0] + 0.587 * p[n + $0] + 0.114 * p[2 * n + $0] }
        }
        // Where nothing was clamped, the luminance is the result's.
        let close = zip(luma(mixed), luma(result)).filter { abs($0 - $1) < 1e-4 }.count
        #expect(close > 12)
        // The content's own colours with its own luminance give it back.
        let same = ColorPreservation.originalColors(result: content, content: content)
        #expect(zip(same.pixels.scalars, content.pixels.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func luminanceMatchingTakesTheReferenceStatistics() {
        let style = randomImage(width: 8, height: 8, seed: 4)
        let grey = Image(pixels: Tensor(shape: [1, 3, 8, 8], repeating: 0.3))
        var reference = grey
        reference.pixels.withUnsafeMutableBufferPointer { p in for i in stride(from: 0, to: p.count, by: 2) { p[i] = 0.5 } }
        let matched = ColorPreservation.luminance(style, matching: reference)
        let y = Array(matched.pixels.scalars[0..<64])
        let mean = y.reduce(0, +) / 64
        let sd = (y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 64).squareRoot()
        // The reference's luminance is 0.3 or 0.5 on alternate pixels: mean 0.4, deviation 0.1.
        #expect(abs(mean - 0.4) < 1e-3 && abs(sd - 0.1) < 1e-3)
        #expect(matched.pixels.scalars[0..<64] == matched.pixels.scalars[64..<128])
    }

    @Test func optionsValidation() {
        #expect(throws: Never.self) { try StyleTransferOptions().validate() }
        var o = StyleTransferOptions()
        o.styleWeight = -1
        #expect(throws: StylizeError.self) { try o.validate() }
        o = StyleTransferOptions(); o.contentWeight = .nan
        #expect(throws: StylizeError.self) { try o.validate() }
        o = StyleTransferOptions(); o.iterations = 0
        #expect(throws: StylizeError.self) { try o.validate() }
        o = StyleTransferOptions(); o.styleLayers = [LayerWeight("relu9_9")]
        do { try o.validate(); Issue.record("accepted an unknown layer") } catch {
            #expect("\(error)".contains("relu9_9"))
        }
    }
}
