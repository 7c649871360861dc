import Foundation
import Testing
import StylizeIO

/// A fresh folder under the system's temporary folder, removed when the test ends.
final class ImageTestFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "/stylize-image-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Names in the folder, hidden ones included (a leftover temporary file would be hidden).
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}

@Suite struct ImageErrorTests {
    // MARK: Reading

    @Test func missingFile() {
        let path = "/no/such/folder/photo.jpg"
        #expect(throws: ImageError.fileNotFound(path: path)) { try ImageIO.load(path) }
        #expect(ImageError.fileNotFound(path: path).description == "/no/such/folder/photo.jpg: no such file")
    }

    @Test func folderIsNotAFile() throws {
        let folder = try ImageTestFolder()
        #expect(throws: ImageError.readFailed(path: folder.path, reason: "is a folder, not a regular file")) {
            try ImageIO.load(folder.path)
        }
    }

    /// A FIFO would block an open for reading until a writer came: refused by kind, at once.
    @Test func fifoIsRefusedWithoutBlocking() throws {
        let folder = try ImageTestFolder()
        let fifo = folder.path + "/pipe.png"
        try #require(mkfifo(fifo, 0o644) == 0)
        let start = ContinuousClock.now
        #expect(throws: ImageError.readFailed(path: fifo, reason: "is a FIFO (named pipe), not a regular file")) {
            try ImageIO.load(fifo)
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(throws: ImageError.readFailed(path: "/dev/zero", reason: "is a device, not a regular file")) {
            try ImageIO.load("/dev/zero")
        }
    }

    @Test func textFileIsNotAnImage() {
        let path = ImageFixtures.path("not_image.txt")
        #expect(throws: ImageError.notAnImage(name: path)) { try ImageIO.load(path) }
        #expect(ImageError.notAnImage(name: "notes.txt").description == "notes.txt: not a PNG or JPEG image")
    }

    @Test func emptyDataIsNotAnImage() {
        #expect(throws: ImageError.notAnImage(name: "empty")) { try ImageIO.decode([], name: "empty") }
    }

    @Test func truncatedJPEG() throws {
        let bytes = try #require(readFixtureBytes("baseline.jpg"))
        // Cut inside the entropy-coded data, and cut inside the headers.
        for length in [bytes.count / 2, bytes.count - 2, 20] {
            #expect(throws: ImageError.truncated(name: "photo.jpg", format: .jpeg)) {
                try ImageIO.decode(Array(bytes.prefix(length)), name: "photo.jpg")
            }
        }
        #expect(ImageError.truncated(name: "photo.jpg", format: .jpeg).description == "photo.jpg: truncated JPEG data")
    }

    @Test func everyTruncationOfAJPEGIsAnError() throws {
        let bytes = try #require(readFixtureBytes("progressive.jpg"))
        for length in 3..<bytes.count {
            #expect(throws: ImageError.self) { try ImageIO.decode(Array(bytes.prefix(length)), name: "cut.jpg") }
        }
    }

    @Test func truncatedPNG() throws {
        let bytes = try #require(readFixtureBytes("rgb8.png"))
        // 45 bytes: signature, IHDR and the start of IDAT.
        for length in [45, 20] {
            #expect(throws: ImageError.truncated(name: "image.png", format: .png)) {
                try ImageIO.decode(Array(bytes.prefix(length)), name: "image.png")
            }
        }
    }

    @Test func everyTruncationOfAPNGIsHandled() throws {
        let bytes = try #require(readFixtureBytes("rgba16.png"))
        // Every cut before the last IDAT's CRC is an error. Once the zlib stream is complete
        // (its own Adler-32 checked) the pixels are intact, and libspng does not insist on the
        // trailing CRC or IEND, so those cuts may decode.
        for length in 8..<(bytes.count - 12 - 4) {
            #expect(throws: ImageError.self) { try ImageIO.decode(Array(bytes.prefix(length)), name: "cut.png") }
        }
    }

    @Test func corruptBytesNeverCrash() throws {
        // Flip bytes throughout the file, headers included: each variant must decode to a sane
        // picture or be refused with an error naming the input (`decode` throws only ImageError); flips in the headers must
        // be refused, so every fixture sees some refusals.
        for fixture in ["baseline.jpg", "progressive.jpg", "cmyk_adobe.jpg", "orient6.jpg", "rgba16.png", "palette2.png"] {
            let bytes = try #require(readFixtureBytes(fixture))
            var refused = 0
            for i in stride(from: 3, to: bytes.count, by: 2) {
                var damaged = bytes
                damaged[i] ^= 0x5A
                do {
                    let image = try ImageIO.decode(damaged, name: fixture)
                    #expect(image.width > 0 && image.height > 0, "\(fixture), byte \(i): empty picture")
                    #expect(image.pixels.scalars.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(fixture), byte \(i): values outside 0…1")
                } catch {  // typed: an ImageError
                    refused += 1
                    #expect(error.description.hasPrefix(fixture + ": "), "\(fixture), byte \(i): message '\(error)' does not name the input")
                }
            }
            #expect(refused > 0, "\(fixture): no corrupted variant was refused")
        }
    }

    @Test func fatalLibjpegErrorIsAnError() throws {
        // A scan whose quantization table was never defined: libjpeg's error_exit path (which
        // would call exit() with the default error manager), not a warning.
        let path = ImageFixtures.path("no_quant_table.jpg")
        do {
            _ = try ImageIO.load(path)
            Issue.record("decoded a JPEG without quantization tables")
        } catch {
            guard case let .corrupt(name, format, reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(name == path && format == .jpeg)
            #expect(reason.contains("Quantization table"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test(arguments: [("huge_header.png", 100_000, 100_000), ("huge_header.jpg", 65535, 65535)])
    func oversizedHeaderIsRefusedQuickly(_ fixture: String, width: Int, height: Int) {
        let path = ImageFixtures.path(fixture)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(throws: ImageError.tooLarge(name: path, width: width, height: height,
                                                maxPixels: Image.defaultMaxPixels)) {
                try ImageIO.load(path)
            }
        }
        #expect(elapsed < .milliseconds(200))
    }

    @Test func maxPixelsIsHonoured() throws {
        let path = ImageFixtures.path("rgb8.png")
        #expect(throws: ImageError.tooLarge(name: path, width: 8, height: 6, maxPixels: 47)) {
            try ImageIO.load(path, maxPixels: 47)
        }
        #expect(try ImageIO.load(path, maxPixels: 48).width == 8)
        let jpeg = ImageFixtures.path("baseline.jpg")
        #expect(throws: ImageError.tooLarge(name: jpeg, width: 64, height: 32, maxPixels: 100)) {
            try ImageIO.load(jpeg, maxPixels: 100)
        }
    }

    @Test(arguments: ["zero_width.png", "zero_height.jpg"])
    func zeroSizeIsRefused(_ fixture: String) {
        let path = ImageFixtures.path(fixture)
        #expect(throws: ImageError.emptyImage(name: path)) { try ImageIO.load(path) }
    }

    // MARK: Writing

    static let smallImage: Image = {
        let values = (0..<(3 * 4 * 5)).map { Float($0 % 7) / 6 }
        return Image(pixels: .init(shape: [1, 3, 4, 5], scalars: values))
    }()

    @Test func missingOutputFolderLeavesNothing() throws {
        let folder = try ImageTestFolder()
        let path = folder.path + "/missing/out.png"
        do {
            try ImageIO.save(Self.smallImage, to: path)
            Issue.record("saved into a folder that does not exist")
        } catch {
            guard case .writeFailed(let failedPath, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(failedPath == path)
            #expect(error.description.hasPrefix(path + ": cannot write: "))
        }
        #expect(try folder.contents() == [])
    }

    @Test func failedRenameLeavesNoTemporaryFile() throws {
        // The target is a folder: the temporary file is written, then the rename fails.
        let folder = try ImageTestFolder()
        let target = folder.path + "/taken.png"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        #expect(throws: ImageError.self) { try ImageIO.save(Self.smallImage, to: target) }
        #expect(try folder.contents() == ["taken.png"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == [])
    }

    @Test func unknownOutputExtension() throws {
        let folder = try ImageTestFolder()
        let path = folder.path + "/out.bmp"
        #expect(throws: ImageError.unknownOutputFormat(path: path)) { try ImageIO.save(Self.smallImage, to: path) }
        #expect(try folder.contents() == [])
    }

    @Test func badJPEGQualityWritesNothing() throws {
        let folder = try ImageTestFolder()
        for quality in [0, 101] {
            #expect(throws: ImageError.self) {
                try ImageIO.save(Self.smallImage, to: folder.path + "/out.jpg", jpegQuality: quality)
            }
        }
        #expect(try folder.contents() == [])
    }

    @Test func descriptionsAreOneLineAndNameTheFile() {
        let errors: [ImageError] = [
            .fileNotFound(path: "a.png"), .readFailed(path: "a.png", reason: "Permission denied"),
            .notAnImage(name: "a.png"), .emptyImage(name: "a.png"),
            .tooLarge(name: "a.png", width: 100_000, height: 100_000, maxPixels: 100_000_000),
            .truncated(name: "a.png", format: .png), .corrupt(name: "a.png", format: .png, reason: "CRC error"),
            .unsupported(name: "a.png", reason: "12-bit JPEG"), .codecUnavailable(name: "a.png", reason: "no libturbojpeg"),
            .unknownOutputFormat(path: "a.png"), .encodingFailed(name: "a.png", reason: "quality"),
            .writeFailed(path: "a.png", reason: "No space left on device"),
        ]
        for error in errors {
            #expect(error.description.hasPrefix("a.png: "))
            #expect(!error.description.contains("\n"))
        }
        #expect(ImageError.tooLarge(name: "big.png", width: 100_000, height: 100_000, maxPixels: 100_000_000).description
                == "big.png: image is 100000x100000 pixels, more than the limit of 100000000 pixels")
    }
}
