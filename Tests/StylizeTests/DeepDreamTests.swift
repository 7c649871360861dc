import Foundation
import Testing
import StylizeIO
import StylizeModels
import StylizeNN
import StylizeTensor
import Stylize

/// DeepDream at small sizes: the objective grows many times over, a channel grows more than the
/// rest, a guide pulls the picture towards its features, tiles bound the work, seeds repeat.
@Suite struct DeepDreamTests {
    func photo(_ side: Int = 96) throws -> Image {
        try ImageIO.load(sharedImages + "/chelsea.png").resized(longerSide: side)
    }

    func dream(_ change: (inout DreamOptions) -> Void = { _ in }) throws -> DeepDream {
        var o = DreamOptions()
        o.layers = ["relu3_1"]
        o.octaves = 1
        o.steps = 8
        o.jitter = 4
        change(&o)
        return try DeepDream(weights: sharedWeightsOrThrow(), options: o)
    }

    @Test func objectiveGrowsManyTimesOver() throws {
        let d = try dream()
        let p = try photo()
        var reported: [Double] = []
        let out = try d.run(p, progress: { reported.append($0.objective) })
        #expect(out.width == p.width && out.height == p.height)
        #expect(reported.count == 8)
        let before = try d.value(of: p, objective: .norm), after = try d.value(of: out, objective: .norm)
        #expect(after > 3 * before, "½‖a‖² mean: photo \(before), dream \(after)")
        #expect(reported.first.map { abs($0 - before) < 0.05 * before } == true, "the first step reports the photo's value")
        let values = out.pixels.scalars
        #expect(values.min()! >= 0 && values.max()! <= 1)
    }

    @Test func sameSeedSamePicture() throws {
        let p = try photo(64)
        let a = try dream().run(p).pixels.scalars, b = try dream().run(p).pixels.scalars
        #expect(a == b)
        #expect(try dream { $0.seed = 1 }.run(p).pixels.scalars != a, "another seed, another jitter")
    }

    @Test func oneChannelGrowsMoreThanTheRest() throws {
        let channel = 7
        let d = try dream { $0.channel = channel }
        let p = try photo()
        let out = try d.run(p)
        let vgg = try VGG19(convolutions: sharedWeightsOrThrow().convolutions, pooling: .max)
        func channelMeans(_ image: Image) throws -> [Double] {
            let a = try vgg.forward(sharedWeightsOrThrow().preprocessing.networkInput(image), taps: ["relu3_1"])["relu3_1"]!
            let n = a.shape[2] * a.shape[3]
            let s = a.scalars
            return (0..<a.shape[1]).map { c in s[(c * n)..<((c + 1) * n)].reduce(0) { $0 + Double($1) } / Double(n) }
        }
        let (m0, m1) = (try channelMeans(p), try channelMeans(out))
        // How much each channel's mean activation rose.
        let growth = zip(m0, m1).map { $1 - $0 }
        let others = growth.enumerated().filter { $0.offset != channel }.map(\.element).sorted()
        #expect(growth[channel] > 10 * others[others.count / 2], "channel \(channel) +\(growth[channel]); median of the others +\(others[others.count / 2])")
        #expect(growth[channel] > 1.5 * others.last!, "channel \(channel) +\(growth[channel]); the most of the others +\(others.last!)")
    }

    @Test func guideDrawsThePictureTowardsItsFeatures() throws {
        let guide = try ImageIO.load(sharedImages + "/starry_night.jpg").resized(longerSide: 128)
        let p = try photo()
        let d = try dream()
        let guided = try d.run(p, guide: guide), plain = try d.run(p)
        // Any dream makes activations larger, and so dot products; the direction is what the guide
        // sets: the mean over positions of the best cosine with a guide feature vector.
        let weights = try sharedWeightsOrThrow()
        let vgg = try VGG19(convolutions: weights.convolutions, pooling: .max)
        /// [positions, C], each row of unit length.
        func features(_ image: Image) throws -> Tensor {
            let a = try vgg.forward(weights.preprocessing.networkInput(image), taps: ["relu3_1"])["relu3_1"]!
            let (c, n) = (a.shape[1], a.shape[2] * a.shape[3])
            let s = a.scalars
            var rows = [Float](repeating: 0, count: n * c)
            for i in 0..<n {
                let norm = max((0..<c).reduce(Float(0)) { $0 + s[$1 * n + i] * s[$1 * n + i] }.squareRoot(), 1e-6)
                for k in 0..<c { rows[i * c + k] = s[k * n + i] / norm }
            }
            return Tensor(shape: [n, c], scalars: rows)
        }
        let g = try features(guide)
        func alignment(_ image: Image) throws -> Double {
            let f = try features(image)
            let cosines = Tensor.matrixProduct(f, g, transposingSecond: true)
            let m = g.shape[0]
            let s = cosines.scalars
            return (0..<f.shape[0]).reduce(0.0) { sum, i in sum + Double(s[(i * m)..<((i + 1) * m)].max()!) } / Double(f.shape[0])
        }
        let (a0, ag, ap) = (try alignment(p), try alignment(guided), try alignment(plain))
        #expect(ag - a0 > 2 * abs(ap - a0), "best cosine with the guide's features: photo \(a0), guided \(ag), unguided \(ap)")
    }

    @Test func tilesStillDream() throws {
        let p = try photo(160)
        let d = try dream { $0.tileSize = 64 }
        let out = try d.run(p)
        #expect(out.width == p.width && out.height == p.height)
        let whole = try dream()
        #expect(try whole.value(of: out, objective: .norm) > 3 * whole.value(of: p, objective: .norm))
    }

    @Test func octavesRunSmallestFirst() throws {
        var seen: [(Int, Int)] = []
        let d = try dream { $0.octaves = 3; $0.steps = 2 }
        _ = try d.run(try photo(128), progress: { seen.append(($0.octave, $0.step)) })
        #expect(seen.map(\.0) == [1, 1, 2, 2, 3, 3])
        // 128×85: octaves of 85, 61 and 43 px on the short side; a 4th would be 31 px, left out.
        var five = 0
        _ = try dream { $0.octaves = 5; $0.steps = 1 }.run(try photo(128), progress: { five = $0.octaves })
        #expect(five == 3)
    }

    @Test(arguments: [
        ("layer", "unknown layer 'relu9_1'"), ("channel", "channel 600 is out of range: relu3_1 has 256 channels (0–255)"),
        ("octaves", "octaves must be 1–12"), ("steps", "steps must be 1–10000"), ("step size", "step size"),
        ("two layers", "--channel picks a channel of one layer"),
    ])
    func badOptionsAreRefused(change: String, message: String) {
        var o = DreamOptions()
        o.layers = ["relu3_1"]
        switch change {
        case "layer": o.layers = ["relu9_1"]
        case "channel": o.channel = 600
        case "octaves": o.octaves = 0
        case "steps": o.steps = 0
        case "step size": o.stepSize = .infinity
        default: o.layers = ["relu3_1", "relu4_1"]; o.channel = 1
        }
        #expect { try o.validate() } throws: { "\($0)".contains(message) }
    }
}
