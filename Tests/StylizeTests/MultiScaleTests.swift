import Foundation
import Testing
import StylizeTensor
import StylizeNN
import StylizeIO
import Stylize

/// Coarse-to-fine runs: the schedule, its validation, and a small two-scale run.
@Suite
struct MultiScaleTests {
    @Test func automaticScalesHalveDownToAtLeast256() {
        #expect(StyleTransferOptions.automaticScales(imageSize: 64) == [64])
        #expect(StyleTransferOptions.automaticScales(imageSize: 511) == [511])
        #expect(StyleTransferOptions.automaticScales(imageSize: 512) == [256, 512])
        #expect(StyleTransferOptions.automaticScales(imageSize: 768) == [384, 768])
        #expect(StyleTransferOptions.automaticScales(imageSize: 1000) == [500, 1000])
        #expect(StyleTransferOptions.automaticScales(imageSize: 1024) == [256, 512, 1024])
        #expect(StyleTransferOptions.automaticScales(imageSize: 2048) == [256, 512, 1024, 2048])
        #expect(StyleTransferOptions.geometricScales(count: 3, imageSize: 1000) == [250, 500, 1000])
        #expect(StyleTransferOptions.geometricScales(count: 1, imageSize: 1000) == [1000])
    }

    @Test func iterationScheduleAndOverrides() {
        var o = StyleTransferOptions()
        #expect(o.resolvedScales == [256, 512] && o.resolvedScaleIterations == [200, 80])
        #expect(o.resolvedScaleContentWeights == [5, 10])
        #expect(o.tolerance == 1e-3 && o.toleranceWindow == 20)
        o.imageSize = 384
        #expect(o.resolvedScales == [384] && o.resolvedScaleIterations == [500] && o.resolvedScaleContentWeights == [5])
        o.imageSize = 1024
        #expect(o.resolvedScales == [256, 512, 1024])
        #expect(o.resolvedScaleIterations == [200, 80, 80])
        #expect(o.resolvedScaleContentWeights == [5, 25, 25])
        o.iterations = 1000
        o.contentWeight = 2
        #expect(o.resolvedScaleIterations == [400, 160, 160])
        #expect(o.resolvedScaleContentWeights == [2, 10, 10])
        o.imageSize = 512
        #expect(o.resolvedScaleIterations == [400, 160] && o.resolvedScaleContentWeights == [2, 4])
        o.imageSize = 1024
        o.iterations = 2
        #expect(o.resolvedScaleIterations == [1, 1, 1])
        o.scales = [1024]
        #expect(o.resolvedScaleIterations == [2])
        #expect(o.resolvedScaleContentWeights == [2])
        o.scales = [512, 1024]
        o.scaleIterations = [30, 10]
        o.scaleContentWeights = [1, 0]
        #expect(o.resolvedScaleIterations == [30, 10])
        #expect(o.resolvedScaleContentWeights == [1, 0])
        #expect(throws: Never.self) { try o.validate() }
    }

    @Test(arguments: [
        ([5, 30], "2 scale content weights for 3 scales"),
        ([5, -1, 30], "finite numbers ≥ 0, got -1"),
        ([5, .infinity, 30], "finite numbers ≥ 0, got inf"),
    ] as [([Float], String)])
    func badScaleContentWeightsAreRefused(weights: [Float], message: String) {
        var o = StyleTransferOptions()
        o.imageSize = 1024
        o.scaleContentWeights = weights
        expectRefused(o, mentioning: message)
    }

    @Test(arguments: [
        ([512, 256, 1024], [Int](), "ascending"),
        ([256, 256, 1024], [], "ascending"),
        ([256, 512], [], "must be the image size, 1024"),
        ([8, 1024], [], "below 16"),
        ([512, 1024], [100], "1 scale iteration counts for 2 scales"),
        ([512, 1024], [100, 0], "at least 1"),
        ([], [100, 50], "2 scale iteration counts for 3 scales"),
    ])
    func badSchedulesAreRefused(scales: [Int], iterations: [Int], message: String) {
        var o = StyleTransferOptions()
        o.imageSize = 1024
        o.scales = scales
        o.scaleIterations = iterations
        expectRefused(o, mentioning: message)
    }

