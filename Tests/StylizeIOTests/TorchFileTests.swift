import Foundation
import StylizeIO
import Testing

/// Locations of the torch test files. Shared reference data lives next to the package
/// (`<package root>/../shared`); small fixtures made by Fixtures/torch/make_fixtures.py live here.
enum TorchTestFiles {
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let packageRoot = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    static let reference = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/torchfiles")
    static let fixtures = testsFolder.appendingPathComponent("Fixtures/torch")

    static func referencePath(_ name: String) -> String { reference.appendingPathComponent(name).path }
    static func fixturePath(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// A fresh temporary file holding `bytes`; removed by the caller.
    static func temporaryFile(_ bytes: [UInt8], name: String = "torch") -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("stylize-\(name)-\(UUID().uuidString).pth").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// expected.json-style listing: name → (dtype, shape, values as JSON numbers).
    static func expectations(_ path: String) throws -> [String: Expected] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: [String: Any]]
        return json.mapValues { entry in
            Expected(dtype: entry["dtype"] as! String,
                     shape: (entry["shape"] as! [NSNumber]).map(\.intValue),
                     values: entry["values"] as! [NSNumber])
        }
    }

    struct Expected {
        var dtype: String
        var shape: [Int]
        var values: [NSNumber]
    }
}

/// Builds legacy `torch.save` streams around a hand-written main pickle.
enum LegacyStream {
    static let magic: [UInt8] = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]
    static let protocolVersion: [UInt8] = [0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]
    static let sysInfo: [UInt8] = [0x80, 0x02, 0x7d, 0x2e]

    static func make(main: [UInt8], storages: [(key: String, count: Int64, bytes: [UInt8])] = []) -> [UInt8] {
        var keyList: [UInt8] = [0x80, 0x02, 0x5d, 0x28]
        for s in storages { keyList += unicode(s.key) }
        keyList += [0x65, 0x2e]
        var out = magic + protocolVersion + sysInfo + main + keyList
        for s in storages {
            withUnsafeBytes(of: s.count.littleEndian) { out += $0 }
            out += s.bytes
        }
        return out
    }

    /// BINUNICODE
    static func unicode(_ s: String) -> [UInt8] {
        let utf8 = Array(s.utf8)
        var out: [UInt8] = [0x58]
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { out += $0 }
        return out + utf8
    }

    /// GLOBAL
    static func global(_ module: String, _ name: String) -> [UInt8] {
        [0x63] + Array(module.utf8) + [0x0a] + Array(name.utf8) + [0x0a]
    }
}

/// Compares a loaded dict with an expected.json listing: same keys, dtypes, shapes and values.
/// Values are exact: integers as Int64, float64 as Double, and the narrower float types at
/// float32 precision (the JSON gives their values as decimals that round to the float32 value).
private func expectMatches(_ dict: TorchDict, _ expected: [String: TorchTestFiles.Expected],
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Set(dict.keys.compactMap(\.string)) == Set(expected.keys), sourceLocation: sourceLocation)
    for (name, want) in expected {
        guard let tensor = dict[name]?.tensor else {
            Issue.record("\(name) is missing or not a tensor", sourceLocation: sourceLocation)
            continue
        }
        #expect(tensor.dtype.rawValue == want.dtype, "\(name) dtype", sourceLocation: sourceLocation)
        #expect(tensor.shape == want.shape, "\(name) shape", sourceLocation: sourceLocation)
        switch tensor.dtype {
        case .float64:
            #expect(tensor.doubles() == want.values.map(\.doubleValue), "\(name) values", sourceLocation: sourceLocation)
        case .float32, .float16, .bfloat16:
            #expect(tensor.floats() == want.values.map(\.floatValue), "\(name) values", sourceLocation: sourceLocation)
        default:
            #expect(tensor.integers() == want.values.map(\.int64Value), "\(name) values", sourceLocation: sourceLocation)
        }
        #expect(tensor.bytes.count == want.values.count * tensor.dtype.byteWidth, sourceLocation: sourceLocation)
    }
}

@Suite("TorchFile reader")
struct TorchFileTests {
    // MARK: Reference files

