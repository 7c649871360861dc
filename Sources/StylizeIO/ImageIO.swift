import StylizeTensor

/// Reading and writing pictures: PNG and JPEG in, PNG and JPEG out.
///
/// All entry points are thread-safe (no shared state; each call has its own codec context).
public enum ImageIO {
    /// Reads and decodes the picture at `path`.
    ///
    /// The format is recognised by content (magic bytes), not by extension, so a PNG named
    /// `.jpg` still loads. JPEG EXIF orientation is applied, transparency is composited over
    /// white, and 16-bit PNGs keep their precision.
    ///
    /// - Parameter maxPixels: pictures whose header declares more pixels are refused before
    ///   any pixel memory is allocated.
    /// - Throws: `ImageError`, naming `path`: `.fileNotFound`, `.readFailed`, `.notAnImage`,
    ///   `.emptyImage`, `.tooLarge`, `.truncated`, `.corrupt`, `.unsupported`, `.codecUnavailable`.
    public static func load(_ path: String, maxPixels: Int = Image.defaultMaxPixels) throws(ImageError) -> Image {
        let data = try readWholeFile(path)
        return try decode(data, name: path, maxPixels: maxPixels)
    }

    /// Decodes PNG or JPEG bytes, recognised by content.
    ///
    /// - Parameter name: how errors refer to the data (usually its file name or URL).
    /// - Throws: `ImageError` naming `name`; see `load(_:maxPixels:)`.
    public static func decode(_ data: [UInt8], name: String,
                              maxPixels: Int = Image.defaultMaxPixels) throws(ImageError) -> Image {
        switch ImageFormat(magic: data) {
        case .png?: try PNGCodec.decode(data, name: name, maxPixels: maxPixels)
        case .jpeg?: try JPEGCodec.decode(data, name: name, maxPixels: maxPixels)
        case nil: throw .notAnImage(name: name)
        }
    }

    /// Encodes and writes `image` to `path`, in the format its extension names (`.png`, `.jpg`,
    /// `.jpeg`, any case).
    ///
    /// The write is atomic (see `writeAtomically(_:to:)`): an existing file is replaced only by a
    /// complete new one, and a failure leaves nothing behind.
    ///
    /// - Parameter jpegQuality: 1...100, used for JPEG only.
    /// - Throws: `.unknownOutputFormat` for another extension, `.encodingFailed`, `.writeFailed`.
    public static func save(_ image: Image, to path: String, jpegQuality: Int = 95) throws(ImageError) {
        guard let format = ImageFormat(path: path) else { throw .unknownOutputFormat(path: path) }
        let bytes = try encode(image, format: format, jpegQuality: jpegQuality, name: path)
        try writeAtomically(bytes, to: path)
    }

    /// Encodes `image` as an 8-bit RGB PNG or a baseline JPEG.
    ///
    /// Pixel values are clamped to [0, 1] and rounded to the nearest of 256 levels. JPEGs keep
    /// full-resolution colour (4:4:4) at quality 90 and above, and use 4:2:0 below.
    ///
    /// - Parameters:
    ///   - jpegQuality: 1...100, used for JPEG only.
    ///   - name: how errors refer to the output.
    /// - Throws: `.encodingFailed` (e.g. quality out of range), `.codecUnavailable`.
    public static func encode(_ image: Image, format: ImageFormat, jpegQuality: Int = 95,
                              name: String = "image") throws(ImageError) -> [UInt8] {
        switch format {
        case .png: try PNGCodec.encode(image, name: name)
        case .jpeg: try JPEGCodec.encode(image, quality: jpegQuality, name: name)
        }
    }
}

/// The image as interleaved 8-bit RGB, the layout both encoders take. Values are clamped to
/// [0, 1] (NaN becomes 0) and rounded, so a PNG round trip returns exactly the k/255 it was given.
func interleavedRGB8(_ image: Image) -> [UInt8] {
    let plane = image.width * image.height
    return image.pixels.withUnsafeBufferPointer { planes in
        [UInt8](unsafeUninitializedCapacity: 3 * plane) { rgb, count in
            let source = planes.baseAddress!
            for channel in 0..<3 {
                let values = source + channel * plane
                for i in 0..<plane {
                    let v = values[i]
                    let clamped: Float = v > 0 ? (v < 1 ? v : 1) : 0
                    rgb[3 * i + channel] = UInt8(clamped * 255 + 0.5)
                }
            }
            count = 3 * plane
        }
    }
}
