import Foundation
import Testing
import StylizeIO

/// The built `stylize` tool, next to this test bundle in the build folder.
let stylizeBinary: String = {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    // On Linux the tests run as …/release/StylizePackageTests.xctest; the tool is …/release/stylize.
    if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
    return dir.appendingPathComponent("stylize").path
}()

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let examples = packageRoot.appendingPathComponent("examples").path

struct RunResult { let status: Int32; let stdout: String; let stderr: String }

/// Runs the tool with `arguments`; stdin is empty, stdout and stderr are pipes (not a terminal).
/// With `fileSizeLimitKiB` every file it writes stops growing there (`ulimit -f`, SIGXFSZ
/// ignored), as on a full disk: writes fail with EFBIG.
@discardableResult
func stylize(_ arguments: [String], environment: [String: String] = [:], fileSizeLimitKiB: Int? = nil,
             onStart: ((Process) -> Void)? = nil) throws -> RunResult {
    let p = Process()
    if let limit = fileSizeLimitKiB {
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "trap '' XFSZ; ulimit -f \(limit) && exec \"$0\" \"$@\"", stylizeBinary] + arguments
    } else {
        p.executableURL = URL(fileURLWithPath: stylizeBinary)
        p.arguments = arguments
    }
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    onStart?(p)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

/// `stylize measure`'s output, `name value` per line, as a dictionary.
func measured(_ stdout: String) -> [String: Double] {
    Dictionary(stdout.split(separator: "\n").compactMap { line -> (String, Double)? in
        guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { return nil }
        return (String(line[..<space]), v)
    }, uniquingKeysWith: { a, _ in a })
}

