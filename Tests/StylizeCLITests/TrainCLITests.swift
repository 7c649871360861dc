import Foundation
import StylizeIO
import Testing

/// `stylize train` end to end at toy sizes: it writes a network `stylize fast` runs, resumes,
/// refuses to clobber an earlier run, and stops on Ctrl-C with usable files.
@Suite(.serialized) struct TrainCLITests {
    /// A folder with three training photos and the painting.
    func fixtures() throws -> String {
        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: "\(dir)/photos", withIntermediateDirectories: false)
        for name in ["chelsea.png", "brick.png"] {
            try FileManager.default.copyItem(atPath: "\(examples)/\(name)", toPath: "\(dir)/photos/\(name)")
        }
        try FileManager.default.copyItem(atPath: "\(examples)/starry_night.jpg", toPath: "\(dir)/painting.jpg")
        return dir
    }

    func train(_ dir: String, _ extra: [String], fileSizeLimitKiB: Int? = nil, onStart: ((Process) -> Void)? = nil) throws -> RunResult {
        try stylize(["train", "--style", "\(dir)/painting.jpg", "--data", "\(dir)/photos", "-o", "\(dir)/net.onnx",
                     "--image-size", "32", "--style-size", "64", "--batch-size", "2", "--channels", "4,8,8",
                     "--residual-blocks", "1"] + extra, fileSizeLimitKiB: fileSizeLimitKiB, onStart: onStart)
    }

    @Test func trainsResumesAndTheNetworkRuns() throws {
        let dir = try fixtures()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try train(dir, ["--steps", "3", "--checkpoint-every", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.isEmpty, "quiet when stderr is not a terminal: \(first.stderr)")
        for name in ["net.onnx", "net.ckpt.safetensors", "net.preview.jpg"] {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name)"), "\(name) missing")
        }
        let checkpoint = try SafeTensors(path: "\(dir)/net.ckpt.safetensors")
        #expect(checkpoint.metadata["step"] == "3")
        let fast = try stylize(["fast", "\(examples)/chelsea.png", "--model", "\(dir)/net.onnx", "-o", "\(dir)/out.png"])
        #expect(fast.status == 0, "\(fast.stderr)")
        let out = try ImageIO.load("\(dir)/out.png")
        let photo = try ImageIO.load("\(examples)/chelsea.png")
        #expect(out.width == photo.width && out.height == photo.height)

        // By name, from the networks folder.
        let named = try stylize(["fast", "\(examples)/chelsea.png", "--style", "net", "-o", "\(dir)/named.png"],
                                environment: ["STYLIZE_NETWORKS": dir])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/named.png")) == Data(contentsOf: URL(fileURLWithPath: "\(dir)/out.png")))
        let unknown = try stylize(["fast", "\(examples)/chelsea.png", "--style", "nosuch", "-o", "\(dir)/x.png"],
                                  environment: ["STYLIZE_NETWORKS": dir])
        #expect(unknown.status == 64 && unknown.stderr.contains("--style nosuch: no network of that name") && unknown.stderr.contains("there: net"),
                "\(unknown.stderr)")

        // The same command again would overwrite the run: refused.
        let again = try train(dir, ["--steps", "3"])
        #expect(again.status == 64 && again.stderr.contains("continue it with --resume"), "\(again.stderr)")

        let onnxBefore = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/net.onnx"))
        let resumed = try train(dir, ["--steps", "5", "--resume", "--log-every", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // --log-every prints even off a terminal: one line per step, here steps 4 and 5.
        let logged = resumed.stderr.split(separator: "\n")
        #expect(logged.count == 2 && logged[0].hasPrefix("step 4  content ") && logged[1].hasPrefix("step 5  content ")
                && logged.allSatisfy { $0.contains("img/s") }, "\(resumed.stderr)")
        #expect(try SafeTensors(path: "\(dir)/net.ckpt.safetensors").metadata["step"] == "5")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/net.onnx")) != onnxBefore)

        // A checkpoint of another network is refused and left as it was.
        let saved = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/net.ckpt.safetensors"))
        let other = try train(dir, ["--steps", "6", "--resume", "--channels", "8,8,8"])
        #expect(other.status == 1, "\(other.stderr)")
        #expect(other.stderr.contains("net.ckpt.safetensors: it is for a network of 4,8,8 × 1 blocks"), "\(other.stderr)")
        #expect(other.stderr.split(separator: "\n").last.map { $0.hasPrefix("stylize: error:") } == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/net.ckpt.safetensors")) == saved)
    }

    /// A disk that fills up while a checkpoint is written: a one-line error naming the file, and
    /// the previous checkpoint and network as they were, with no temporary file left.
    @Test func fullDiskKeepsThePreviousCheckpoint() throws {
        let dir = try fixtures()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try train(dir, ["--steps", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        let checkpoint = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/net.ckpt.safetensors"))
        let network = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/net.onnx"))
        #expect(checkpoint.count > 8 * 1024, "the checkpoint must outgrow the limit below")
        let full = try train(dir, ["--steps", "4", "--checkpoint-every", "1", "--resume"], fileSizeLimitKiB: 8)
        #expect(full.status == 1, "\(full.stderr)")
        let lines = full.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("stylize: error:") && lines[0].contains("net.ckpt.safetensors: cannot write: File too large"), "\(full.stderr)")
        #expect(lines.first.map { $0.components(separatedBy: "net.ckpt.safetensors").count } == 2, "the file named once: \(full.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/net.ckpt.safetensors")) == checkpoint)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/net.onnx")) == network)
        #expect(!files(in: dir).contains { $0.hasPrefix(".") }, "no temporary files left: \(files(in: dir))")
    }

    /// Ctrl-C stops after the current step and leaves a checkpoint and a network that work.
    @Test func interruptLeavesUsableFiles() throws {
        let dir = try fixtures()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try train(dir, ["--steps", "100000", "--checkpoint-every", "2"]) { p in
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: "\(dir)/net.onnx") && Date() < deadline { usleep(20_000) }
            kill(p.processIdentifier, SIGINT)
        }
        #expect(r.status == 130, "\(r.stderr)")
        #expect(r.stderr.contains("interrupted after step"), "\(r.stderr)")
        #expect(r.stderr.contains("continue with --resume"), "\(r.stderr)")
        let checkpoint = try SafeTensors(path: "\(dir)/net.ckpt.safetensors")
        #expect(Int(checkpoint.metadata["step"] ?? "") ?? 0 >= 2)
        let fast = try stylize(["fast", "\(examples)/chelsea.png", "--model", "\(dir)/net.onnx", "-o", "\(dir)/out.png"])
        #expect(fast.status == 0, "\(fast.stderr)")
        #expect(!files(in: dir).contains { $0.hasPrefix(".") }, "no temporary files left: \(files(in: dir))")
    }

    /// `--texture` trains from noise (here with Gram and histogram losses); `stylize texture --model` draws from the file, by path or
    /// by name, at any size, another picture for another seed; a style network is refused there.
    @Test func texturesTrainAndDraw() throws {
        let dir = try fixtures()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trained = try stylize(["train", "--texture", "\(examples)/brick.png", "-o", "\(dir)/brick.onnx", "--steps", "2",
                                   "--image-size", "32", "--style-size", "64", "--batch-size", "2", "--channels", "4,8,8",
                                   "--residual-blocks", "1", "--style-loss", "gram,histogram:0.5"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let preview = try ImageIO.load("\(dir)/brick.preview.jpg")
        #expect(preview.width == 512 && preview.height == 512)
        func draw(_ model: String, seed: Int, _ out: String, environment: [String: String] = [:]) throws -> RunResult {
            try stylize(["texture", "--model", model, "--width", "100", "--height", "70", "--seed", "\(seed)", "-o", "\(dir)/\(out)"],
                        environment: environment)
        }
        for r in [try draw("\(dir)/brick.onnx", seed: 1, "a.png"), try draw("\(dir)/brick.onnx", seed: 2, "b.png"),
                  try draw("brick", seed: 1, "named.png", environment: ["STYLIZE_NETWORKS": dir])] {
            #expect(r.status == 0, "\(r.stderr)")
        }
        let a = try ImageIO.load("\(dir)/a.png")
        #expect(a.width == 100 && a.height == 70)
        #expect(try ImageIO.load("\(dir)/b.png").pixels.scalars != a.pixels.scalars, "another seed, another picture")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/named.png")) == Data(contentsOf: URL(fileURLWithPath: "\(dir)/a.png")))

        let style = try train(dir, ["--steps", "1"])
        #expect(style.status == 0, "\(style.stderr)")
        let refused = try draw("\(dir)/net.onnx", seed: 1, "c.png")
        #expect(refused.status == 1 && refused.stderr.contains("not a texture network"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/c.png"))
        // And the other way round: `fast` refuses a texture network.
        let notStyle = try stylize(["fast", "\(examples)/chelsea.png", "--model", "\(dir)/brick.onnx", "-o", "\(dir)/d.png"])
        #expect(notStyle.status == 1 && notStyle.stderr.contains("a texture network"), "\(notStyle.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/d.png"))
    }

    /// Two --style pictures (a style weight each) train one network with conditional instance norm; `fast --model`
    /// (by path or by name) picks a style or blends them, and `--style NAME` says how to.
    @Test func multiStyleTrainsAndBlends() throws {
        let dir = try fixtures()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (weights, mention) in [("0.3,x", "--style-weight takes a number or one per style"), ("0.3,0.5,0.7", "3 style weights for 2 styles")] {
            let bad = try train(dir, ["--style", "\(examples)/the_scream.jpg", "--steps", "2", "--style-weight", weights])
            #expect(bad.status != 0 && bad.stderr.contains(mention), "\(bad.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/net.onnx"))
        let trained = try train(dir, ["--style", "\(examples)/the_scream.jpg", "--steps", "2", "--style-weight", "0.3,0.5"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let env = ["STYLIZE_NETWORKS": dir]
        func fast(_ args: [String], _ out: String) throws -> RunResult {
            try stylize(["fast", "\(examples)/chelsea.png", "--size", "64"] + args + ["-o", "\(dir)/\(out)"], environment: env)
        }
        let runs = [try fast(["--model", "\(dir)/net.onnx", "--style", "0"], "first.png"),
                    try fast(["--model", "net", "--style", "1"], "second.png"),
                    try fast(["--model", "net", "--style", "0:0.5,1:0.5"], "blend.png")]
        for r in runs { #expect(r.status == 0, "\(r.stderr)") }
        let (first, second, blend) = try (ImageIO.load("\(dir)/first.png"), ImageIO.load("\(dir)/second.png"), ImageIO.load("\(dir)/blend.png"))
        #expect(first.width == 64)
        #expect(first.pixels.scalars != second.pixels.scalars, "the two styles differ")
        #expect(blend.pixels.scalars != first.pixels.scalars && blend.pixels.scalars != second.pixels.scalars)

        let byStyle = try fast(["--style", "net"], "x.png")
        #expect(byStyle.status == 1 && byStyle.stderr.contains("it holds 2 styles") && byStyle.stderr.contains("--model"), "\(byStyle.stderr)")
        let outOfRange = try fast(["--model", "net", "--style", "2"], "y.png")
        #expect(outOfRange.status != 0, "\(outOfRange.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/x.png") && !FileManager.default.fileExists(atPath: "\(dir)/y.png"))
    }
}