    @Test func twoScaleRunReportsBothScalesAndReachesTheStyle() throws {
        var o = StyleTransferOptions()
        o.imageSize = 96
        o.scales = [48, 96]
        // Ten at the finer scale: the fresh L-BFGS there takes a few iterations to settle, and at 6
        // the end depended on summation order (the Gram backward on OpenBLAS: style ÷5 or more;
        // on oneDNN: ÷3.8; at 10 iterations ÷11).
        o.scaleIterations = [20, 10]
        o.saveEvery = 5
        let content = try loadReferenceImage("content"), style = try loadReferenceImage("style")
        let transfer = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
        var reports: [StyleTransfer.Progress] = []
        var snapshots: [(Int, Int)] = []
        let result = try transfer.run(content: content, styles: [style], progress: { reports.append($0) },
                                      snapshot: { i, image in snapshots.append((i, image.width)) })
        #expect(result.width == 96 && result.height == 72)
        #expect(reports.map(\.scale) == Array(repeating: 1, count: 20) + Array(repeating: 2, count: 10))
        #expect(reports.allSatisfy { $0.scales == 2 })
        #expect(reports.map(\.size) == Array(repeating: 48, count: 20) + Array(repeating: 96, count: 10))
        #expect(reports.map(\.iteration) == Array(1...20) + Array(1...10))
        #expect(reports.map(\.iterations) == Array(repeating: 20, count: 20) + Array(repeating: 10, count: 10))
        let fractions = reports.map(\.fractionDone)
        #expect(zip(fractions, fractions.dropFirst()).allSatisfy { $0 < $1 } && abs(fractions.last! - 1) < 1e-9)
        // Iterations are counted across scales; snapshots are at their scale's size.
        #expect(snapshots.map(\.0) == [5, 10, 15, 20, 25])
        #expect(snapshots.map(\.1) == [48, 48, 48, 48, 96])

        let before = try transfer.distances(of: content.resized(width: 96, height: 72), content: content, styles: [style])
        let after = try transfer.distances(of: result, content: content, styles: [style])
        #expect(before.content < 1e-9, "the content is at distance 0 from itself, got \(before.content)")
        #expect(after.style * 5 < before.style, "style distance \(before.style) → \(after.style)")
        #expect(after.contentTerms.keys.sorted() == ["relu4_2"] && after.styleTerms.count == 5)
    }

    /// The finer scales' content weight is what the coarse-to-fine default leans on: with five
    /// times the weight there the result must end nearer the content than with the same weight
    /// at both scales, and still far from the content picture's style distance.
    /// (Measured: 0.69–0.71× the content distance at 20 + 25…35 iterations, style 1.2–1.4×.)
    @Test func finerScalesContentWeightKeepsTheContent() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples").standardized.path
        let content = try ImageIO.load("\(examples)/chelsea.png"), style = try ImageIO.load("\(examples)/starry_night.jpg")
        func run(_ weights: [Float]) throws -> (LossTerms, LossTerms) {
            var o = StyleTransferOptions()
            o.imageSize = 96
            o.scales = [48, 96]
            o.scaleIterations = [20, 30]
            o.scaleContentWeights = weights
            let transfer = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
            let result = try transfer.run(content: content, styles: [style])
            return (try transfer.distances(of: result, content: content, styles: [style]),
                    try transfer.distances(of: content.resized(longerSide: 96), content: content, styles: [style]))
        }
        let (same, photo) = try run([5, 5])
        let (boosted, _) = try run([5, 25])
        #expect(boosted.content < 0.8 * same.content, "content distance \(same.content) → \(boosted.content)")
        #expect(boosted.style * 3 < photo.style, "style distance \(boosted.style), the photo's \(photo.style)")
    }

    @Test func cancellingInTheSecondScaleCountsAcrossScales() throws {
        var o = StyleTransferOptions()
        o.imageSize = 64
        o.scales = [32, 64]
        o.scaleIterations = [3, 5]
        o.originalColors = true
        let content = try loadReferenceImage("content"), style = try loadReferenceImage("style")
        let transfer = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
        var count = 0
        do {
            _ = try transfer.run(content: content, styles: [style], progress: { _ in count += 1 },
                                 shouldCancel: { count >= 5 })
            Issue.record("not cancelled")
        } catch StylizeError.cancelled(let iteration, let partial) {
            #expect(iteration == 5)
            #expect(partial.width == 64 && partial.height == 48)
        }
    }
}