func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stylize-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func files(in dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

@Suite(.serialized) struct CLITests {
    let content = "\(examples)/chelsea.png"
    let style = "\(examples)/starry_night.jpg"

    /// A failure: non-zero exit (`status` if given), one line on stderr naming `mention`, and
    /// nothing written.
    func expectRefused(_ args: [String], mentioning mention: String, in dir: String, status: Int32? = nil,
                       environment: [String: String] = [:]) throws {
        let before = files(in: dir)
        let r = try stylize(args, environment: environment)
        #expect(r.status != 0, "\(args) should fail")
        if let status { #expect(r.status == status, "\(args): exit \(r.status), expected \(status)") }
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line of error, got: \(r.stderr)")
        #expect(r.stderr.contains(mention), "error should mention \(mention): \(r.stderr)")
        #expect(files(in: dir) == before, "nothing may be left on disk")
    }

    @Test func badInputIsRefusedInOneLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/out.png"
        let text = "\(dir)/notes.txt"
        try "not a picture".write(toFile: text, atomically: true, encoding: .utf8)
        let truncated = "\(dir)/truncated.jpg"
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: style))
        try jpeg.prefix(jpeg.count / 3).write(to: URL(fileURLWithPath: truncated))
        let badWeights = "\(dir)/weights.pth"
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: badWeights))
        let fixed = [text, truncated, badWeights]

        try expectRefused([ "\(dir)/missing.jpg", "--style", style, "-o", out], mentioning: "missing.jpg", in: dir)
        try expectRefused([text, "--style", style, "-o", out], mentioning: "notes.txt", in: dir)
        try expectRefused([content, "--style", truncated, "-o", out], mentioning: "truncated.jpg", in: dir)
        try expectRefused([content, "--style", style, "--style-layers", "relu9_9", "-o", out], mentioning: "relu9_9", in: dir)
        try expectRefused([content, "--style", style, "--style-weight=-1", "-o", out], mentioning: "style weight", in: dir)
        try expectRefused([content, "--style", style, "--tv-weight", "nan", "-o", out], mentioning: "TV weight", in: dir)
        try expectRefused([content, "--style", style, "-o", "\(dir)/no/such/folder/out.png"], mentioning: "no/such/folder", in: dir)
        try expectRefused([content, "--style", style, "-o", "\(dir)/out.gif"], mentioning: "out.gif", in: dir)
        try expectRefused([content, "--style", style, "--weights", badWeights, "-o", out], mentioning: "weights.pth", in: dir)
        #expect(files(in: dir) == fixed.map { ($0 as NSString).lastPathComponent }.sorted())
    }

    @Test func smallRunWritesPictureAndSnapshotsQuietly() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/cat.jpg"
        let r = try stylize([content, "--style", style, "--image-size", "64", "--iterations", "6",
                             "--save-every", "2", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "not a terminal: no progress output, got \(r.stderr)")
        #expect(files(in: dir) == ["cat.jpg", "cat_2.jpg", "cat_4.jpg"])
        let picture = try ImageIO.load(out)
        #expect(picture.width == 64 && picture.height == 43)
    }

    @Test func sameSeedGivesIdenticalBytes() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = [content, "--style", style, "--image-size", "48", "--iterations", "4", "--init", "noise", "--seed", "7"]
        try stylize(common + ["-o", "\(dir)/a.png"])
        try stylize(common + ["-o", "\(dir)/b.png"])
        try stylize([content, "--style", style, "--image-size", "48", "--iterations", "4", "--init", "noise", "--seed", "8", "-o", "\(dir)/c.png"])
        let a = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/a.png"))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: "\(dir)/b.png"))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: "\(dir)/c.png"))))
    }

    @Test func interruptKeepsLastSnapshotIntact() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/run.png"
        let r = try stylize([content, "--style", style, "--image-size", "96", "--iterations", "10000", "--save-every", "1", "-o", out]) { p in
            // Wait for the first snapshot, then press Ctrl-C.
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: "\(dir)/run_1.png") && Date() < deadline { usleep(20_000) }
            kill(p.processIdentifier, SIGINT)
        }
        #expect(r.status == 130, "\(r.stderr)")
        #expect(r.stderr.contains("interrupted"))
        #expect(!FileManager.default.fileExists(atPath: out), "no final picture after an interrupt")
        let snapshots = files(in: dir).filter { $0.hasPrefix("run_") }
        #expect(!snapshots.isEmpty)
        #expect(!files(in: dir).contains { $0.hasPrefix(".") }, "no temporary files left: \(files(in: dir))")
        for s in snapshots { #expect(try ImageIO.load("\(dir)/\(s)").width == 96) }
    }

    @Test func textureAndLayers() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try stylize(["texture", style, "--width", "40", "--height", "32", "--image-size", "64", "--iterations", "3", "-o", "\(dir)/t.png"])
        #expect(r.status == 0, "\(r.stderr)")
        let t = try ImageIO.load("\(dir)/t.png")
        #expect(t.width == 40 && t.height == 32)
        let layers = try stylize(["layers"])
        #expect(layers.status == 0)
        #expect(layers.stdout.split(separator: "\n").filter { $0.hasPrefix("relu") }.count == 16)
    }

    /// One channel and a labelled sheet of three, at toy size.
    @Test func visualizeOneChannelAndASheet() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["visualize", "--layer", "relu2_1", "--size", "32", "--steps", "4", "--pad", "2", "--jitter", "2"]
        let one = try stylize(common + ["--channel", "5", "-o", "\(dir)/one.png"])
        #expect(one.status == 0 && one.stderr.isEmpty, "\(one.stderr)")
        let picture = try ImageIO.load("\(dir)/one.png")
        #expect(picture.width == 32 && picture.height == 32)
        let sheet = try stylize(common + ["--channels", "0-2", "--sheet", "-o", "\(dir)/sheet.png"])
        #expect(sheet.status == 0, "\(sheet.stderr)")
        let grid = try ImageIO.load("\(dir)/sheet.png")
        #expect(grid.width > 2 * 32 && grid.height > 32, "a grid of three labelled tiles: \(grid.width)×\(grid.height)")
        let folder = try stylize(common + ["--channels", "3,4", "-o", "\(dir)/units"])
        #expect(folder.status == 0, "\(folder.stderr)")
        #expect(files(in: "\(dir)/units") == ["relu2_1_3.png", "relu2_1_4.png"])
    }

    /// A small dream, plain and guided: quiet off a terminal, the photo's size, and a guided one
    /// that differs.
    @Test func dreamWritesThePhotosSize() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["dream", content, "--size", "96", "--octaves", "2", "--steps", "2", "--layer", "relu3_1"]
        let r = try stylize(common + ["-o", "\(dir)/d.png"])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        let d = try ImageIO.load("\(dir)/d.png")
        let photo = try ImageIO.load(content)
        #expect(max(d.width, d.height) == 96 && abs(Double(d.width) / Double(d.height) - Double(photo.width) / Double(photo.height)) < 0.02)
        let g = try stylize(common + ["--guide", style, "-o", "\(dir)/g.png"])
        #expect(g.status == 0, "\(g.stderr)")
        #expect(try ImageIO.load("\(dir)/g.png").pixels.scalars != d.pixels.scalars)
    }
}

