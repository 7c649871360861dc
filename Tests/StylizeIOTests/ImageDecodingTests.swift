import Foundation
import Testing
import StylizeIO

/// The committed fixtures (made by Fixtures/make_fixtures.py), found next to this file.
enum ImageFixtures {
    static let folder: String = {
        let file = "\(#filePath)"
        return String(file[..<file.lastIndex(of: "/")!]) + "/Fixtures"
    }()

    static func path(_ name: String) -> String { folder + "/" + name }

    // The quadrant colours of make_fixtures.py: top-left, top-right, bottom-left, bottom-right.
    static let rgb: [[Float]] = [[220, 20, 60], [30, 160, 90], [40, 70, 200], [250, 240, 110]]
    static let gray: [Float] = [10, 100, 180, 250]
    static let alpha: [Float] = [255, 128, 0, 64]
    static let rgb16: [[Float]] = [[65535, 1000, 30001], [0, 40000, 12345], [257, 65534, 500],
                                   [33333, 22222, 11111]]
    static let gray16: [Float] = [1, 1000, 30001, 65535]
}

extension Image {
    /// (R, G, B) at one pixel.
    func rgbForTest(x: Int, y: Int) -> [Float] {
        precondition(x < width && y < height)
        let plane = width * height
        return pixels.withUnsafeBufferPointer { p in
            (0..<3).map { p[$0 * plane + y * width + x] }
        }
    }

    /// The colour at the centres of the four quadrants: top-left, top-right, bottom-left,
    /// bottom-right.
    var quadrantColoursForTest: [[Float]] {
        [(width / 4, height / 4), (3 * width / 4, height / 4),
         (width / 4, 3 * height / 4), (3 * width / 4, 3 * height / 4)].map { rgbForTest(x: $0.0, y: $0.1) }
    }
}

/// True when every component of `actual` is within `tolerance` of `expected`.
func coloursMatch(_ actual: [[Float]], _ expected: [[Float]], tolerance: Float) -> Bool {
    actual.count == expected.count && zip(actual, expected).allSatisfy { a, e in
        a.count == e.count && zip(a, e).allSatisfy { abs($0 - $1) <= tolerance }
    }
}

@Suite struct ImageDecodingTests {
    // MARK: PNG

