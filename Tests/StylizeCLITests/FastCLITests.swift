import Foundation
import StylizeIO
import Testing

/// `stylize fast` end to end, with the networks from the models cache (scripts/fetch-models.sh).
@Suite(.serialized) struct FastCLITests {
    let photo = "\(examples)/chelsea.png"
    let painting = "\(examples)/starry_night.jpg"

    /// A failure: non-zero exit, one line on stderr mentioning `mention`, nothing new on disk.
    func expectRefused(_ args: [String], mentioning mention: String, in dir: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = files(in: dir)
        let r = try stylize(["fast"] + args)
        #expect(r.status != 0, "\(args) should fail", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "one line of error, got: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(mention), "error should mention \(mention): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(files(in: dir) == before, "nothing may be left on disk", sourceLocation: sourceLocation)
    }

    @Test func styleIndexBlendAndStyleImage() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let runs: [(args: [String], output: String)] = [
            (["--style", "19"], "style19.png"),
            (["--style", "3:0.5,12:0.5", "--strength", "0.8"], "blend.jpg"),
            (["--style-image", painting, "--preserve-color"], "painting.png"),
            (["--style", "7", "--size", "200"], "small.png"),
        ]
        for run in runs {
            let r = try stylize(["fast", photo] + run.args + ["-o", "\(dir)/\(run.output)"])
            #expect(r.status == 0, "\(run.args): \(r.stderr)")
            #expect(r.stdout.isEmpty && r.stderr.isEmpty, "quiet when not on a terminal")
        }
        #expect(files(in: dir) == runs.map(\.output).sorted())
        let full = try ImageIO.load("\(dir)/style19.png")
        #expect(full.width == 451 && full.height == 300, "full resolution by default")
        #expect(try ImageIO.load("\(dir)/painting.png").width == 451)
        let small = try ImageIO.load("\(dir)/small.png")
        #expect(small.width == 200 && small.height == 133)
        // Strength 0 is the photo itself.
        let r = try stylize(["fast", photo, "--style", "19", "--strength", "0", "-o", "\(dir)/zero.png"])
        #expect(r.status == 0)
        #expect(try ImageIO.load("\(dir)/zero.png").pixels.scalars == ImageIO.load(photo).pixels.scalars)
    }

    /// Every network shipped in networks/ runs by name: style networks change the photo, networks
    /// of several styles (which `--style NAME` refuses) differ from style to style, texture
    /// networks (which `fast` refuses) draw a picture that is not flat.
    @Test func everyShippedNetworkRunsByName() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shipped = files(in: packageRoot.appendingPathComponent("networks").path).filter { $0.hasSuffix(".onnx") }
        #expect(shipped.count >= 2, "networks/ holds \(shipped)")
        let original = try ImageIO.load(photo).resized(longerSide: 96)
        for file in shipped {
            let name = String(file.dropLast(5))
            var r = try stylize(["fast", photo, "--style", name, "--size", "96", "-o", "\(dir)/\(name).png"])
            if r.status != 0 && r.stderr.contains("a texture network") {
                r = try stylize(["texture", "--model", name, "--width", "96", "--height", "64", "-o", "\(dir)/\(name).png"])
                #expect(r.status == 0, "\(name): \(r.stderr)")
                let out = try ImageIO.load("\(dir)/\(name).png").pixels.scalars
                let mean = out.reduce(0, +) / Float(out.count)
                let spread = (out.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(out.count)).squareRoot()
                #expect(spread > 0.03, "\(name) draws a flat picture (spread \(spread))")
                continue
            }
            if r.status != 0 && r.stderr.contains("styles (made by `stylize train` with several --style)") {
                // A network of several styles: each style by index, through --model NAME.
                var pictures: [[Float]] = []
                for style in 0..<2 {
                    let s = try stylize(["fast", photo, "--model", name, "--style", "\(style)", "--size", "96", "-o", "\(dir)/\(name)\(style).png"])
                    #expect(s.status == 0, "\(name) style \(style): \(s.stderr)")
                    pictures.append(try ImageIO.load("\(dir)/\(name)\(style).png").pixels.scalars)
                }
                let change = zip(pictures[0], pictures[1]).map { abs($0 - $1) }.reduce(0, +) / Float(pictures[0].count)
                #expect(change > 0.02, "\(name)'s styles 0 and 1 barely differ (mean |Δ| \(change))")
                continue
            }
            #expect(r.status == 0, "\(name): \(r.stderr)")
            let out = try ImageIO.load("\(dir)/\(name).png")
            #expect(out.width == original.width && out.height == original.height, "\(name)")
            let change = zip(out.pixels.scalars, original.pixels.scalars).map { abs($0 - $1) }.reduce(0, +) / Float(out.pixels.count)
            #expect(change > 0.02, "\(name) barely changes the photo (mean |Δ| \(change))")
        }
    }

    @Test func folderOfPhotos() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let photos = "\(dir)/photos"
        try FileManager.default.createDirectory(atPath: photos, withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: photo, toPath: "\(photos)/cat.png")
        try ImageIO.save(ImageIO.load(photo).resized(longerSide: 120), to: "\(photos)/small cat.jpg")
        try "not a picture".write(toFile: "\(photos)/notes.txt", atomically: true, encoding: .utf8)
        let r = try stylize(["fast", photos, "--style", "5", "-o", "\(dir)/styled"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(files(in: "\(dir)/styled") == ["cat.png", "small cat.jpg"])
        // Files that are not pictures by name are listed, not silently passed over.
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("skipping 1 file") && r.stderr.contains("notes.txt"),
                "\(r.stderr)")
        #expect(try ImageIO.load("\(dir)/styled/small cat.jpg").width == 120)
        // A broken picture is reported in one line; the others are still stylized.
        try Data(repeating: 0xFF, count: 100).write(to: URL(fileURLWithPath: "\(photos)/broken.jpg"))
        let again = try stylize(["fast", photos, "--style", "5", "-o", "\(dir)/again"])
        #expect(again.status == 1)
        let lines = again.stderr.split(separator: "\n")
        #expect(lines.count == 3 && lines.contains { $0.contains("broken.jpg") } && lines.last!.contains("1 of 3 pictures failed"),
                "\(again.stderr)")
        #expect(files(in: "\(dir)/again") == ["cat.png", "small cat.jpg"])
    }

    @Test func contactSheet() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try stylize(["fast", photo, "--contact-sheet", "--size", "64", "-o", "\(dir)/sheet.png"])
        #expect(r.status == 0, "\(r.stderr)")
        let sheet = try ImageIO.load("\(dir)/sheet.png")
        // 27 tiles (the photo and 26 styles) of 64×43, 7 to a row: 4 rows.
        #expect(sheet.width == 8 + 7 * (64 + 8))
        #expect(sheet.height == 8 + 4 * (20 + 43 + 8))
        #expect(files(in: dir) == ["sheet.png"])
    }

    @Test func anyPictureNetworkWithModel() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixtures = "\(packageRoot.path)/Tests/StylizeCLITests/Fixtures"
        // A Johnson-style network (NCHW, 0-255, any size): the same bytes as onnxruntime's output.
        let content = packageRoot.appendingPathComponent("../shared/reference/onnx/content_96x64.png").standardized.path
        let r = try stylize(["fast", content, "--model", "\(fixtures)/tiny_johnson.onnx", "-o", "\(dir)/johnson.png"])
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try ImageIO.load("\(fixtures)/tiny_johnson_expected.png").pixels.scalars
        let ours = try ImageIO.load("\(dir)/johnson.png").pixels.scalars
        #expect(zip(ours, expected).map { abs($0 - $1) }.max()! <= 1.0 / 255 + 1e-6)
        // A network with a fixed 64×64 NHWC input in [0, 1] runs over a larger photo in tiles.
        let t = try stylize(["fast", photo, "--model", "\(fixtures)/tiny_fixed_nhwc.onnx", "--pixel-scale", "1", "-o", "\(dir)/tiled.png"])
        #expect(t.status == 0, "\(t.stderr)")
        let tiled = try ImageIO.load("\(dir)/tiled.png")
        #expect(tiled.width == 451 && tiled.height == 300)
    }

    @Test func badInputIsRefusedInOneLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/out.png"
        let text = "\(dir)/notes.onnx"
        try "not a network".write(toFile: text, atomically: true, encoding: .utf8)
        try expectRefused([photo, "--style", "26", "-o", out], mentioning: "style index must be 0 to 25, got 26", in: dir)
        try expectRefused([photo, "--style", "3:0.5;12:0.5", "-o", out], mentioning: "cannot read style", in: dir)
        try expectRefused([photo, "--style", "3:half", "-o", out], mentioning: "'half' is not a weight", in: dir)
        try expectRefused([photo, "--style", "3:0", "-o", out], mentioning: "must not all be zero", in: dir)
        try expectRefused([photo, "--style", "1", "--strength", "2", "-o", out], mentioning: "strength", in: dir)
        try expectRefused([photo, "--style", "1", "--style-image", painting, "-o", out], mentioning: "give one of", in: dir)
        try expectRefused([photo, "-o", out], mentioning: "--style", in: dir)
        try expectRefused([photo, "--model", "\(dir)/missing.onnx", "-o", out], mentioning: "missing.onnx", in: dir)
        try expectRefused([photo, "--model", text, "-o", out], mentioning: "notes.onnx", in: dir)
        try expectRefused([photo, "--model", text, "--style", "2", "-o", out], mentioning: "notes.onnx", in: dir)
        try expectRefused(["\(dir)/missing.jpg", "--style", "1", "-o", out], mentioning: "missing.jpg", in: dir)
        try expectRefused([photo, "--style-image", "\(dir)/missing.jpg", "-o", out], mentioning: "missing.jpg", in: dir)
        try expectRefused([photo, "--style", "1", "-o", "\(dir)/out.gif"], mentioning: "out.gif", in: dir)
        try expectRefused([photo, "--style", "1", "-o", "\(dir)/no/such/out.png"], mentioning: "no/such", in: dir)
        try expectRefused([dir, "--style", "1", "-o", "\(dir)/styled"], mentioning: "no PNG or JPEG", in: dir)
        try expectRefused([dir, "--style", "1", "-o", dir], mentioning: "must differ", in: dir)
        // The multistyle network is not a one-picture network.
        let multistyle = try ModelsCache.existingPath(of: .multistyle26)
        try expectRefused([photo, "--model", multistyle, "-o", out], mentioning: "use --style", in: dir)
        // A cache without the networks says how to fetch them.
        let env = ["STYLIZE_MODELS": "\(dir)/empty-cache"]
        let r = try stylizeWithEnvironment(["fast", photo, "--style", "1", "-o", out], env)
        #expect(r.status != 0 && r.stderr.contains("scripts/fetch-models.sh") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func helpDescribesEveryOption() throws {
        let r = try stylize(["fast", "--help"])
        #expect(r.status == 0)
        for option in ["--style", "--style-image", "--strength", "--preserve-color", "--size", "--contact-sheet", "--model", "-o, --output", "folder"] {
            #expect(r.stdout.contains(option), "--help should mention \(option)")
        }
    }
}

/// Runs the tool with extra environment variables.
private func stylizeWithEnvironment(_ arguments: [String], _ extra: [String: String]) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: stylizeBinary)
    p.arguments = arguments
    p.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    let err = Pipe()
    p.standardOutput = FileHandle.nullDevice
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: "", stderr: String(decoding: errData, as: UTF8.self))
}
