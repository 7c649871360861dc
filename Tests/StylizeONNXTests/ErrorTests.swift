import Foundation
import Testing
import StylizeONNX

@Suite struct ErrorTests {
    @Test func randomBytesAreRefused() {
        var g = SystemRandomNumberGenerator()
        for n in [0, 1, 7, 100, 4096] {
            let data = Data((0..<n).map { _ in UInt8.random(in: 0...255, using: &g) })
            #expect(throws: ONNXError.self) { try ONNXModel(serialized: data) }
        }
    }

    @Test func truncatedModelsAreRefusedNotCrashed() throws {
        let data = try Data(contentsOf: try modelURL("multistyle26.onnx"))
        for k in 1..<40 {
            let cut = data.count * k / 40 + (k * 7919) % 97
            #expect(throws: ONNXError.self) { try ONNXModel(serialized: data.prefix(cut)) }
        }
    }

    @Test func missingFileIsAnIOError() {
        #expect(throws: ONNXError.self) { try ONNXModel(contentsOf: URL(fileURLWithPath: "/nonexistent/model.onnx")) }
    }

    @Test func wrongFeedsAreRefused() throws {
        let model = try ONNXModel(contentsOf: try modelURL("multistyle26.onnx"))
        #expect(throws: ONNXError.missingInput("image")) { try model.run([:]) }
        #expect(throws: ONNXError.self) {
            try model.run(["image": .init(shape: [1, 4, 8, 8]), "style_weights": .init(shape: [26])])
        }
    }
}
