import Foundation
import StylizeIO
import Testing

/// Bad input of every kind against the tool: each case must end with its exit status (64 usage,
/// 1 failure), one line on stderr naming the culprit, and the folder exactly as it was (nothing
/// written, nothing overwritten, no temporary file left).
@Suite(.serialized) struct BadInputMatrixTests {
    struct Case: CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let mention: String
        var description: String { arguments.joined(separator: " ") }
    }

    /// A folder with the inputs the cases refer to, by name.
    static func makeFixtures() throws -> String {
        let dir = try temporaryDirectory()
        let fm = FileManager.default
        try fm.copyItem(atPath: "\(examples)/chelsea.png", toPath: "\(dir)/photo.png")
        try fm.copyItem(atPath: "\(examples)/starry_night.jpg", toPath: "\(dir)/painting.jpg")
        try "not a picture".write(toFile: "\(dir)/notes.txt", atomically: true, encoding: .utf8)
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: "\(examples)/starry_night.jpg"))
        try jpeg.prefix(jpeg.count / 3).write(to: URL(fileURLWithPath: "\(dir)/truncated.jpg"))
        var png = try Data(contentsOf: URL(fileURLWithPath: "\(examples)/chelsea.png"))
        png[20] = 0xFF; png[21] = 0xFF  // width 0xFFFF…: an absurd header
        try png.write(to: URL(fileURLWithPath: "\(dir)/huge_header.png"))
        try Data().write(to: URL(fileURLWithPath: "\(dir)/empty.png"))
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: "\(dir)/garbage.pth"))
        try Data([0x80, 0x02, 0x7D]).write(to: URL(fileURLWithPath: "\(dir)/cut.pth"))
        try Data(repeating: 1, count: 64).write(to: URL(fileURLWithPath: "\(dir)/garbage.onnx"))
        try fm.createDirectory(atPath: "\(dir)/folder", withIntermediateDirectories: false)
        #expect(mkfifo("\(dir)/fifo.png", 0o644) == 0)
        return dir
    }

    static func cases(_ d: String) -> [Case] {
        let (photo, painting) = ("\(d)/photo.png", "\(d)/painting.jpg")
        let out = "\(d)/out.png"
        func transfer(_ extra: [String], _ status: Int32, _ mention: String) -> Case {
            Case(arguments: [photo, "--style", painting, "-o", out] + extra, status: status, mention: mention)
        }
        func train(_ extra: [String], _ status: Int32, _ mention: String) -> Case {
            var arguments = ["train", "--style", painting, "--data", d, "-o", "\(d)/net.onnx", "--image-size", "32", "--steps", "2"]
            for (i, a) in extra.enumerated() where a.hasPrefix("--") && i + 1 < extra.count && !extra[i + 1].hasPrefix("--") {
                if let j = arguments.firstIndex(of: a) { arguments.removeSubrange(j...(j + 1)) }
            }
            arguments += extra
            return Case(arguments: arguments, status: status, mention: mention)
        }
        return [
            // Images.
            Case(arguments: ["\(d)/missing.jpg", "--style", painting, "-o", out], status: 1, mention: "missing.jpg: no such file"),
            Case(arguments: ["\(d)/notes.txt", "--style", painting, "-o", out], status: 1, mention: "notes.txt"),
            Case(arguments: [photo, "--style", "\(d)/truncated.jpg", "-o", out], status: 1, mention: "truncated.jpg"),
            Case(arguments: [photo, "--style", "\(d)/huge_header.png", "-o", out], status: 1, mention: "huge_header.png"),
            Case(arguments: ["\(d)/empty.png", "--style", painting, "-o", out], status: 1, mention: "empty.png"),
            Case(arguments: ["\(d)/fifo.png", "--style", painting, "-o", out], status: 1, mention: "fifo.png: cannot read: is a FIFO"),
            Case(arguments: ["\(d)/folder", "--style", painting, "-o", out], status: 1, mention: "folder: cannot read: is a folder"),
            Case(arguments: [photo, "--style", painting, "--init-image", "\(d)/notes.txt", "-o", out], status: 1, mention: "notes.txt"),
            Case(arguments: ["texture", "\(d)/fifo.png", "-o", out], status: 1, mention: "fifo.png"),
            Case(arguments: ["measure", "\(d)/truncated.jpg", "--content", photo, "--style", painting], status: 1, mention: "truncated.jpg"),
            // Options.
            transfer(["--style-weight", "-100"], 1, "style weight must be a finite number ≥ 0, got -100"),
            transfer(["--content-weight", "-1"], 1, "content weight"),
            transfer(["--tv-weight", "nan"], 1, "TV weight"),
            transfer(["--style-scale", "0"], 1, "style scale"),
            transfer(["--style-scale", "1000"], 1, "style images' longer side"),
            transfer(["--image-size", "100000"], 1, "the image size must be at most about"),
            transfer(["--image-size", "8"], 64, "--image-size must be 16-1048576 pixels"),
            transfer(["--image-size", "9223372036854775807"], 64, "--image-size must be 16-1048576 pixels"),
            transfer(["--iterations", "0"], 1, "iterations must be at least 1"),
            transfer(["--style-layers", "relu9_9"], 1, "relu9_9"),
            transfer(["--style-layers", ""], 1, "no style layers"),
            transfer(["--content-layers", ""], 1, "no content layers"),
            transfer(["--style-layers", "relu1_1,relu1_1"], 1, "relu1_1 is given twice"),
            transfer(["--content-layers", "relu4_2:x"], 64, "'x' is not a number"),
            transfer(["--style-blend-weights", "1,1"], 1, "2 style blend weights for 1 style images"),
            transfer(["--lbfgs-history", "0"], 1, "L-BFGS history"),
            transfer(["--learning-rate", "-5", "--optimizer", "adam"], 1, "learning rate"),
            transfer(["--quality", "101"], 64, "--quality must be 1-100"),
            transfer(["--init", "sideways"], 64, "--init must be content, noise or image"),
            transfer(["--scales", "512,256"], 64, "ascending"),
            transfer(["--precision", "fp64"], 64, "fp64"),
            Case(arguments: [photo, "-o", out], status: 64, mention: "--style"),
            Case(arguments: ["texture", painting, "--width", "100000", "--height", "100000", "-o", out], status: 1,
                 mention: "the texture's longer side must be at most about"),
            Case(arguments: ["texture", painting, "--width", "8", "-o", out], status: 64, mention: "--width must be 16-1048576 pixels"),
            Case(arguments: ["texture", painting, "--width", "9223372036854775807", "--height", "9223372036854775807", "-o", out],
                 status: 64, mention: "--width must be 16-1048576 pixels"),
            // Weights.
            transfer(["--weights", "\(d)/garbage.pth"], 1, "garbage.pth"),
            transfer(["--weights", "\(d)/cut.pth"], 1, "cut.pth"),
            transfer(["--weights", "\(d)/folder"], 1, "folder: cannot read file: is a folder"),
            transfer(["--weights", "/dev/zero"], 1, "/dev/zero: cannot read file: is a device"),
            transfer(["--weights", "\(d)/fifo.png"], 1, "fifo.png: cannot read file: is a FIFO"),
            transfer(["--weights", "\(d)/none.pth"], 1, "none.pth"),
            // Models (stylize fast).
            Case(arguments: ["fast", photo, "--model", "\(d)/garbage.onnx", "-o", out], status: 1, mention: "garbage.onnx"),
            Case(arguments: ["fast", photo, "--model", "\(d)/fifo.png", "-o", out], status: 1, mention: "fifo.png"),
            Case(arguments: ["fast", photo, "--style", "99", "-o", out], status: 64, mention: "99"),
            Case(arguments: ["fast", photo, "--style", "3", "--strength", "2", "-o", out], status: 64, mention: "--strength"),
            Case(arguments: ["fast", "\(d)/fifo.png", "--style", "3", "-o", out], status: 1, mention: "fifo.png"),
            // Training (stylize train): every refusal comes before a step is taken.
            train(["--data", "\(d)/nowhere"], 1, "nowhere: no such folder"),
            train(["--data", photo], 1, "photo.png: not a folder"),
            train(["--data", "\(d)/folder"], 1, "folder: no training pictures"),
            train(["--style", "\(d)/notes.txt"], 1, "notes.txt"),
            train(["--style", "\(d)/fifo.png"], 1, "fifo.png"),
            train(["--style-weight", "-1"], 1, "style weight must be a finite number ≥ 0"),
            train(["--image-size", "30"], 1, "crop size must be a multiple of 4"),
            train(["--channels", "8,16"], 64, "--channels takes three widths"),
            train(["--style-layers", "relu9_9"], 1, "relu9_9"),
            train(["--batch-size", "0"], 1, "batch size"),
            train(["--steps", "0"], 1, "steps must be ≥ 1"),
            train(["--checkpoint-every", "0"], 64, "--checkpoint-every"),
            train(["--log-every", "-1"], 64, "--log-every must be ≥ 0"),
            train(["--resume"], 1, "net.ckpt.safetensors: cannot read"),
            train(["--resume", "--checkpoint", "\(d)/garbage.pth"], 1, "garbage.pth: not a valid safetensors file"),
            train(["--weights", "\(d)/garbage.pth"], 1, "garbage.pth"),
            train(["--style-loss", "gramm"], 1, "unknown loss 'gramm'"),
            train(["--style-loss", "mrf", "--mrf-patch-size", "9"], 1, "MRF patch size 9 does not fit relu3_1"),
            Case(arguments: ["train", "--style", painting, "--data", d, "-o", "\(d)/net.png"], status: 64, mention: "name it .onnx"),
            Case(arguments: ["train", "--data", d, "-o", "\(d)/net.onnx"], status: 64, mention: "--style"),
            Case(arguments: ["train", "--style", painting, "-o", "\(d)/net.onnx"], status: 64, mention: "--data FOLDER"),
            Case(arguments: ["train", "--texture", painting, "--style", painting, "-o", "\(d)/net.onnx"], status: 64, mention: "not both"),
            Case(arguments: ["train", "--texture", painting, "--data", d, "-o", "\(d)/net.onnx"], status: 64, mention: "leave --data out"),
            Case(arguments: ["train", "--texture", "\(d)/notes.txt", "-o", "\(d)/net.onnx", "--steps", "1"], status: 1, mention: "notes.txt"),
            Case(arguments: ["texture", "--model", "\(d)/garbage.onnx", "-o", out], status: 1, mention: "garbage.onnx"),
            // Feature visualization.
            Case(arguments: ["visualize", "--layer", "relu9_1", "--channel", "1", "-o", out], status: 1, mention: "unknown layer 'relu9_1'"),
            Case(arguments: ["visualize", "--layer", "relu4_1", "--channel", "600", "-o", out], status: 1,
                 mention: "relu4_1 has 512 channels (0–511)"),
            Case(arguments: ["visualize", "--channel", "1", "--channels", "0-3", "-o", out], status: 64, mention: "exactly one of"),
            Case(arguments: ["visualize", "--channel", "1", "--sheet", "-o", out], status: 64, mention: "--sheet goes with --channels"),
            Case(arguments: ["visualize", "--channel", "1", "--size", "8", "-o", out], status: 1, mention: "16–2048 pixels"),
            Case(arguments: ["visualize", "--channel", "1", "--steps", "0", "-o", out], status: 1, mention: "steps must be"),
            Case(arguments: ["visualize", "--channel", "3+x", "-o", out], status: 1, mention: "not a channel combination"),
            Case(arguments: ["visualize", "--direction", "\(d)/notes.txt", "-o", out], status: 64, mention: "notes.txt: not a list of numbers"),
            // DeepDream.
            Case(arguments: ["dream", photo, "--layer", "relu9_1", "-o", out], status: 1, mention: "unknown layer 'relu9_1'"),
            Case(arguments: ["dream", photo, "--layer", "relu4_1", "--channel", "512", "-o", out], status: 1,
                 mention: "relu4_1 has 512 channels (0–511)"),
            Case(arguments: ["dream", photo, "--size", "-5", "-o", out], status: 64, mention: "--size must be 0"),
            Case(arguments: ["dream", photo, "--steps", "0", "-o", out], status: 1, mention: "steps must be 1–10000"),
            Case(arguments: ["dream", photo, "--octaves", "0", "-o", out], status: 1, mention: "octaves must be 1–12"),
            Case(arguments: ["dream", photo, "--guide", "\(d)/notes.txt", "-o", out], status: 1, mention: "notes.txt"),
            Case(arguments: ["dream", "\(d)/truncated.jpg", "-o", out], status: 1, mention: "truncated.jpg"),
            Case(arguments: ["dream", photo, "-o", photo], status: 64, mention: "would overwrite the input"),
            Case(arguments: ["texture", "--model", "\(d)/nowhere.onnx", "-o", out], status: 1, mention: "nowhere.onnx"),
            Case(arguments: ["texture", "--model", "\(d)/garbage.onnx", painting, "-o", out], status: 64, mention: "give no texture images"),
            Case(arguments: ["texture", "--model", "\(d)/garbage.onnx", "--width", "8192", "--height", "8192", "-o", out], status: 64,
                 mention: "at most 16 megapixels"),
            // Output locations.
            transfer(["-o", "\(d)/out.gif"], 64, "out.gif"),
            transfer(["-o", "\(d)/no/such/folder/out.png"], 64, "no/such/folder"),
            Case(arguments: [photo, "--style", painting, "-o", photo], status: 64, mention: "would overwrite the input"),
            Case(arguments: [photo, "--style", painting, "-o", "\(d)/./painting.jpg"], status: 64, mention: "would overwrite the input"),
            Case(arguments: ["fast", photo, "--style", "3", "-o", photo], status: 64, mention: "would overwrite the input"),
            Case(arguments: ["texture", painting, "-o", painting], status: 64, mention: "would overwrite the input"),
        ]
    }

    @Test func everyCaseIsRefusedInOneLineAndLeavesTheFolderAsItWas() throws {
        let dir = try Self.makeFixtures()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func snapshot() throws -> [String: Data] {
            var all: [String: Data] = [:]
            for name in files(in: dir) where name != "fifo.png" && name != "folder" {
                all[name] = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)"))
            }
            return all
        }
        let before = try snapshot()
        let cases = Self.cases(dir)
        #expect(cases.count >= 40)
        for c in cases {
            let r = try stylize(c.arguments)
            #expect(r.status == c.status, "\(c): exit \(r.status), expected \(c.status): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(c): one line of error, got: \(r.stderr)")
            #expect(r.stderr.contains(c.mention), "\(c): the message should name '\(c.mention)': \(r.stderr)")
            #expect(try snapshot() == before, "\(c): the folder changed: \(files(in: dir))")
            #expect(files(in: "\(dir)/folder").isEmpty, "\(c): wrote into the folder")
        }
    }

    /// On a read-only file system the run is refused before any work, not after it.
    @Test(.enabled(if: getuid() == 0, "mounting a read-only tmpfs needs root"))
    func readOnlyOutputIsRefusedUpFront() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mountPoint = "\(dir)/ro"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", mountPoint]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "cannot mount a read-only tmpfs here (needs root): \(mountPoint)")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mountPoint]
            try? umount.run()
            umount.waitUntilExit()
        }
        let start = Date()
        let r = try stylize(["\(examples)/chelsea.png", "--style", "\(examples)/starry_night.jpg", "--iterations", "500",
                             "-o", "\(mountPoint)/out.png"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("out.png: cannot write there: Read-only file system"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(start) < 30, "refused before the 500 iterations")
    }

    /// SIGTERM and SIGHUP stop a run as Ctrl-C does: after the current iteration, with a message,
    /// exit 128 + the signal, no temporary file left.
    @Test(arguments: [SIGTERM, SIGHUP])
    func terminationSignalsStopCleanly(signal: Int32) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try stylize(["\(examples)/chelsea.png", "--style", "\(examples)/starry_night.jpg", "--image-size", "64",
                             "--iterations", "10000", "--save-every", "1", "-o", "\(dir)/run.png"]) { p in
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: "\(dir)/run_2.png") && Date() < deadline { usleep(20_000) }
            kill(p.processIdentifier, signal)
        }
        #expect(r.status == 128 + signal, "\(r.stderr)")
        #expect(r.stderr.contains(signal == SIGTERM ? "terminated (SIGTERM) after iteration" : "hung up (SIGHUP) after iteration"), "\(r.stderr)")
        #expect(!files(in: dir).contains("run.png"))
        #expect(!files(in: dir).contains { $0.hasPrefix(".") }, "no temporary files left: \(files(in: dir))")
    }
}