extension CLITests {
    @Test func coarseToFineScalesAndMeasure() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/cat.png"
        let r = try stylize([content, "--style", style, "--image-size", "64", "--scales", "32,64",
                             "--scale-iterations", "3,2", "--scale-content-weights", "5,20", "--save-every", "2", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        // Snapshots count iterations across scales and have their scale's size.
        #expect(files(in: dir) == ["cat.png", "cat_2.png", "cat_4.png"])
        #expect(try ImageIO.load("\(dir)/cat_2.png").width == 32)
        #expect(try ImageIO.load("\(dir)/cat_4.png").width == 64)
        let picture = try ImageIO.load(out)
        #expect(picture.width == 64 && picture.height == 43)

        // A count: 2 scales halving from 64 px (32×21, 64×43).
        let counted = try stylize([content, "--style", style, "--image-size", "64", "--scales", "2", "--iterations", "2", "-o", "\(dir)/two.png"])
        #expect(counted.status == 0, "\(counted.stderr)")

        let m = try stylize(["measure", out, "--content", content, "--style", style])
        #expect(m.status == 0, "\(m.stderr)")
        let values = measured(m.stdout)
        #expect(values["content"].map { $0 > 0 } == true && values["style"].map { $0 > 0 } == true, "\(m.stdout)")
        #expect(values["style relu5_1"] != nil, "\(m.stdout)")

        for (scales, mention) in [("512,256", "ascending"), ("32,48", "image size, 64"), ("x", "'x'"), ("9", "below 16")] {
            try expectRefused([content, "--style", style, "--image-size", "64", "--scales", scales, "-o", "\(dir)/bad.png"],
                              mentioning: mention, in: dir)
        }
        try expectRefused([content, "--style", style, "--image-size", "64", "--scales", "2", "--scale-iterations", "5",
                           "-o", "\(dir)/bad.png"], mentioning: "1 scale iteration counts for 2 scales", in: dir)
        for (weights, mention) in [("5", "1 scale content weights for 2 scales"), ("5,x", "'x' is not a number"),
                                   ("5,-2", "≥ 0, got -2")] {
            try expectRefused([content, "--style", style, "--image-size", "64", "--scales", "2",
                               "--scale-content-weights", weights, "-o", "\(dir)/bad.png"], mentioning: mention, in: dir)
        }
    }

    @Test func styleLossesRunMeasureAndRefuseBadOptions() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/mix.png"
        let r = try stylize([content, "--style", style, "--image-size", "64", "--scales", "1", "--iterations", "6",
                             "--style-loss", "gram:1,histogram:0.5", "--mrf-weight", "0.5", "-o", out])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        #expect(files(in: dir) == ["mix.png"])

        let m = try stylize(["measure", out, "--content", content, "--style", style])
        #expect(m.status == 0, "\(m.stderr)")
        let values = measured(m.stdout)
        for kind in ["gram", "mean-std", "w2", "histogram", "mrf"] {
            #expect(values["style-loss \(kind)"].map { $0 > 0 && $0.isFinite } == true, "\(kind): \(m.stdout)")
        }
        // The default style term is the Gram loss.
        let gram = try #require(values["style-loss gram"]), styleTerm = try #require(values["style"])
        #expect(abs(gram - styleTerm) <= 1e-6 * styleTerm, "\(m.stdout)")

        for (args, mention) in [(["--style-loss", "gramm"], "unknown loss 'gramm'"),
                                (["--style-loss", "gram:-1"], "the weight of gram must be a finite number ≥ 0"),
                                (["--style-loss", "gram,gram"], "gram is given twice"),
                                (["--mrf-weight", "nan"], "--mrf-weight"),
                                (["--style-loss", "histogram", "--histogram-bins", "1"], "histogram bins must be 2 to 65536"),
                                (["--style-loss", "mrf", "--mrf-layers", "relu9_1"], "unknown mrf layer 'relu9_1'"),
                                (["--style-loss", "mrf", "--mrf-patch-size", "9"], "MRF patch size 9 does not fit relu4_1")] {
            try expectRefused([content, "--style", style, "--image-size", "64", "--scales", "1", "--iterations", "2",
                               "-o", "\(dir)/bad.png"] + args, mentioning: mention, in: dir)
        }
    }

