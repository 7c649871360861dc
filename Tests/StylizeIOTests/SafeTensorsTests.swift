import Foundation
import Testing
import StylizeIO
import StylizeTensor

@Suite struct SafeTensorsTests {
    let sample = SafeTensors(tensors: ["b/x": Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, .pi, -0]),
                                       "a": Tensor(shape: [1], scalars: [7]), "empty": Tensor(shape: [0, 4])],
                             metadata: ["step": "12", "format": "test"])

    @Test func roundTripsThroughBytesAndFiles() throws {
        let bytes = sample.serialized()
        #expect(try SafeTensors(bytes: bytes, name: "x") == sample)
        // The layout the format specifies: length, JSON padded to 8 bytes, data in name order.
        let length = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(length % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        #expect(header.contains("\"a\":{\"data_offsets\":[0,4],\"dtype\":\"F32\",\"shape\":[1]}"))
        #expect(header.contains("\"__metadata__\":{\"format\":\"test\",\"step\":\"12\"}"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try sample.write(to: path)
        #expect(try SafeTensors(path: path) == sample)
    }

    @Test func malformedFilesGiveOneLineErrorsNamingThem() {
        let good = sample.serialized()
        var cases: [(String, [UInt8])] = [
            ("shorter than its 8-byte header length", [1, 2, 3]),
            ("runs past the end", [255, 255, 0, 0, 0, 0, 0, 0] + Array(good[8...])),
            ("not a JSON object", [2, 0, 0, 0, 0, 0, 0, 0, UInt8(ascii: "["), UInt8(ascii: "]")]),
        ]
        /// `good` with one piece of its header replaced by another of the same length.
        func edited(_ from: String, _ to: String) -> [UInt8] {
            let length = Int(good[0]) | Int(good[1]) << 8
            let header = String(decoding: good[8..<(8 + length)], as: UTF8.self).replacingOccurrences(of: from, with: to)
            return Array(good[..<8]) + Array(header.utf8) + Array(good[(8 + length)...])
        }
        cases.append(("only F32 is read", edited("\"dtype\":\"F32\",\"shape\":[1]", "\"dtype\":\"I32\",\"shape\":[1]")))
        cases.append(("does not fit its shape", edited("[0,4]", "[0,8]")))
        for (message, bytes) in cases {
            #expect { try SafeTensors(bytes: bytes, name: "bad.safetensors") } throws: { error in
                let text = "\(error)"
                return text.hasPrefix("bad.safetensors: ") && text.contains(message) && !text.contains("\n")
            }
        }
        // Every truncation of a good file is refused or read, never a crash.
        for cut in 0..<good.count {
            _ = try? SafeTensors(bytes: Array(good[..<cut]), name: "cut")
        }
        #expect(throws: SafeTensorsError.self) { try SafeTensors(path: "/nonexistent/x.safetensors") }
    }
}
