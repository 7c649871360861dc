import CJPEG

// JPEG goes through libjpeg-turbo's TurboJPEG API rather than the classic libjpeg API. libjpeg
// reports a fatal error by calling `error_exit`, which must not return; the only way out is a
// longjmp, which Swift cannot do (setjmp is unavailable, and a Swift error cannot unwind through
// C frames). TurboJPEG does the setjmp inside libjpeg-turbo itself and returns -1 with a message,
// so corrupt files become errors instead of `exit()` or undefined behaviour.

/// The TurboJPEG entry points used here (Debian's libturbojpeg0-dev), with the constants as
/// Swift integers.
private struct TurboJPEG {
    typealias Handle = tjhandle

    static let pixelFormatRGB = Int32(TJPF_RGB.rawValue)
    static let pixelFormatGray = Int32(TJPF_GRAY.rawValue)
    static let pixelFormatCMYK = Int32(TJPF_CMYK.rawValue)
    static let subsampling444 = Int32(TJSAMP_444.rawValue)
    static let subsampling420 = Int32(TJSAMP_420.rawValue)
    static let flagAccurateDCT = Int32(TJFLAG_ACCURATEDCT)
    static let flagStopOnWarning = Int32(TJFLAG_STOPONWARNING)
    static let flagLimitScans = Int32(TJFLAG_LIMITSCANS)

    static func get(name: String) throws(ImageError) -> TurboJPEG { TurboJPEG() }

    func initDecompress() -> Handle? { tjInitDecompress() }
    func initCompress() -> Handle? { tjInitCompress() }
    func destroy(_ handle: Handle?) -> Int32 { tjDestroy(handle) }
    func decompressHeader(_ handle: Handle?, _ data: UnsafePointer<UInt8>?, _ size: UInt,
                          _ width: UnsafeMutablePointer<Int32>?, _ height: UnsafeMutablePointer<Int32>?,
                          _ subsampling: UnsafeMutablePointer<Int32>?, _ colorspace: UnsafeMutablePointer<Int32>?) -> Int32 {
        tjDecompressHeader3(handle, data, size, width, height, subsampling, colorspace)
    }
    func decompress(_ handle: Handle?, _ data: UnsafePointer<UInt8>?, _ size: UInt, _ output: UnsafeMutablePointer<UInt8>?,
                    _ width: Int32, _ pitch: Int32, _ height: Int32, _ pixelFormat: Int32, _ flags: Int32) -> Int32 {
        tjDecompress2(handle, data, size, output, width, pitch, height, pixelFormat, flags)
    }
    func compress(_ handle: Handle?, _ input: UnsafePointer<UInt8>?, _ width: Int32, _ pitch: Int32, _ height: Int32,
                  _ pixelFormat: Int32, _ output: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                  _ size: UnsafeMutablePointer<UInt>?, _ subsampling: Int32, _ quality: Int32, _ flags: Int32) -> Int32 {
        tjCompress2(handle, input, width, pitch, height, pixelFormat, output, size, subsampling, quality, flags)
    }
    func free(_ buffer: UnsafeMutablePointer<UInt8>?) { tjFree(buffer) }

    func message(_ handle: Handle?) -> String {
        tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
    }
}

// MARK: - Header scan

/// What the segments before the first scan say. Read in Swift, before libjpeg sees the data, so
/// that absurd sizes are refused without libjpeg allocating anything, and so that the EXIF and
/// Adobe segments (which TurboJPEG does not expose) are at hand.
private struct JPEGHeader {
    var width = 0
    var height = 0
    var components = 0
    var precision = 8
    var exif: ArraySlice<UInt8>?
    /// An Adobe APP14 segment: Photoshop and libjpeg then store CMYK inverted (0 = full ink).
    var adobe = false

    enum ScanError: Error { case truncated, malformed(String) }

