import ArgumentParser
import Stylize
import StylizeIO

/// `stylize CONTENT --style STYLE … -o OUT`: Gatys style transfer.
struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Render a photo in the style of one or more images (the default command)."
    )

    @Argument(help: "The content photo (PNG or JPEG).")
    var content: String

    @Option(name: .shortAndLong, help: "A style image; repeat to blend several.")
    var style: [String] = []

    @Option(name: .long, help: "Longer side of the output in pixels. Limited by memory: about 2,400 bytes per pixel plus the optimizer's state (about 3,000 px for a 3:2 photo on 24 GB); larger sizes are refused before any work.")
    var imageSize: Int = 512

    @Option(name: .long, parsing: .unconditional, help: "Weight of the content loss (coarse to fine: at the coarsest scale; see --scale-content-weights).")
    var contentWeight: Float = 5

    @Option(name: .long, help: ArgumentHelp("Content layers, comma-separated, each optionally name:weight.", valueName: "layers"))
    var contentLayers: String = "relu4_2"

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from: content, noise (alias random), or image (with --init-image).", valueName: "kind"))
    var initialization: String = "content"

    @Option(name: .long, help: ArgumentHelp("Image to start from (implies --init image).", valueName: "file"))
    var initImage: String?

    @Flag(name: .long, help: "Keep the content's colours: transfer luminance only.")
    var originalColors = false

    @Option(name: .long, help: ArgumentHelp(
        "Coarse to fine: a count N (sizes halving from --image-size, N of them; 1 forces a single scale) or a comma-separated list of longer sides, ascending, ending at --image-size (e.g. 256,512,1024). Each scale starts from the previous result upsampled. Default: halving from --image-size down to no less than 256 px (512 → 256,512; 1024 → 256,512,1024), so one scale below 512 px.",
        valueName: "N|s1,s2,..."))
    var scales: String?

    @Option(name: .long, help: ArgumentHelp(
        "Iterations at each scale, comma-separated, one per scale. Default: 0.4 of --iterations at the coarsest scale, 0.16 at each finer one (500 → 200,80 at 512 px; 200,80,80 at 1024 px).",
        valueName: "n1,n2,..."))
    var scaleIterations: String?

    @Option(name: .long, help: ArgumentHelp(
        "Content weight at each scale, comma-separated, one per scale. Default: --content-weight at the coarsest scale, twice it at each finer one up to 512 px (5 → 5,10), five times above (5 → 5,25,25 at 1024 px), which keeps the photo's detail as the finer scales add the style's; give the same weight for every scale to optimise the one objective throughout.",
        valueName: "w1,w2,..."))
    var scaleContentWeights: String?

    @OptionGroup var shared: SharedOptions

    func validate() throws {
        guard !style.isEmpty else { throw ValidationError("give at least one --style image") }
        guard (16...(1 << 20)).contains(imageSize) else {
            throw ValidationError("--image-size must be 16-\(1 << 20) pixels (memory sets the real limit), got \(imageSize)")
        }
        guard ["content", "noise", "random", "image"].contains(initialization) else {
            throw ValidationError("--init must be content, noise or image, got '\(initialization)'")
        }
        if initialization == "image" && initImage == nil { throw ValidationError("--init image needs --init-image FILE") }
        try OutputCheck.refuseOverwriting(shared.output, inputs: [content] + style + (initImage.map { [$0] } ?? []))
        var o = StyleTransferOptions()
        o.imageSize = imageSize
        o.iterations = shared.iterations
        o.scales = try parseScales()
        o.scaleIterations = try parseScaleIterations()
        o.scaleContentWeights = try parseScaleContentWeights()
        do {
            try o.validateScales()
        } catch {
            if case .invalidOption(let message) = error { throw ValidationError(message) }
            throw error
        }
    }

    /// `--scales`: a count → sizes halving from --image-size; a list → those sizes; none → [] (automatic).
    func parseScales() throws -> [Int] {
        guard let scales else { return [] }
        let items = scales.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let numbers = try items.map { item in
            guard let n = Int(item) else { throw ValidationError("--scales: '\(item)' is not a whole number (give a count such as 3, or sizes such as 256,512,1024)") }
            return n
        }
        if numbers.count == 1 && !scales.contains(",") {
            let count = numbers[0]
            guard count >= 1 else { throw ValidationError("--scales: the count must be at least 1, got \(count)") }
            let sizes = StyleTransferOptions.geometricScales(count: count, imageSize: imageSize)
            guard sizes[0] >= 16 else {
                throw ValidationError("--scales: \(count) scales halving from \(imageSize) px would go below 16 px (give a count such as 3, or sizes such as 256,512,1024)")
            }
            return sizes
        }
        return numbers
    }

    func parseScaleIterations() throws -> [Int] {
        try parseList(scaleIterations, option: "--scale-iterations", kind: "a whole number")
    }

    func parseScaleContentWeights() throws -> [Float] {
        try parseList(scaleContentWeights, option: "--scale-content-weights", kind: "a number")
    }

    /// A comma-separated list of numbers; none → [] (automatic).
    private func parseList<T: LosslessStringConvertible>(_ text: String?, option: String, kind: String) throws -> [T] {
        guard let text else { return [] }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map {
            guard let value = T($0.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(option): '\($0)' is not \(kind)")
            }
            return value
        }
    }

    func options() throws -> StyleTransferOptions {
        var o = StyleTransferOptions()
        try shared.apply(to: &o)
        o.imageSize = imageSize
        o.contentWeight = contentWeight
        o.contentLayers = try parseLayers(contentLayers, option: "--content-layers")
        o.originalColors = originalColors
        o.scales = try parseScales()
        o.scaleIterations = try parseScaleIterations()
        o.scaleContentWeights = try parseScaleContentWeights()
        if let initImage {
            o.initialization = .image(path: initImage)
        } else {
            o.initialization = initialization == "content" ? .content : .noise
        }
        return o
    }

    func run() throws {
        let options = try options()
        try options.validate()
        try OutputCheck.checkWritable(shared.output, pixels: imageSize * imageSize)  // ≤ 2²⁰ after validate
        let contentImage = try ImageIO.load(content)
        let styles = try style.map { try ImageIO.load($0) }
        let initial = try initImage.map { try ImageIO.load($0) }
        let transfer = try StyleTransfer(weights: shared.loadWeights(), options: options)
        let session = RunSession(shared: shared)
        let result = try session.run { progress, snapshot, cancel in
            try transfer.run(content: contentImage, styles: styles, initialImage: initial,
                             progress: progress, snapshot: snapshot, shouldCancel: cancel)
        }
        try ImageIO.save(result, to: shared.output, jpegQuality: shared.quality)
        session.finished(result)
    }
}
