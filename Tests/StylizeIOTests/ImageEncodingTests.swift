import Foundation
import Testing
import StylizeIO
import StylizeTensor

@Suite struct ImageEncodingTests {
    /// A deterministic image: value(c, y, x) from `f`.
    static func image(width: Int, height: Int, _ f: (Int, Int, Int) -> Float) -> Image {
        var values: [Float] = []
        values.reserveCapacity(3 * width * height)
        for c in 0..<3 { for y in 0..<height { for x in 0..<width { values.append(f(c, y, x)) } } }
        return Image(pixels: Tensor(shape: [1, 3, height, width], scalars: values))
    }

    @Test func pngRoundTripIsExactForByteLevels() throws {
        let folder = try ImageTestFolder()
        let original = Self.image(width: 37, height: 23) { c, y, x in Float((x * 7 + y * 13 + c * 101) % 256) / 255 }
        let path = folder.path + "/round.png"
        try ImageIO.save(original, to: path)
        let loaded = try ImageIO.load(path)
        #expect(loaded.width == 37 && loaded.height == 23)
        #expect(loaded.pixels.scalars == original.pixels.scalars)
        #expect(try folder.contents() == ["round.png"])
    }

    @Test func pngRoundTripIsWithinHalfALevel() throws {
        // Arbitrary values (and out-of-range ones, which are clamped).
        let original = Self.image(width: 16, height: 9) { c, y, x in Float(x * 31 + y * 17 + c * 5) / 397 - 0.1 }
        let bytes = try ImageIO.encode(original, format: .png, jpegQuality: 95)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let loaded = try ImageIO.decode(bytes, name: "memory.png")
        for (a, b) in zip(loaded.pixels.scalars, original.pixels.scalars) {
            #expect(abs(a - min(max(b, 0), 1)) <= 0.5 / 255 + 1e-6)
        }
    }

    @Test(arguments: [95, 75])
    func jpegRoundTripIsClose(quality: Int) throws {
        let folder = try ImageTestFolder()
        // Smooth content, as JPEG is meant for.
        let original = Self.image(width: 96, height: 64) { c, y, x in
            let t = Float(x) / 95, u = Float(y) / 63
            return [0.2 + 0.6 * t, 0.8 - 0.5 * u, 0.5 + 0.3 * t * u][c]
        }
        let path = folder.path + "/round.JPEG"
        try ImageIO.save(original, to: path, jpegQuality: quality)
        let loaded = try ImageIO.load(path)
        #expect(loaded.width == 96 && loaded.height == 64)
        let pairs = zip(loaded.pixels.scalars, original.pixels.scalars)
        let maxError = pairs.map { abs($0 - $1) }.max() ?? 0
        let meanError = pairs.map { abs($0 - $1) }.reduce(0, +) / Float(original.pixels.count)
        #expect(maxError < 0.05)
        #expect(meanError < 0.01)
    }

    @Test func jpegBytesStartWithSOI() throws {
        let bytes = try ImageIO.encode(ImageErrorTests.smallImage, format: .jpeg, jpegQuality: 90)
        #expect(bytes.starts(with: [0xFF, 0xD8, 0xFF]))
        let back = try ImageIO.decode(bytes, name: "memory.jpg")
        #expect(back.width == 5 && back.height == 4)
    }

    @Test func formatFromExtension() {
        #expect(ImageFormat(path: "a.png") == .png)
        #expect(ImageFormat(path: "dir/b.PNG") == .png)
        #expect(ImageFormat(path: "c.jpg") == .jpeg)
        #expect(ImageFormat(path: "d.JpEg") == .jpeg)
        #expect(ImageFormat(path: "e.gif") == nil)
        #expect(ImageFormat(path: "noextension") == nil)
        #expect(ImageFormat(path: "folder.png/file") == nil)
    }

    @Test func saveReplacesAnExistingFile() throws {
        let folder = try ImageTestFolder()
        let path = folder.path + "/out.png"
        try ImageIO.save(ImageErrorTests.smallImage, to: path)
        let bigger = Self.image(width: 8, height: 8) { _, _, _ in 0.25 }
        try ImageIO.save(bigger, to: path)
        #expect(try ImageIO.load(path).width == 8)
        #expect(try folder.contents() == ["out.png"])
    }

    @Test func writeAtomicallyWritesExactBytes() throws {
        let folder = try ImageTestFolder()
        let bytes: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = folder.path + "/blob.bin"
        try writeAtomically(bytes, to: path)
        #expect(FileManager.default.contents(atPath: path).map { [UInt8]($0) } == bytes)
        try writeAtomically([], to: path)
        #expect(FileManager.default.contents(atPath: path)?.count == 0)
        #expect(try folder.contents() == ["blob.bin"])
    }
}