    @Test func toleranceIsCheckedAndZeroRunsEveryIteration() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (value, mention) in [("-0.1", "tolerance must be a finite number ≥ 0, got -0.1"), ("nan", "tolerance"),
                                 ("inf", "tolerance"), ("x", "tolerance")] {
            try expectRefused([content, "--style", style, "--image-size", "48", "--tolerance=\(value)", "-o", "\(dir)/bad.png"],
                              mentioning: mention, in: dir)
        }
        // Tolerance 0: every iteration runs, so every snapshot is written.
        let r = try stylize([content, "--style", style, "--image-size", "48", "--scales", "1", "--iterations", "6",
                             "--tolerance", "0", "--save-every", "1", "-o", "\(dir)/cat.png"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(files(in: dir) == ["cat.png"] + (1...5).map { "cat_\($0).png" }.sorted())
    }
}

extension CLITests {
    /// On an AVX2 CPU (forced on any host by oneDNN's ISA limit, which Stylize's own checks
    /// honour) bf16 is refused up front with a one-line error naming the option and the CPU,
    /// exit 1 and nothing written; texture synthesis too; auto picks fp32 and runs.
    @Test func bf16IsRefusedOnAVX2() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let avx2 = ["ONEDNN_MAX_CPU_ISA": "AVX2"]
        try expectRefused([content, "--style", style, "--precision", "bf16", "--image-size", "32", "--iterations", "1",
                           "-o", "\(dir)/out.png"], mentioning: "bf16 needs AVX512_BF16 or AMX", in: dir, status: 1, environment: avx2)
        try expectRefused(["texture", style, "--precision", "bf16", "--width", "32", "--height", "32", "--iterations", "1",
                           "-o", "\(dir)/t.png"], mentioning: "this CPU has AVX2: use --precision fp32", in: dir, status: 1,
                          environment: avx2)
        let r = try stylize([content, "--style", style, "--image-size", "32", "--iterations", "2", "-o", "\(dir)/auto.png"],
                            environment: avx2)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ImageIO.load("\(dir)/auto.png").width == 32)
    }

    /// `stylize info` names the instruction set oneDNN uses and the kernels of each precision.
    @Test func infoShowsInstructionSetsAndKernels() throws {
        let native = try stylize(["info"])
        #expect(native.status == 0, "\(native.stderr)")
        #expect(native.stdout.contains("VGG-19 fp32") && native.stdout.contains("instruction set"), "\(native.stdout)")
        let avx2 = try stylize(["doctor"], environment: ["ONEDNN_MAX_CPU_ISA": "AVX2"])
        #expect(avx2.status == 0, "\(avx2.stderr)")
        for expected in ["instruction set AVX2", "jit:avx2", "bf16 needs AVX512_BF16", "weights split to 7 bits"] {
            #expect(avx2.stdout.contains(expected), "missing '\(expected)' in:\n\(avx2.stdout)")
        }
        let auto = avx2.stdout.split(separator: "\n").first { $0.hasPrefix("--precision auto") }
        #expect(auto.map { $0.contains(" fp32 ") } == true, "\(avx2.stdout)")
    }
}
