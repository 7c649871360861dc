import Foundation
import Testing
import StylizeTensor
import StylizeNN
import StylizeIO
import Stylize
import StylizeModels

/// The objective against PyTorch's numbers in ../shared/reference/vgg19 (manifest.json "gatys").
@Suite
struct GatysReferenceTests {
    @Test func objectiveAndGradientMatchPyTorch() throws {
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: referenceDirectory + "/manifest.json"))) as! [String: Any]
        let gatys = manifest["gatys"] as! [String: Any]
        let number = { (key: String) in (gatys[key] as! NSNumber).doubleValue }
        let styleLayers = gatys["style_layers"] as! [String]

        let weights = try sharedWeightsOrThrow()
        let network = try VGG19(convolutions: weights.convolutions, pooling: .max)
        let objective = Objective(network: network, contentWeight: Float(number("alpha")),
                                  styleWeight: Float(number("beta")), tvWeight: Float(number("gamma")),
                                  contentLayers: [LayerWeight(gatys["content_layer"] as! String)],
                                  styleLayers: styleLayers.map { LayerWeight($0) })
        try objective.setContent(Preprocessing.caffeBGR.networkInput(try loadReferenceImage("content")))
        try objective.setStyles([Preprocessing.caffeBGR.networkInput(try loadReferenceImage("style"))])
        let x = Tensor(shape: [1, 3, 48, 64], scalars: try readF32(referenceDirectory + "/gatys_generated_input.f32"))
        let (losses, gradient) = try objective.evaluate(x)

        func close(_ got: Double, _ expected: Double, _ what: String) {
            #expect(abs(got - expected) <= 1e-3 * abs(expected), "\(what): \(got) vs \(expected)")
        }
        close(losses.content, number("content_loss"), "content")
        close(losses.style, number("style_loss"), "style")
        close(losses.tv, number("tv_loss"), "tv")
        close(losses.total, number("total"), "total")
        let terms = gatys["style_terms"] as! [String: NSNumber]
        for (layer, value) in terms { close(losses.styleTerms[layer] ?? .nan, value.doubleValue, layer) }

        let expected = try readF32(referenceDirectory + "/gatys_gradient.f32")
        let scale = Double(expected.map { abs($0) }.max()!)
        let worst = zip(gradient.scalars, expected).map { Double(abs($0 - $1)) }.max()!
        #expect(worst / scale < 1e-3, "gradient: largest difference \(worst) for largest value \(scale)")
        var difference = gradient
        difference.add(Tensor(shape: gradient.shape, scalars: expected), scaledBy: -1)
        let relativeNorm = (difference.squaredNorm / Tensor(shape: gradient.shape, scalars: expected).squaredNorm).squareRoot()
        #expect(relativeNorm < 1e-3, "gradient: relative L2 difference \(relativeNorm)")
    }

    /// bfloat16 arithmetic is not held to float32's tolerance, only to the same answer: losses
    /// within 3 % and a gradient pointing the same way (cosine > 0.99).
    @Test(.enabled(if: Precision.bf16.isAvailable, "bf16 needs AVX-512; this CPU has \(CPUCapabilities.current.isaName)"))
    func bfloat16StaysClose() throws {
        let weights = try sharedWeightsOrThrow()
        let network = try VGG19(convolutions: weights.convolutions, pooling: .max, precision: .bf16)
        let objective = Objective(network: network, contentWeight: 1, styleWeight: 0.01, tvWeight: 0.01,
                                  contentLayers: [LayerWeight("relu4_2")],
                                  styleLayers: ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"].map { LayerWeight($0) })
        try objective.setContent(Preprocessing.caffeBGR.networkInput(try loadReferenceImage("content")))
        try objective.setStyles([Preprocessing.caffeBGR.networkInput(try loadReferenceImage("style"))])
        let x = Tensor(shape: [1, 3, 48, 64], scalars: try readF32(referenceDirectory + "/gatys_generated_input.f32"))
        let (losses, gradient) = try objective.evaluate(x)
        #expect(abs(losses.total - 343737.625) < 0.03 * 343737.625, "total \(losses.total)")
        let expected = Tensor(shape: gradient.shape, scalars: try readF32(referenceDirectory + "/gatys_gradient.f32"))
        let cosine = gradient.dot(expected) / (gradient.squaredNorm * expected.squaredNorm).squareRoot()
        #expect(cosine > 0.99, "cosine \(cosine)")
    }
}