    @Test("shared reference files match expected.json", arguments: ["tiny_zip.pth", "tiny_legacy.pth"])
    func referenceFiles(name: String) throws {
        let expected = try TorchTestFiles.expectations(TorchTestFiles.referencePath("expected.json"))
        let value = try TorchFile.load(TorchTestFiles.referencePath(name))
        let dict = try #require(value.dict)
        // OrderedDict order is kept.
        #expect(dict.keys.compactMap(\.string) == [
            "features.0.weight", "features.0.bias", "features.2.weight", "features.2.weight_t",
            "features.2.bias", "half", "bf16", "codes", "num_batches_tracked",
        ])
        expectMatches(dict, expected)
        // Exact integer access and float conversion.
        #expect(dict["codes"]?.tensor?.integers() == [0, 255, 7, 128])
        #expect(dict["codes"]?.tensor?.bytes == [0, 255, 7, 128])
        #expect(dict["num_batches_tracked"]?.tensor?.integers() == [42])
        #expect(dict["num_batches_tracked"]?.tensor?.shape == [])
        #expect(dict["half"]?.tensor?.floatTensor().scalars == [1.5, -2.0, 65504.0])
        #expect(dict["features.2.weight_t"]?.tensor?.floatTensor().shape == [4, 3])
    }

    @Test("both formats give identical values")
    func zipAndLegacyAgree() throws {
        let zip = try #require(try TorchFile.load(TorchTestFiles.referencePath("tiny_zip.pth")).dict)
        let legacy = try #require(try TorchFile.load(TorchTestFiles.referencePath("tiny_legacy.pth")).dict)
        #expect(zip.keys == legacy.keys)
        for key in zip.keys {
            #expect(zip[key]?.tensor?.bytes == legacy[key]?.tensor?.bytes, "\(key)")
        }
    }

    // MARK: Fixtures

    @Test("protocol 4 zip with plain values, more dtypes, strided and broadcast views")
    func protocol4Fixture() throws {
        let path = TorchTestFiles.fixturePath("mixed_protocol4.pth")
        let dict = try #require(try TorchFile.load(path).dict)
        let ints = try #require(dict["ints"]?.items)
        #expect(ints.compactMap(\.int) == [0, -5, 255, 256, 65535, 65536, -2_147_483_648, 1 << 40, -(1 << 40), Int64.max])
        #expect(dict["float"]?.double == 0.25)
        let flags = try #require(dict["flags"]?.items)
        #expect(flags.count == 3 && flags[0].bool == true && flags[1].bool == false)
        if case .none = flags[2] {} else { Issue.record("flags[2] should be None") }
        let nested = try #require(dict["nested"]?.dict)
        #expect(nested["a"]?["b"]?.items?.isEmpty == true)
        #expect(nested["a"]?["c"]?.items?.first?.string == "x")
        #expect(nested[.int(7)]?.string == "seven")
        #expect(nested[.tuple([.int(1), .int(2)])]?.string == "pair")
        #expect(dict["text"]?.string == "héllo ✓")
        // Tensors against the numpy-computed listing.
        let expected = try TorchTestFiles.expectations(TorchTestFiles.fixturePath("mixed_protocol4.json"))
        var tensors = TorchDict()
        for name in expected.keys { tensors[name] = dict[name] }
        expectMatches(tensors, expected)
        #expect(dict["empty"]?.tensor?.shape == [0, 4])
        #expect(dict["scalar"]?.tensor?.floatTensor().scalars == [3.5])
    }

    @Test("deflated zip records read the same as stored ones")
    func deflatedZip() throws {
        let stored = try #require(try TorchFile.load(TorchTestFiles.fixturePath("mixed_protocol4.pth")).dict)
        let deflated = try #require(try TorchFile.load(TorchTestFiles.fixturePath("mixed_protocol4_deflated.pth")).dict)
        #expect(stored.keys == deflated.keys)
        for key in stored.keys where stored[key]?.tensor != nil {
            #expect(stored[key]?.tensor?.bytes == deflated[key]?.tensor?.bytes, "\(key)")
            #expect(stored[key]?.tensor?.shape == deflated[key]?.tensor?.shape, "\(key)")
        }
    }

    @Test("legacy stream with a storage view and a double storage")
    func legacyViews() throws {
        let dict = try #require(try TorchFile.load(TorchTestFiles.fixturePath("legacy_views.pth")).dict)
        #expect(dict["view"]?.tensor?.floats() == [103, 104, 105])
        #expect(dict["whole"]?.tensor?.shape == [2, 5])
        #expect(dict["whole"]?.tensor?.floats() == (100..<110).map(Float.init))
        #expect(dict["d"]?.tensor?.dtype == .float64)
        #expect(dict["d"]?.tensor?.doubles() == [1.5, -2.25])
    }

    // MARK: Refusals

    @Test("a forbidden global is refused by name, in both formats")
    func forbiddenGlobals() throws {
        // Legacy: os.system("echo pwned"), as a malicious checkpoint would call it.
        let main: [UInt8] = [0x80, 0x02] + LegacyStream.global("os", "system") + LegacyStream.unicode("echo pwned") + [0x85, 0x52, 0x2e]
        let path = TorchTestFiles.temporaryFile(LegacyStream.make(main: main))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TorchFileError.forbiddenGlobal("os.system", file: path)) { try TorchFile.load(path) }
        do {
            _ = try TorchFile.load(path)
        } catch {
            #expect(error.description.contains("os.system") && error.description.contains(path))
            #expect(!error.description.contains("\n"))
        }

        // torch.storage._load_from_bytes runs torch.load on nested bytes: refused too.
        let nested: [UInt8] = [0x80, 0x02] + LegacyStream.global("torch.storage", "_load_from_bytes") + [0x29, 0x52, 0x2e]
        let nestedPath = TorchTestFiles.temporaryFile(LegacyStream.make(main: nested))
        defer { try? FileManager.default.removeItem(atPath: nestedPath) }
        #expect(throws: TorchFileError.forbiddenGlobal("torch.storage._load_from_bytes", file: nestedPath)) { try TorchFile.load(nestedPath) }

        // Zip, protocol 4, STACK_GLOBAL builtins.eval (written by Python's own pickler).
        let zipPath = TorchTestFiles.fixturePath("forbidden_eval.pth")
        #expect(throws: TorchFileError.forbiddenGlobal("builtins.eval", file: zipPath)) { try TorchFile.load(zipPath) }
    }

    @Test("missing, empty and non-torch files give clear errors")
    func notTorchFiles() throws {
        let missing = "/nonexistent/stylize/weights.pth"
        #expect { try TorchFile.load(missing) } throws: { error in
            guard case .unreadable(let file, _) = error as? TorchFileError else { return false }
            return file == missing
        }
        let empty = TorchTestFiles.temporaryFile([])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: TorchFileError.truncated(file: empty, reason: "the file is empty")) { try TorchFile.load(empty) }
        let text = TorchTestFiles.temporaryFile(Array("hello, world\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: text) }
        #expect { try TorchFile.load(text) } throws: { error in
            if case .notATorchFile = error as? TorchFileError { return true } else { return false }
        }
        // A plain pickle is not a torch file either (no magic number).
        let plain = TorchTestFiles.temporaryFile([0x80, 0x02, 0x4b, 0x05, 0x2e])
        defer { try? FileManager.default.removeItem(atPath: plain) }
        #expect { try TorchFile.load(plain) } throws: { error in
            if case .notATorchFile = error as? TorchFileError { return true } else { return false }
        }
    }

    @Test("truncated files give errors at every cut point", arguments: ["tiny_zip.pth", "tiny_legacy.pth"])
    func truncation(name: String) throws {
        let bytes = try TorchTestFiles.bytes(TorchTestFiles.referencePath(name))
        let step = name.hasSuffix("zip.pth") ? 5 : 1
        for cut in stride(from: 0, to: bytes.count, by: step) {
            let path = TorchTestFiles.temporaryFile(Array(bytes[..<cut]), name: "cut")
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: TorchFileError.self, "cut at \(cut) of \(bytes.count)") { try TorchFile.load(path) }
        }
    }

    @Test("random garbage and corrupted bytes never crash")
    func garbage() throws {
        var rng = SplitMix64(seed: 42)
        // Pure garbage behind each format's leading bytes.
        for header: [UInt8] in [[0x80], [0x80, 0x02], [0x50, 0x4b, 0x03, 0x04], []] {
            for length in [1, 10, 100, 5000] {
                let bytes = header + (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let path = TorchTestFiles.temporaryFile(bytes, name: "garbage")
                defer { try? FileManager.default.removeItem(atPath: path) }
                #expect(throws: TorchFileError.self) { try TorchFile.load(path) }
            }
        }
        // Corrupt valid files a few bytes at a time: either an error or a value, never a crash
        // or a runaway allocation.
        let corpus = [TorchTestFiles.referencePath("tiny_legacy.pth"), TorchTestFiles.referencePath("tiny_zip.pth"),
                      TorchTestFiles.fixturePath("mixed_protocol4.pth"), TorchTestFiles.fixturePath("mixed_protocol4_deflated.pth")]
        // An error (a TorchFileError: `load` throws only those) must name the file, and some variants
        // must be refused.
        for file in corpus {
            let original = try TorchTestFiles.bytes(file)
            var refused = 0
            for _ in 0..<400 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                let path = TorchTestFiles.temporaryFile(bytes, name: "fuzz")
                defer { try? FileManager.default.removeItem(atPath: path) }
                do {
                    _ = try TorchFile.load(path)
                } catch {  // typed: a TorchFileError
                    refused += 1
                    #expect(error.file == path, "\(file): error '\(error)' is about \(error.file), not the file read")
                }
            }
            #expect(refused > 0, "\(file): none of 400 corrupted variants was refused")
        }
    }

    @Test("hostile structures: deep nesting, cycles, exponential sharing, huge sizes")
    func hostileStructures() throws {
        func load(main: [UInt8], storages: [(key: String, count: Int64, bytes: [UInt8])] = []) -> TorchFileError? {
            let path = TorchTestFiles.temporaryFile(LegacyStream.make(main: main, storages: storages), name: "hostile")
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                _ = try TorchFile.load(path)
                return nil
            } catch {
                return error
            }
        }
        // 100 000 nested lists: refused, and tearing them down does not overflow the stack.
        let depth = 100_000
        let deep: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x5d, count: depth) + [UInt8](repeating: 0x61, count: depth - 1) + [0x2e]
        #expect(load(main: deep) != nil)
        // A list that contains itself.
        let cycle: [UInt8] = [0x80, 0x02, 0x5d, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2e]
        #expect(load(main: cycle) != nil)
        // t₀ = (); tᵢ = (tᵢ₋₁, tᵢ₋₁): 60 shared levels would expand to 2⁶⁰ values.
        var doubling: [UInt8] = [0x80, 0x02, 0x29, 0x71, 0x00]
        for _ in 0..<60 { doubling += [0x68, 0x00, 0x68, 0x00, 0x86, 0x71, 0x00] }
        doubling += [0x2e]
        #expect(load(main: doubling) != nil)
        // A string length far beyond the file.
        #expect(load(main: [0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x41, 0x2e]) != nil)
        // A tensor claiming 2⁴⁰ elements on a 1-element storage with stride 0 (as expand() makes).
        func rebuild(size: [UInt8]) -> [UInt8] {
            var main: [UInt8] = [0x80, 0x02] + LegacyStream.global("torch._utils", "_rebuild_tensor_v2") + [0x28, 0x28]
            main += LegacyStream.unicode("storage") + LegacyStream.global("torch", "FloatStorage") + LegacyStream.unicode("k")
            main += LegacyStream.unicode("cpu") + [0x4b, 0x01, 0x4e, 0x74, 0x51]  // numel 1, no view; BINPERSID
            main += [0x4b, 0x00] + size + [0x85, 0x4b, 0x00, 0x85]  // offset 0, size (n,), stride (0,)
            return main + [0x89, 0x7d, 0x74, 0x52, 0x2e]  // requires_grad, hooks; REDUCE; STOP
        }
        let one: [(key: String, count: Int64, bytes: [UInt8])] = [("k", 1, [0, 0, 0x80, 0x3f])]
        let error = load(main: rebuild(size: [0x8a, 0x06, 0, 0, 0, 0, 0, 1]), storages: one)
        if case .corrupt = error {} else { Issue.record("expected a corrupt-file error, got \(String(describing: error))") }
        // The same construction with a sane size loads.
        let path = TorchTestFiles.temporaryFile(LegacyStream.make(main: rebuild(size: [0x4b, 0x03]), storages: one))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try TorchFile.load(path).tensor?.floats() == [1, 1, 1])
    }

    @Test("errors are one line naming the file")
    func errorDescriptions() {
        let errors: [TorchFileError] = [
            .unreadable(file: "a.pth", reason: "no such file"),
            .truncated(file: "a.pth", reason: "x"),
            .corrupt(file: "a.pth", reason: "x"),
            .forbiddenGlobal("os.system", file: "a.pth"),
            .unsupported(file: "a.pth", reason: "x"),
            .notATorchFile(file: "a.pth", reason: "x"),
            .missingLayers(["conv5_4 (features.34.weight)"], file: "a.pth"),
            .shapeMismatch(layer: "conv1_2", expected: [64, 64, 3, 3], actual: [64, 3, 3, 3], file: "a.pth"),
            .unrecognizedWeights(file: "a.pth", reason: "x"),
            .weightsNotFound(path: "a.pth"),
        ]
        for error in errors {
            #expect(error.description.hasPrefix("a.pth: "))
            #expect(error.file == "a.pth")
            #expect(!error.description.contains("\n"))
        }
    }
}

/// A small deterministic generator, so the fuzz cases are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
