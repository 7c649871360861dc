import Foundation
import Testing
import Stylize
import StylizeIO
import StylizeNN
import StylizeTensor

/// bf16 arithmetic must not cost quality: the same run in bf16 and in fp32 ends at style and
/// content distances (both measured in fp32) within 2% of each other.
@Suite struct PrecisionQualityTests {
    @Test(.enabled(if: Precision.bf16IsNative, "bf16 is emulated on this CPU: too slow to compare here"))
    func bf16MatchesFP32Distances() throws {
        let weights = try sharedWeightsOrThrow()
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples").standardized.path
        let content = try ImageIO.load("\(examples)/chelsea.png").resized(longerSide: 128)
        let style = try ImageIO.load("\(examples)/starry_night.jpg").resized(longerSide: 128)
        var options = StyleTransferOptions()
        options.imageSize = 128
        options.iterations = 60
        options.seed = 1

        // Distances at the result's size, always in fp32.
        let judge = Objective(network: try VGG19(convolutions: weights.convolutions, pooling: .max, precision: .fp32),
                              options: options)
        try judge.setContent(options.preprocessingInput(content, weights: weights))
        try judge.setStyles([options.preprocessingInput(style, weights: weights)])

        var distances: [Precision: LossTerms] = [:]
        for precision in [Precision.fp32, .bf16] {
            options.precision = precision
            let result = try StyleTransfer(weights: weights, options: options).run(content: content, styles: [style])
            distances[precision] = try judge.evaluate(options.preprocessingInput(result, weights: weights)).losses
        }
        let a = distances[.fp32]!, b = distances[.bf16]!
        let start = try judge.evaluate(options.preprocessingInput(content, weights: weights)).losses
        #expect(a.style < start.style / 10, "the runs must have gone somewhere: style \(start.style) → \(a.style)")
        #expect(abs(b.style - a.style) / a.style < 0.02, "style distance fp32 \(a.style), bf16 \(b.style)")
        #expect(abs(b.content - a.content) / a.content < 0.02, "content distance fp32 \(a.content), bf16 \(b.content)")
    }
}

extension StyleTransferOptions {
    /// An image in the weights' network-input space.
    func preprocessingInput(_ image: Image, weights: VGG19Weights) -> Tensor {
        weights.preprocessing.networkInput(image)
    }
}
