import Foundation
import Testing
import StylizeIO
import StylizeNN
import StylizeTensor
import Stylize
import StylizeModels

/// Texture networks (`stylize train --texture`, Ulyanov et al. 2016) at toy sizes: the style loss
/// falls on fresh noise every step, the noise follows the seed and step, and the exported file
/// draws what the trainer draws.
@Suite struct TextureNetworkTests {
    func options(steps: Int) -> TrainingOptions {
        var o = TrainingOptions()
        o.texture = true
        o.architecture = TransformerNetArchitecture(channels: [4, 8, 8], residualBlocks: 1)
        o.cropSize = 48
        o.styleSize = 64
        o.batchSize = 2
        o.steps = steps
        o.seed = 3
        return o
    }

    func trainer(_ options: TrainingOptions) throws -> StyleNetworkTrainer {
        try StyleNetworkTrainer(weights: try sharedWeightsOrThrow(), styles: [try ImageIO.load(sharedImages + "/brick.png")], options: options)
    }

    @Test func styleLossFallsOnFreshNoise() throws {
        var o = options(steps: 40)
        o.learningRate = 1e-2
        let t = try trainer(o)
        var losses: [LossTerms] = []
        while t.step < o.steps {
            losses.append(try t.train(on: t.textureBatch(step: t.step), fractionDone: Double(t.step) / Double(o.steps)))
        }
        #expect(losses.allSatisfy { $0.content == 0 }, "a texture network has no content loss")
        let first = losses[0].style, last = losses.suffix(5).map(\.style).reduce(0, +) / 5
        #expect(last < 0.5 * first, "style loss \(first) → \(last) (mean of the last 5 steps)")
    }

    @Test func noiseFollowsSeedAndStep() throws {
        let a = try trainer(options(steps: 1)), b = try trainer(options(steps: 1))
        #expect(a.textureBatch(step: 7).scalars == b.textureBatch(step: 7).scalars)
        #expect(a.textureBatch(step: 7).scalars != a.textureBatch(step: 8).scalars)
        let noise = a.textureBatch(step: 0)
        #expect(noise.shape == [2, 3, 48, 48])
        let values = noise.scalars
        #expect(values.min()! >= 0 && values.max()! <= 255)
        let mean = values.reduce(0, +) / Float(values.count)
        #expect(abs(mean - 127.5) < 3, "uniform in 0–255: mean \(mean)")
    }

    @Test func exportedNetworkDrawsWhatTheTrainerDraws() throws {
        let t = try trainer(options(steps: 2))
        while t.step < 2 { _ = try t.train(on: t.textureBatch(step: t.step), fractionDone: 0) }
        let dir = try photoFolder(copying: [])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/brick.onnx"
        try writeAtomically(t.exportONNX(), to: path)
        let network = try TextureNetwork(path: path)
        let ours = try t.synthesize(width: 64, height: 48, seed: 9).pixels.scalars
        let onnx = try network.synthesize(width: 64, height: 48, seed: 9)
        #expect(onnx.width == 64 && onnx.height == 48)
        let worst = zip(ours, onnx.pixels.scalars).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "largest difference \(worst) in [0, 1] units")
        let other = try network.synthesize(width: 64, height: 48, seed: 10)
        #expect(other.pixels.scalars != onnx.pixels.scalars, "another seed, another picture")
        let odd = try network.synthesize(width: 50, height: 37, seed: 9)
        #expect(odd.width == 50 && odd.height == 37)

        // A style network is not a texture network.
        var styleOptions = options(steps: 1)
        styleOptions.texture = false
        let style = try trainer(styleOptions)
        try writeAtomically(style.exportONNX(), to: dir + "/style.onnx")
        #expect {
            _ = try TextureNetwork(path: dir + "/style.onnx")
        } throws: { "\($0)".contains("not a texture network") && "\($0)".contains("its input is a photo") }
    }

    @Test func oneTextureOnly() {
        var o = options(steps: 1)
        o.architecture.styles = 2
        #expect { try o.validate() } throws: { "\($0)".contains("a texture network learns one texture") }
    }
}