    init(_ data: UnsafeBufferPointer<UInt8>) throws(ScanError) {
        var sawFrame = false
        var i = 2 // past SOI
        while true {
            guard i < data.count else { throw .truncated }
            guard data[i] == 0xFF else { throw .malformed("expected a marker at byte \(i)") }
            // Any number of 0xFF fill bytes may precede a marker code.
            while i < data.count, data[i] == 0xFF { i += 1 }
            guard i < data.count else { throw .truncated }
            let marker = data[i]
            i += 1
            // Markers without a length: TEM, RSTn (stray ones are harmless), SOI.
            if marker == 0x01 || (0xD0...0xD8).contains(marker) { continue }
            if marker == 0xD9 { throw .malformed("no image data before the end-of-image marker") }
            guard i + 2 <= data.count else { throw .truncated }
            let length = Int(data[i]) << 8 | Int(data[i + 1])
            guard length >= 2 else { throw .malformed("segment length \(length)") }
            guard i + length <= data.count else { throw .truncated }
            let payload = UnsafeBufferPointer(rebasing: data[(i + 2)..<(i + length)])
            i += length

            switch marker {
            case 0xC0...0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
                // SOFn: precision, height, width, component count.
                guard payload.count >= 6 else { throw .malformed("short frame header") }
                precision = Int(payload[0])
                height = Int(payload[1]) << 8 | Int(payload[2])
                width = Int(payload[3]) << 8 | Int(payload[4])
                components = Int(payload[5])
                sawFrame = true
            case 0xE1 where exif == nil && payload.starts(with: Array("Exif\0\0".utf8)):
                exif = ArraySlice(payload)
            case 0xEE where payload.starts(with: Array("Adobe".utf8)):
                adobe = true
            case 0xDA:
                guard sawFrame else { throw .malformed("scan before frame header") }
                return
            default:
                break
            }
        }
    }
}

// MARK: - Decoding

enum JPEGCodec {
    static func decode(_ data: [UInt8], name: String, maxPixels: Int) throws(ImageError) -> Image {
        try data.withUnsafeBufferPointer { buffer throws(ImageError) in
            try decode(buffer, name: name, maxPixels: maxPixels)
        }
    }

    private static func decode(_ data: UnsafeBufferPointer<UInt8>, name: String,
                               maxPixels: Int) throws(ImageError) -> Image {
        let header: JPEGHeader
        do {
            header = try JPEGHeader(data)
        } catch {
            switch error {
            case .truncated: throw .truncated(name: name, format: .jpeg)
            case .malformed(let why): throw .corrupt(name: name, format: .jpeg, reason: why)
            }
        }
        let (width, height) = (header.width, header.height)
        guard width > 0, height > 0 else { throw .emptyImage(name: name) }
        guard width * height <= maxPixels else {
            throw .tooLarge(name: name, width: width, height: height, maxPixels: maxPixels)
        }
        guard header.precision == 8 else {
            throw .unsupported(name: name, reason: "\(header.precision)-bit JPEG")
        }
        let pixelFormat: Int32, channels: Int
        switch header.components {
        case 1: (pixelFormat, channels) = (TurboJPEG.pixelFormatGray, 1)
        case 3: (pixelFormat, channels) = (TurboJPEG.pixelFormatRGB, 3)
        // CMYK and YCCK: libjpeg-turbo cannot convert them to RGB itself, but gives CMYK.
        case 4: (pixelFormat, channels) = (TurboJPEG.pixelFormatCMYK, 4)
        default: throw .unsupported(name: name, reason: "JPEG with \(header.components) colour components")
        }

        let tj = try TurboJPEG.get(name: name)
        guard let handle = tj.initDecompress() else {
            throw .codecUnavailable(name: name, reason: "TurboJPEG could not start a decompressor")
        }
        defer { _ = tj.destroy(handle) }

        var tjWidth: Int32 = 0, tjHeight: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        if tj.decompressHeader(handle, data.baseAddress, UInt(data.count),
                               &tjWidth, &tjHeight, &subsampling, &colorspace) != 0 {
            throw failure(tj.message(handle), name: name)
        }
        // The scan above and libjpeg read the same SOF; a mismatch would mean a second frame
        // header, which is not a JPEG this decoder should trust.
        guard Int(tjWidth) == width, Int(tjHeight) == height else {
            throw .corrupt(name: name, format: .jpeg, reason: "inconsistent frame headers")
        }

        // Uninitialized: TurboJPEG writes every byte or fails.
        var decoded = [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, count in
            count = buffer.count
        }
        // Warnings (corrupt entropy data, premature end of file) become errors: a half-grey
        // picture silently fed to style transfer is worse than a clear message.
        let flags = TurboJPEG.flagAccurateDCT | TurboJPEG.flagStopOnWarning | TurboJPEG.flagLimitScans
        let status = decoded.withUnsafeMutableBufferPointer { output in
            tj.decompress(handle, data.baseAddress, UInt(data.count), output.baseAddress,
                          Int32(width), 0, Int32(height), pixelFormat, flags)
        }
        if status != 0 { throw failure(tj.message(handle), name: name) }

        let orientation = header.exif.map { EXIFOrientation.read(app1: $0) } ?? .upright
        return decoded.withUnsafeBufferPointer { pixels in
            toImage(pixels, width: width, height: height, channels: channels,
                    invertedCMYK: header.adobe, orientation: orientation)
        }
    }

