import Foundation
import Stylize
import StylizeIO
import StylizeONNX
import StylizeTensor
import Testing
import StylizeNN
import StylizeModels

/// Exported TransformerNet files run under the wrappers `stylize fast` uses: one style as a
/// `PictureNetwork` (`--model`, pixels 0–255), several as a `MultiStyleNetwork` (`--style`).
/// The numbers themselves are checked against onnxruntime and NumPy in StylizeONNXTests.
@Suite struct ExportedNetworkTests {
    /// A small network with seeded random parameters, written to a temporary file (the caller removes it).
    func exported(_ a: TransformerNetArchitecture) throws -> URL {
        var g = SeededGenerator(seed: 5)
        var parameters: [String: Tensor] = [:]
        for (name, shape) in a.parameterShapes {
            let norm = name.split(separator: ".").dropLast().last!.hasPrefix("in")
            let fanIn = Float(shape.dropFirst().reduce(1, *))
            parameters[name] = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in
                let r = Float(g.nextGaussian())
                return norm ? (name.hasSuffix(".weight") ? 1 : 0) + 0.1 * r : r / fanIn.squareRoot()
            })
        }
        // The last convolution of a trained network gives 0–255 pixels: around mid-grey here.
        parameters["deconv3.weight"] = Tensor(shape: [3, a.channels[0], 9, 9],
                                              scalars: parameters["deconv3.weight"]!.scalars.map { $0 * 60 })
        parameters["deconv3.bias"] = Tensor(shape: [3], scalars: [127, 127, 127])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stylize-exported-\(UUID().uuidString).onnx")
        try TransformerNetExport.model(architecture: a, parameters: parameters).write(to: url)
        return url
    }

    /// Finite, inside [0, 1], and not one flat colour.
    func expectPicture(_ image: Image, width: Int, height: Int) {
        #expect(image.width == width && image.height == height)
        let v = image.pixels.scalars
        #expect(v.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        #expect(v.max()! - v.min()! > 0.05)
    }

    @Test func oneStyleRunsAsPictureNetwork() throws {
        let url = try exported(TransformerNetArchitecture(channels: [8, 16, 32], residualBlocks: 1, styles: 1))
        defer { try? FileManager.default.removeItem(at: url) }
        let network = try PictureNetwork(path: url.path)
        // 50 × 37 is no multiple of 4: the runner pads by reflection and crops back.
        expectPicture(try network.stylize(testPicture(width: 50, height: 37)), width: 50, height: 37)
    }

    @Test func severalStylesRunAsMultiStyleNetwork() throws {
        let url = try exported(TransformerNetArchitecture(channels: [8, 16, 32], residualBlocks: 1, styles: 3))
        defer { try? FileManager.default.removeItem(at: url) }
        let network = try MultiStyleNetwork(path: url.path)
        #expect(network.styleCount == 3)
        let photo = testPicture(width: 48, height: 40)
        let first = try network.stylize(photo, weights: StyleWeights(index: 0, count: 3))
        let blend = try network.stylize(photo, weights: StyleWeights(blend: [(0, 1), (2, 1)], count: 3))
        expectPicture(first, width: 48, height: 40)
        expectPicture(blend, width: 48, height: 40)
        #expect(zip(first.pixels.scalars, blend.pixels.scalars).contains { abs($0 - $1) > 1e-3 }, "the style weights matter")
    }
}