    @Test func rgb8PNGIsExact() throws {
        let image = try ImageIO.load(ImageFixtures.path("rgb8.png"))
        #expect(image.width == 8 && image.height == 6)
        let expected = ImageFixtures.rgb.map { $0.map { $0 / 255 } }
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: 1e-6))
    }

    @Test func gray8PNGBecomesEqualRGB() throws {
        let image = try ImageIO.load(ImageFixtures.path("gray8.png"))
        #expect(image.width == 8 && image.height == 6)
        let expected = ImageFixtures.gray.map { [Float](repeating: $0 / 255, count: 3) }
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: 1e-6))
    }

    /// Straight alpha over white: c·a + (1 − a).
    static func overWhite(_ colour: [Float], alpha: Float) -> [Float] {
        colour.map { $0 * alpha + (1 - alpha) }
    }

    @Test(arguments: ["rgba8.png", "palette2.png"])
    func alphaIsCompositedOverWhite(_ fixture: String) throws {
        let image = try ImageIO.load(ImageFixtures.path(fixture))
        #expect(image.width == 8 && image.height == 6)
        let expected = (0..<4).map {
            Self.overWhite(ImageFixtures.rgb[$0].map { $0 / 255 }, alpha: ImageFixtures.alpha[$0] / 255)
        }
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: 1e-5))
        // The fully transparent quadrant is white, whatever colour it stores.
        #expect(coloursMatch([image.quadrantColoursForTest[2]], [[1, 1, 1]], tolerance: 1e-6))
    }

    @Test func grayAlphaPNG() throws {
        let image = try ImageIO.load(ImageFixtures.path("graya8.png"))
        let expected = (0..<4).map {
            Self.overWhite([Float](repeating: ImageFixtures.gray[$0] / 255, count: 3),
                           alpha: ImageFixtures.alpha[$0] / 255)
        }
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: 1e-5))
    }

    @Test func sixteenBitPNGKeepsPrecision() throws {
        let gray = try ImageIO.load(ImageFixtures.path("gray16.png"))
        let expectedGray = ImageFixtures.gray16.map { [Float](repeating: $0 / 65535, count: 3) }
        #expect(coloursMatch(gray.quadrantColoursForTest, expectedGray, tolerance: 1e-6))
        // 1000/65535 lies between two 8-bit levels: proof the decoder did not go through 8 bits.
        let v = gray.quadrantColoursForTest[1][0] * 255
        #expect(abs(v - v.rounded()) > 0.1)

        let rgb = try ImageIO.load(ImageFixtures.path("rgb16.png"))
        let expectedRGB = ImageFixtures.rgb16.map { $0.map { $0 / 65535 } }
        #expect(coloursMatch(rgb.quadrantColoursForTest, expectedRGB, tolerance: 1e-6))
    }

    @Test func sixteenBitAlphaOverWhite() throws {
        let image = try ImageIO.load(ImageFixtures.path("rgba16.png"))
        let expected = (0..<4).map {
            Self.overWhite(ImageFixtures.rgb16[$0].map { $0 / 65535 }, alpha: ImageFixtures.alpha[$0] / 255)
        }
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: 1e-5))
    }

    // MARK: JPEG

    @Test(arguments: [("baseline.jpg", Float(0.02)), ("progressive.jpg", Float(0.05))])
    func colourJPEG(_ fixture: String, tolerance: Float) throws {
        let image = try ImageIO.load(ImageFixtures.path(fixture))
        #expect(image.width == 64 && image.height == 32)
        let expected = ImageFixtures.rgb.map { $0.map { $0 / 255 } }
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: tolerance))
    }

    @Test func grayscaleJPEG() throws {
        let image = try ImageIO.load(ImageFixtures.path("gray.jpg"))
        #expect(image.width == 64 && image.height == 32)
        let expected = ImageFixtures.gray.map { [Float](repeating: $0 / 255, count: 3) }
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: 0.02))
    }

    /// Inks red, green, 50 % black and a light violet, stored the Adobe way (inverted, with an
    /// APP14 marker) and the plain way (no marker): both must give the same RGB.
    @Test(arguments: ["cmyk_adobe.jpg", "cmyk_plain.jpg"])
    func cmykJPEG(_ fixture: String) throws {
        let image = try ImageIO.load(ImageFixtures.path(fixture))
        #expect(image.width == 64 && image.height == 32)
        let halfBlack: Float = 1 - 128 / 255
        let expected: [[Float]] = [[1, 0, 0], [0, 1, 0], [halfBlack, halfBlack, halfBlack], [0.8, 0.6, 1]]
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: 0.03))
    }

    /// For EXIF orientations 1...8: which stored quadrant (0 TL, 1 TR, 2 BL, 3 BR) appears at the
    /// displayed TL, TR, BL, BR. make_fixtures.py checks the same table against Pillow.
    static let oriented: [Int: [Int]] = [
        1: [0, 1, 2, 3], 2: [1, 0, 3, 2], 3: [3, 2, 1, 0], 4: [2, 3, 0, 1],
        5: [0, 2, 1, 3], 6: [2, 0, 3, 1], 7: [3, 1, 2, 0], 8: [1, 3, 0, 2],
    ]

    @Test(arguments: 1...8)
    func exifOrientationIsApplied(_ orientation: Int) throws {
        let image = try ImageIO.load(ImageFixtures.path("orient\(orientation).jpg"))
        // Stored 64×32; orientations 5...8 turn it a quarter.
        if orientation >= 5 {
            #expect(image.width == 32 && image.height == 64)
        } else {
            #expect(image.width == 64 && image.height == 32)
        }
        let expected = Self.oriented[orientation]!.map { ImageFixtures.rgb[$0].map { $0 / 255 } }
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: 0.02))
    }

    @Test func formatIsRecognisedByContentNotExtension() throws {
        let image = try ImageIO.load(ImageFixtures.path("png_named.jpg"))
        let expected = ImageFixtures.rgb.map { $0.map { $0 / 255 } }
        #expect(coloursMatch(image.quadrantColoursForTest, expected, tolerance: 1e-6))
    }

    @Test func decodeFromBytesMatchesLoad() throws {
        let path = ImageFixtures.path("baseline.jpg")
        let bytes = try #require(readFixtureBytes("baseline.jpg"))
        let fromBytes = try ImageIO.decode(bytes, name: "in-memory")
        let fromFile = try ImageIO.load(path)
        #expect(fromBytes.pixels.scalars == fromFile.pixels.scalars)
    }

    @Test func sharedPhotoLoads() throws {
        // A real photograph from the shared folder laid beside the repository.
        let path = ImageFixtures.folder + "/../../../../shared/images/astronaut.png"
        try #require(FileManager.default.fileExists(atPath: path),
                     "missing \(path): it comes from ../shared/images, the shared folder beside the repository")
        let image = try ImageIO.load(path)
        #expect(image.width == 512 && image.height == 512)
        let values = image.pixels.scalars
        #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}

/// A fixture's bytes.
func readFixtureBytes(_ name: String) -> [UInt8]? {
    FileManager.default.contents(atPath: ImageFixtures.path(name)).map { [UInt8]($0) }
}
