import Foundation
import Testing
import StylizeNN
import StylizeTensor
import StylizeIO
import StylizeModels

/// A fixture the tests need is not there; says where it comes from.
struct MissingFixture: Error, CustomStringConvertible {
    let path: String
    var description: String {
        "missing fixture \(path): it comes from ../shared/reference, the shared folder laid beside the repository (see its README)"
    }
}

/// A raw little-endian float32 file; a missing or empty one is a `MissingFixture` failure.
func readF32(_ path: String) throws -> [Float] {
    guard let d = FileManager.default.contents(atPath: path), !d.isEmpty else { throw MissingFixture(path: path) }
    return d.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

let referenceDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../../shared/reference/vgg19").standardized.path

/// The real VGG-19 weights from the cache (`bash scripts/fetch-weights.sh` puts them there).
func cachedWeights() throws -> [(weight: Tensor, bias: Tensor)] {
    try VGG19Weights.loadCached().convolutions
}

/// `content.png` of the reference folder as network input: BGR, 0–255, minus the mean pixel.
func referenceContentInput() throws -> Tensor {
    let rgb = try ImageIO.load("\(referenceDir)/content.png").pixels
    let (h, w) = (rgb.shape[2], rgb.shape[3])
    let mean: [Float] = [103.939, 116.779, 123.68]
    let planes = rgb.scalars
    var bgr = [Float](repeating: 0, count: 3 * h * w)
    for c in 0..<3 {
        for i in 0..<(h * w) { bgr[c * h * w + i] = planes[(2 - c) * h * w + i] * 255 - mean[c] }
    }
    return Tensor(shape: [1, 3, h, w], scalars: bgr)
}

/// Compares `got` with the reference file `name`.f32: max |difference| relative to the reference's largest value.
func expectClose(_ got: Tensor, reference name: String, tolerance: Float, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let ref = try readF32("\(referenceDir)/\(name).f32")
    #expect(got.count == ref.count, "\(name): \(got.count) values, reference has \(ref.count)", sourceLocation: sourceLocation)
    guard got.count == ref.count else { return }
    let scale = ref.map { abs($0) }.max()!
    let err = zip(got.scalars, ref).map { abs($0 - $1) }.max()!
    #expect(err / scale < tolerance, "\(name): max error \(err) on a scale of \(scale)", sourceLocation: sourceLocation)
}

@Suite struct VGG19ReferenceTests {
    @Test func activationsMatchPyTorch() throws {
        let net = try VGG19(convolutions: cachedWeights(), pooling: .max)
        let input = try referenceContentInput()
        let names = ["relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_4", "relu4_1", "relu4_2", "relu5_1"]
        let out = try net.forward(input, taps: Set(names))
        for name in names {
            try expectClose(out[name]!, reference: "content_\(name)_maxpool", tolerance: 1e-4)
        }
    }

    @Test func averagePoolingMatchesPyTorch() throws {
        let net = try VGG19(convolutions: cachedWeights(), pooling: .average)
        let out = try net.forward(try referenceContentInput(), taps: ["relu5_1"])
        try expectClose(out["relu5_1"]!, reference: "content_relu5_1_avgpool", tolerance: 1e-4)
    }

    @Test func gramMatchesPyTorch() throws {
        let net = try VGG19(convolutions: cachedWeights(), pooling: .max)
        let out = try net.forward(try referenceContentInput(), taps: ["relu3_1"])
        try expectClose(Gram.forward(out["relu3_1"]!), reference: "content_gram_relu3_1", tolerance: 1e-4)
    }

    @Test func stopsAtDeepestRequestedLayerAndRefusesUnknownOnes() throws {
        let net = try VGG19(convolutions: cachedWeights(), pooling: .max)
        let x = try referenceContentInput()
        #expect(throws: NNError.unknownLayer("relu6_1")) { try net.forward(x, taps: ["relu6_1"]) }
        let tiny = Tensor(shape: [1, 3, 8, 8])
        #expect(throws: NNError.imageTooSmall(height: 8, width: 8, layer: "relu5_1", minimum: 16)) {
            try net.forward(tiny, taps: ["relu5_1"])
        }
        // relu2_1 needs one pooling only: an 8×8 image is enough.
        #expect(try net.forward(tiny, taps: ["relu2_1"])["relu2_1"]!.shape == [1, 128, 4, 4])
    }

    @Test func refusesWeightsOfWrongShapes() throws {
        var convs = try cachedWeights()
        convs[3].weight = Tensor(shape: [128, 64, 1, 1])
        #expect(throws: NNError.wrongWeightShape(layer: "conv2_2", expected: [128, 128, 3, 3], got: [128, 64, 1, 1])) {
            try VGG19(convolutions: convs, pooling: .max)
        }
        #expect(throws: NNError.wrongLayerCount(expected: 16, got: 15)) { try VGG19(convolutions: Array(convs.dropLast()), pooling: .max) }
    }
}
