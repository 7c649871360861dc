import Testing
import StylizeIO
import StylizeTensor

@Suite struct ImageResamplingTests {
    static func checkerboard(width: Int, height: Int) -> Image {
        ImageEncodingTests.image(width: width, height: height) { _, y, x in Float((x + y) % 2) }
    }

    static func constant(_ value: Float, width: Int, height: Int) -> Image {
        ImageEncodingTests.image(width: width, height: height) { c, _, _ in value + Float(c) * 0.1 }
    }

    @Test func sizesAreAsRequested() {
        let image = Self.constant(0.5, width: 10, height: 7)
        let resized = image.resized(width: 23, height: 3)
        #expect(resized.width == 23 && resized.height == 3)
        #expect(resized.pixels.shape == [1, 3, 3, 23])
        #expect(image.resized(width: 1, height: 1).pixels.shape == [1, 3, 1, 1])
    }

    @Test func longerSideKeepsAspectRatio() {
        let landscape = Self.constant(0.5, width: 1024, height: 768)
        let a = landscape.resized(longerSide: 512)
        #expect(a.width == 512 && a.height == 384)
        let portrait = Self.constant(0.5, width: 768, height: 1024)
        let b = portrait.resized(longerSide: 100)
        #expect(b.width == 75 && b.height == 100)
        // Rounded: 7 × 10/9 = 7.78 → 8.
        let c = Self.constant(0.5, width: 9, height: 7).resized(longerSide: 10)
        #expect(c.width == 10 && c.height == 8)
        // Never below one pixel.
        let d = Self.constant(0.5, width: 1000, height: 3).resized(longerSide: 100)
        #expect(d.width == 100 && d.height == 1)
    }

    @Test func constantStaysConstant() {
        for (width, height) in [(17, 11), (4, 3), (2, 1), (40, 30)] {
            let resized = Self.constant(0.3, width: 5, height: 3).resized(width: width, height: height)
            let values = resized.pixels.scalars
            let plane = width * height
            for c in 0..<3 {
                for v in values[(c * plane)..<((c + 1) * plane)] {
                    #expect(abs(v - (0.3 + Float(c) * 0.1)) < 1e-6)
                }
            }
        }
    }

    @Test func shrinkingACheckerboardAveragesIt() {
        // A 1-pixel checkerboard is the highest frequency there is; shrunk by 4 it must become
        // flat grey, not a coarser pattern (aliasing) or stripes.
        let shrunk = Self.checkerboard(width: 64, height: 48).resized(width: 16, height: 12)
        let values = shrunk.pixels.scalars
        #expect(values.allSatisfy { abs($0 - 0.5) < 0.02 })
        // Away from the edges, where the filter is cut off, it is grey to float precision.
        for y in 2..<10 {
            for x in 2..<14 {
                #expect(abs(shrunk.rgbForTest(x: x, y: y)[0] - 0.5) < 1e-4)
            }
        }
    }

    @Test func shrinkingByAnOddFactorDoesNotAlias() {
        // Point sampling would turn these 1-pixel stripes into solid black or white bands.
        let stripes = ImageEncodingTests.image(width: 100, height: 10) { _, _, x in Float(x % 2) }
        let shrunk = stripes.resized(width: 30, height: 10)
        #expect(shrunk.pixels.scalars.allSatisfy { abs($0 - 0.5) < 0.06 })
    }

    @Test func shrinkingPreservesTheMean() {
        let image = ImageEncodingTests.image(width: 90, height: 60) { c, y, x in
            Float((x * 37 + y * 91 + c * 13) % 101) / 100
        }
        let shrunk = image.resized(width: 30, height: 20)
        func mean(_ t: Tensor) -> Float { t.scalars.reduce(0, +) / Float(t.count) }
        #expect(abs(mean(shrunk.pixels) - mean(image.pixels)) < 0.01)
        #expect(shrunk.pixels.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func enlargingKeepsAGradientMonotonic() {
        let ramp = ImageEncodingTests.image(width: 8, height: 2) { _, _, x in Float(x) / 7 }
        let big = ramp.resized(width: 32, height: 2)
        let row = (0..<32).map { big.rgbForTest(x: $0, y: 0)[0] }
        // Interior of the ramp (Lanczos may ring slightly at the ends, and values are clamped).
        for x in 4..<28 { #expect(row[x] >= row[x - 1] - 1e-5) }
        #expect(row.first! < 0.05 && row.last! > 0.95)
    }

    @Test func sameSizeIsUnchanged() {
        let image = Self.checkerboard(width: 9, height: 5)
        #expect(image.resized(width: 9, height: 5).pixels.scalars == image.pixels.scalars)
    }

    #if !DEBUG
    @Test func resizingAPhotoSizedImageIsFast() {
        let image = ImageEncodingTests.image(width: 1024, height: 768) { c, y, x in Float((x ^ y) & 255) / 255 }
        let clock = ContinuousClock()
        for (width, height) in [(512, 384), (2048, 1536), (300, 225)] {
            let elapsed = clock.measure { _ = image.resized(width: width, height: height) }
            // Typically a few tens of milliseconds; generous because the machine may be shared.
            #expect(elapsed < .milliseconds(400), "1024x768 -> \(width)x\(height) took \(elapsed)")
        }
    }
    #endif
}
