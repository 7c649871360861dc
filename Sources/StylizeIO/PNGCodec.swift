#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CSPNG

/// PNG through libspng, which reports every problem as a return code (no longjmp, unlike libpng),
/// so it is called directly.
enum PNGCodec {
    static func decode(_ data: [UInt8], name: String, maxPixels: Int) throws(ImageError) -> Image {
        // The IHDR chunk must come first, at a fixed offset; reading the size here refuses empty
        // and oversized pictures before libspng allocates anything.
        guard data.count >= 33 else { throw .truncated(name: name, format: .png) }
        guard data[12..<16].elementsEqual("IHDR".utf8) else {
            throw .corrupt(name: name, format: .png, reason: "the first chunk is not IHDR")
        }
        let width = Int(bigEndian32(data, at: 16)), height = Int(bigEndian32(data, at: 20))
        guard width > 0, height > 0 else { throw .emptyImage(name: name) }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maxPixels else {
            throw .tooLarge(name: name, width: width, height: height, maxPixels: maxPixels)
        }

        guard let context = spng_ctx_new(0) else {
            throw .codecUnavailable(name: name, reason: "libspng could not create a decoder")
        }
        defer { spng_ctx_free(context) }
        // Metadata chunks are bounded too: the pixel limit above does not cover a compressed text
        // or ICC chunk that inflates to gigabytes.
        _ = spng_set_chunk_limits(context, 1 << 26, 1 << 28)

        // withUnsafeBufferPointer has typed throws; withUnsafeBytes would widen to any Error.
        return try data.withUnsafeBufferPointer { (buffer) throws(ImageError) -> Image in
            try check(spng_set_png_buffer(context, buffer.baseAddress, buffer.count), name)
            var header = spng_ihdr()
            try check(spng_get_ihdr(context, &header), name)
            guard Int(header.width) == width, Int(header.height) == height else {
                throw .corrupt(name: name, format: .png, reason: "inconsistent IHDR")
            }
            // libspng expands every colour type and bit depth to RGBA; 16-bit files keep 16 bits
            // so that their extra precision reaches the float pixels.
            if header.bit_depth == 16 {
                let samples: [UInt16] = try decodePixels(context, format: SPNG_FMT_RGBA16, name: name)
                return samples.withUnsafeBufferPointer { rgba in
                    makeImage(width: width, height: height) { i in
                        let scale: Float = 1 / 65535
                        return overWhite(Float(rgba[4 * i]) * scale, Float(rgba[4 * i + 1]) * scale,
                                         Float(rgba[4 * i + 2]) * scale, Float(rgba[4 * i + 3]) * scale)
                    }
                }
            } else {
                let samples: [UInt8] = try decodePixels(context, format: SPNG_FMT_RGBA8, name: name)
                return samples.withUnsafeBufferPointer { rgba in
                    unitFromByte.withUnsafeBufferPointer { unit in
                        makeImage(width: width, height: height) { i in
                            overWhite(unit[Int(rgba[4 * i])], unit[Int(rgba[4 * i + 1])],
                                      unit[Int(rgba[4 * i + 2])], unit[Int(rgba[4 * i + 3])])
                        }
                    }
                }
            }
        }
    }

    /// Straight (non-premultiplied) alpha composited over white: transparent areas of a logo or
    /// a cut-out become paper-white rather than black, which is what people expect to see.
    @inline(__always)
    private static func overWhite(_ r: Float, _ g: Float, _ b: Float, _ a: Float) -> (Float, Float, Float) {
        let background = 1 - a
        return (r * a + background, g * a + background, b * a + background)
    }

    private static func decodePixels<Sample: FixedWidthInteger>(
        _ context: OpaquePointer, format: spng_format, name: String
    ) throws(ImageError) -> [Sample] {
        let fmt = Int32(format.rawValue)
        var byteCount = 0
        try check(spng_decoded_image_size(context, fmt, &byteCount), name)
        var samples = [Sample](repeating: 0, count: byteCount / MemoryLayout<Sample>.size)
        // SPNG_DECODE_TRNS turns a tRNS chunk (palette or colour-key transparency) into alpha.
        let status = samples.withUnsafeMutableBytes { output in
            spng_decode_image(context, output.baseAddress, output.count, fmt, Int32(SPNG_DECODE_TRNS.rawValue))
        }
        try check(status, name)
        return samples
    }

    private static func check(_ status: Int32, _ name: String) throws(ImageError) {
        guard status != 0 else { return }
        // SPNG_IO_EOF comes straight from the buffer reader; the others from the decoder.
        let endOfData = [Int32(SPNG_IO_EOF.rawValue), Int32(SPNG_EOF.rawValue), Int32(SPNG_EIDAT_TOO_SHORT.rawValue)]
        if endOfData.contains(status) {
            throw .truncated(name: name, format: .png)
        }
        throw .corrupt(name: name, format: .png, reason: String(cString: spng_strerror(status)))
    }

    private static func bigEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// An 8-bit RGB PNG (no alpha: the pixels are opaque by construction).
    static func encode(_ image: Image, name: String) throws(ImageError) -> [UInt8] {
        guard let context = spng_ctx_new(Int32(SPNG_CTX_ENCODER.rawValue)) else {
            throw .codecUnavailable(name: name, reason: "libspng could not create an encoder")
        }
        defer { spng_ctx_free(context) }

        func fail(_ status: Int32) -> ImageError {
            .encodingFailed(name: name, reason: String(cString: spng_strerror(status)))
        }
        var status = spng_set_option(context, SPNG_ENCODE_TO_BUFFER, 1)
        guard status == 0 else { throw fail(status) }
        var header = spng_ihdr(width: UInt32(image.width), height: UInt32(image.height), bit_depth: 8,
                               color_type: UInt8(SPNG_COLOR_TYPE_TRUECOLOR.rawValue),
                               compression_method: 0, filter_method: 0, interlace_method: 0)
        status = spng_set_ihdr(context, &header)
        guard status == 0 else { throw fail(status) }

        let rgb = interleavedRGB8(image)
        status = rgb.withUnsafeBytes { input in
            spng_encode_image(context, input.baseAddress, input.count, Int32(SPNG_FMT_PNG.rawValue),
                              Int32(SPNG_ENCODE_FINALIZE.rawValue))
        }
        guard status == 0 else { throw fail(status) }

        var length = 0
        guard let png = spng_get_png_buffer(context, &length, &status), status == 0 else { throw fail(status) }
        // The buffer is ours to free (malloc'd by libspng).
        defer { free(png) }
        return Array(UnsafeRawBufferPointer(start: png, count: length))
    }
}
