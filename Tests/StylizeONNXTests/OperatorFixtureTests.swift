import Foundation
import Testing
import StylizeONNX
import StylizeTensor

/// One case of Fixtures/manifest.json, written by scripts/make-onnx-fixtures.py with onnxruntime.
struct OperatorFixture: Decodable, CustomTestStringConvertible, Sendable {
    struct Tensor: Decodable, Sendable {
        let name: String
        let shape: [Int]
    }
    let name: String
    let note: String
    let tolerance: Float
    let inputs: [Tensor]
    let outputs: [Tensor]

    var testDescription: String { name }

    static let folder = packageRoot.appendingPathComponent("Tests/StylizeONNXTests/Fixtures")

    static func all() throws -> [OperatorFixture] {
        try JSONDecoder().decode([OperatorFixture].self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
    }

    /// The tensors of NAME.SUFFIX.f32, one after the other in the order of `specs`.
    func tensors(_ suffix: String, _ specs: [Tensor]) throws -> [StylizeTensor.Tensor] {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("\(name).\(suffix).f32"))
        let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var offset = 0
        return specs.map { spec in
            let n = spec.shape.reduce(1, *)
            defer { offset += n }
            return StylizeTensor.Tensor(shape: spec.shape, scalars: Array(values[offset..<offset + n]))
        }
    }
}

@Suite struct OperatorFixtureTests {
    @Test func manifestIsComplete() throws {
        #expect(try OperatorFixture.all().count >= 24)
    }

    /// Every fixture's outputs match onnxruntime's within its tolerance (1e-4 for float graphs,
    /// one quantization step for the quantized one).
    @Test(arguments: try OperatorFixture.all())
    func matchesOnnxruntime(_ fixture: OperatorFixture) throws {
        let model = try ONNXModel(contentsOf: OperatorFixture.folder.appendingPathComponent("\(fixture.name).onnx"))
        let feeds = try fixture.tensors("in", fixture.inputs)
        let expected = try fixture.tensors("out", fixture.outputs)
        let results = try model.run(Dictionary(uniqueKeysWithValues: zip(fixture.inputs.map(\.name), feeds)))
        for (spec, want) in zip(fixture.outputs, expected) {
            let got = try #require(results[spec.name], "\(fixture.name): no output \(spec.name)")
            #expect(got.shape == want.shape, "\(fixture.name) \(spec.name)")
            guard got.shape == want.shape else { continue }
            let error = maxAbsDifference(got, want)
            print("fixture \(fixture.name) \(spec.name): max abs error \(error)")
            #expect(error <= fixture.tolerance, "\(fixture.name) \(spec.name): max abs error \(error)")
        }
    }
}

@Suite struct RefusalTests {
    func load(_ name: String) throws(ONNXError) {
        _ = try ONNXModel(contentsOf: OperatorFixture.folder.appendingPathComponent("\(name).onnx"))
    }

    @Test func unsupportedOperatorIsNamed() throws {
        #expect(throws: ONNXError.unsupportedOperator("Einsum", node: "einsum_node")) { try load("refused_operator") }
        do { try load("refused_operator") } catch {
            #expect("\(error)".contains("Einsum") && "\(error)".contains("einsum_node"), "\(error)")
        }
    }

    @Test func unsupportedAttributeIsNamed() throws {
        do {
            try load("refused_attribute")
            Issue.record("a Pad in wrap mode was accepted")
        } catch {
            guard case let .unsupportedAttribute(op, attribute, node) = error else {
                Issue.record("expected unsupportedAttribute, got \(error)")
                return
            }
            #expect(op == "Pad" && attribute.contains("mode") && node == "wrap_pad", "\(error)")
            #expect("\(error)".contains("wrap"), "the message names the value: \(error)")
        }
    }
}