    /// libjpeg's message as an ImageError; running out of data is reported as truncation.
    private static func failure(_ message: String, name: String) -> ImageError {
        // JWRN_JPEG_EOF, emitted when the source runs dry and libjpeg pads with an EOI marker.
        if message.contains("Premature end of JPEG file") {
            return .truncated(name: name, format: .jpeg)
        }
        if message.contains("Unsupported") || message.contains("not supported")
            || message.contains("Requested features are incompatible") {
            return .unsupported(name: name, reason: message)
        }
        return .corrupt(name: name, format: .jpeg, reason: message)
    }

    private static func toImage(_ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                                channels: Int, invertedCMYK: Bool,
                                orientation: EXIFOrientation) -> Image {
        unitFromByte.withUnsafeBufferPointer { unit in
            switch channels {
            case 1:
                return makeImage(width: width, height: height, orientation: orientation) { i in
                    let v = unit[Int(pixels[i])]
                    return (v, v, v)
                }
            case 3:
                return makeImage(width: width, height: height, orientation: orientation) { i in
                    (unit[Int(pixels[3 * i])], unit[Int(pixels[3 * i + 1])], unit[Int(pixels[3 * i + 2])])
                }
            default:
                // CMYK is subtractive: each ink removes its complement from white, and black
                // removes from all three, so R = (1 − C)(1 − K) and so on. Adobe files store
                // 1 − ink, which turns the formula into a plain product.
                return makeImage(width: width, height: height, orientation: orientation) { i in
                    var c = unit[Int(pixels[4 * i])], m = unit[Int(pixels[4 * i + 1])]
                    var y = unit[Int(pixels[4 * i + 2])], k = unit[Int(pixels[4 * i + 3])]
                    if !invertedCMYK { (c, m, y, k) = (1 - c, 1 - m, 1 - y, 1 - k) }
                    return (c * k, m * k, y * k)
                }
            }
        }
    }

    // MARK: - Encoding

    /// Baseline JPEG of the image's RGB. Chroma is kept at full resolution for quality 90 and
    /// above (where 4:2:0's colour smearing around edges would be the largest error left), and
    /// halved below, as libjpeg's own tools and ImageMagick choose.
    static func encode(_ image: Image, quality: Int, name: String) throws(ImageError) -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw .encodingFailed(name: name, reason: "JPEG quality must be 1...100, got \(quality)")
        }
        let tj = try TurboJPEG.get(name: name)
        guard let handle = tj.initCompress() else {
            throw .codecUnavailable(name: name, reason: "TurboJPEG could not start a compressor")
        }
        defer { _ = tj.destroy(handle) }

        let rgb = interleavedRGB8(image)
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let subsampling = quality >= 90 ? TurboJPEG.subsampling444 : TurboJPEG.subsampling420
        let status = rgb.withUnsafeBufferPointer { input in
            tj.compress(handle, input.baseAddress, Int32(image.width), 0, Int32(image.height),
                        TurboJPEG.pixelFormatRGB, &output, &size, subsampling, Int32(quality),
                        TurboJPEG.flagAccurateDCT)
        }
        defer { tj.free(output) }
        guard status == 0, let output else {
            throw .encodingFailed(name: name, reason: tj.message(handle))
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}
