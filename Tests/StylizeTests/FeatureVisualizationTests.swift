import Foundation
import Testing
import StylizeIO
import StylizeModels
import StylizeTensor
import Stylize

/// Feature visualization at small sizes: the optimisation truly maximises (many times the best
/// of random noise and of photos), and each regularizer shows its effect.
@Suite struct FeatureVisualizationTests {
    func visualization(_ change: (inout VisualizationOptions) -> Void = { _ in }) throws -> FeatureVisualization {
        var o = VisualizationOptions()
        o.width = 64
        o.height = 64
        o.steps = 48
        o.pad = 4
        o.jitter = 2
        change(&o)
        return try FeatureVisualization(weights: sharedWeightsOrThrow(), options: o)
    }

    /// Mean squared difference from a blurred copy over the variance: the share of the
    /// picture's energy in its finest detail.
    func highFrequencyShare(_ image: Image) -> Double {
        let x = image.pixels.scalars
        let mean = x.reduce(0, +) / Float(x.count)
        let variance = x.reduce(0.0) { $0 + Double(($1 - mean) * ($1 - mean)) } / Double(x.count)
        let blurred = gaussianBlurForTests(image.pixels)
        let detail = zip(x, blurred.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(x.count)
        return detail / max(variance, 1e-12)
    }

    @Test func maximisesFarBeyondNoiseAndPhotos() throws {
        let v = try visualization { $0.steps = 192 }
        let objective = try VisualizationObjective(layer: "relu3_1", channel: 8)
        let picture = try v.run(objective)
        #expect(picture.width == 64 && picture.height == 64)
        let achieved = try v.value(of: picture, objective: objective)
        var random = SeededGenerator(seed: 1)
        var best = 0.0
        for _ in 0..<200 {
            var noise = Tensor(shape: [1, 3, 64, 64])
            noise.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Float(random.nextUnit()) } }
            best = max(best, try v.value(of: Image(pixels: noise), objective: objective))
        }
        for name in ["chelsea.png", "coffee.png", "starry_night.jpg", "brick.png"] {
            let photo = try ImageIO.load(sharedImages + "/" + name).centreSquare(side: 64)
            best = max(best, try v.value(of: photo, objective: objective))
        }
        #expect(achieved > 5 * best, "relu3_1 channel 8: visualization \(achieved), best of 200 noise pictures and 4 photos \(best)")
    }

    @Test func minimizingDrivesTheChannelDown() throws {
        var objective = try VisualizationObjective(layer: "relu3_1", channel: 8)
        objective.minimize = true
        let v = try visualization()
        let picture = try v.run(objective)
        let photo = try ImageIO.load(sharedImages + "/chelsea.png").centreSquare(side: 64)
        var plain = objective
        plain.minimize = false
        #expect(try v.value(of: picture, objective: plain) < 0.1 * v.value(of: photo, objective: plain))
    }

    @Test func fourierParameterizationHasLessFineDetail() throws {
        let objective = try VisualizationObjective(layer: "relu3_1", channel: 8)
        let fourier = try visualization().run(objective)
        let pixels = try visualization { $0.parameterization = .pixels }.run(objective)
        let (f, p) = (highFrequencyShare(fourier), highFrequencyShare(pixels))
        #expect(f < 0.5 * p, "share of energy in the finest detail: Fourier \(f), pixels \(p)")
    }

    /// Trained under jitter, the picture still works shifted by 4 pixels (half of relu4_1's
    /// stride, so the features do not just move one cell); trained plain, much less.
    @Test func transformsMakeItRobustToShifts() throws {
        let objective = try VisualizationObjective(layer: "relu4_1", channel: 8)
        func kept(_ v: FeatureVisualization) throws -> Double {
            let picture = try v.run(objective)
            let shifted = Image(pixels: picture.pixels.rolled(dy: 4, dx: 4))
            return try v.value(of: shifted, objective: objective) / v.value(of: picture, objective: objective)
        }
        let robust = try kept(visualization { $0.pad = 8; $0.jitter = 8; $0.parameterization = .pixels })
        let plain = try kept(visualization { o in o = .plain; o.width = 64; o.height = 64; o.steps = 48 })
        #expect(robust >= 0.8, "with jitter: \(robust) of the activation kept after a 4-px shift")
        #expect(plain < robust - 0.05, "plain: \(plain), with jitter: \(robust)")
    }

    @Test func decayBlurAndClippingShowTheirEffect() throws {
        let objective = try VisualizationObjective(layer: "relu3_1", channel: 8)
        func fromGrey(_ image: Image) -> Double {
            image.pixels.scalars.reduce(0.0) { $0 + Double(($1 - 0.5) * ($1 - 0.5)) } / Double(image.pixels.count)
        }
        let base = try visualization { $0.parameterization = .pixels; $0.steps = 24 }.run(objective)
        let decayed = try visualization { $0.parameterization = .pixels; $0.steps = 24; $0.decay = 1e4 }.run(objective)
        #expect(fromGrey(decayed) < 0.8 * fromGrey(base), "decay: \(fromGrey(decayed)) against \(fromGrey(base)) from grey")
        let blurred = try visualization { $0.parameterization = .pixels; $0.steps = 24; $0.blurEvery = 4 }.run(objective)
        #expect(highFrequencyShare(blurred) < 0.7 * highFrequencyShare(base))
        let clipped = try visualization { $0.parameterization = .pixels; $0.steps = 24; $0.clipPercentile = 30 }.run(objective)
        let plane = 64 * 64
        let s = clipped.pixels.scalars
        let grey = (0..<plane).filter { i in (0..<3).allSatisfy { abs(s[$0 * plane + i] - 0.5) < 0.02 } }.count
        #expect(Double(grey) >= 0.25 * Double(plane), "\(grey) of \(plane) pixels near grey after clipping the weakest 30%")
    }

    /// Pictures optimised side by side (one batched network pass a step) are the pictures each
    /// run alone makes: same start, same transforms, same steps, objectives at different layers.
    @Test func batchedPicturesMatchSeparateRuns() throws {
        let v = try visualization { $0.steps = 12 }
        let objectives = [try VisualizationObjective(layer: "relu3_1", channel: 8),
                          try VisualizationObjective(layer: "relu2_1", parsing: "3+0.5*17")]
        var seen: [[Double]] = []
        let together = try v.run(objectives, progress: { seen.append($0.objectives) })
        #expect(seen.count == 12 && seen.allSatisfy { $0.count == 2 })
        for (objective, batched) in zip(objectives, together) {
            let alone = try v.run(objective)
            let worst = zip(alone.pixels.scalars, batched.pixels.scalars).map { abs($0 - $1) }.max()!
            #expect(worst < 2e-3, "\(objective.layer): worst pixel difference \(worst) between the batched and the lone run")
            #expect(try v.value(of: batched, objective: objective) > 0)
        }
    }

    @Test func channelCombinationsParse() throws {
        let o = try VisualizationObjective(layer: "relu3_1", parsing: "3+0.5*17-2*5")
        #expect(o.weights[3] == 1 && o.weights[17] == 0.5 && o.weights[5] == -2)
        #expect(o.weights.filter { $0 != 0 }.count == 3)
        #expect { try VisualizationObjective(layer: "relu3_1", parsing: "3+x") } throws: { "\($0)".contains("not a channel combination") }
        #expect { try VisualizationObjective(layer: "relu4_1", channel: 512) } throws: {
            "\($0)".contains("channel 512 is out of range: relu4_1 has 512 channels (0–511)")
        }
        #expect { try VisualizationObjective(layer: "relu4_1", direction: [1, 2]) } throws: { "\($0)".contains("relu4_1 has 512 channels") }
    }
}

/// A 3-pixel box blur of each plane, edges clamped (a low-pass for measuring fine detail).
func gaussianBlurForTests(_ x: Tensor) -> Tensor {
    let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
    let s = x.scalars
    var out = [Float](repeating: 0, count: s.count)
    for ch in 0..<c { for i in 0..<h { for j in 0..<w {
        var v: Float = 0
        for di in -1...1 { for dj in -1...1 { v += s[(ch * h + min(max(i + di, 0), h - 1)) * w + min(max(j + dj, 0), w - 1)] } }
        out[(ch * h + i) * w + j] = v / 9
    } } }
    return Tensor(shape: x.shape, scalars: out)
}
