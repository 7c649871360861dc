import CEXIF
import StylizeTensor

/// The EXIF orientation tag (1–8): how a camera's stored pixels must be turned to appear upright.
///
/// Cameras store the sensor's pixels as they come and record the phone's attitude in this tag, so
/// a portrait photo is usually a landscape pixel grid tagged 6. Viewers apply the tag; style
/// transfer must too, or portraits come out sideways.
struct EXIFOrientation: Sendable, Equatable {
    /// 1 upright, 2 mirrored, 3 rotated 180°, 4 flipped, 5 transposed, 6 needs 90° clockwise,
    /// 7 transversed, 8 needs 90° counter-clockwise.
    let rawValue: Int

    static let upright = EXIFOrientation(rawValue: 1)

    /// Out-of-range values (0, or >8 from buggy writers) are treated as upright, as browsers do.
    init(rawValue: Int) {
        self.rawValue = (1...8).contains(rawValue) ? rawValue : 1
    }

    /// Orientations 5–8 turn the picture a quarter, so width and height trade places.
    var swapsAxes: Bool { rawValue >= 5 }

    /// Reads the tag from the payload of a JPEG APP1 segment (starting "Exif\0\0").
    ///
    /// Any trouble in the EXIF block (it is metadata, often mangled by editors) yields `upright`
    /// rather than an error: the pixels themselves are still good.
    static func read(app1 payload: ArraySlice<UInt8>) -> EXIFOrientation {
        guard let data = exif_data_new() else { return .upright }
        defer { exif_data_unref(data) }
        // Without this libexif "fixes" the block after loading, adding default entries we do not
        // want to read back as if the camera had written them.
        exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION)
        payload.withUnsafeBufferPointer { buffer in
            exif_data_load_data(data, buffer.baseAddress, UInt32(clamping: buffer.count))
        }
        guard let ifd0 = data.pointee.ifd.0,
              let entry = exif_content_get_entry(ifd0, EXIF_TAG_ORIENTATION),
              entry.pointee.format == EXIF_FORMAT_SHORT, entry.pointee.components >= 1,
              entry.pointee.size >= 2, let bytes = entry.pointee.data else { return .upright }
        let value = exif_get_short(bytes, exif_data_get_byte_order(data))
        return EXIFOrientation(rawValue: Int(value))
    }

    /// Where stored pixel (x, y) of a `width`×`height` grid lands in the displayed picture's
    /// row-major planes: at `start + x·dx + y·dy`. Every orientation is such an affine map, so
    /// decoders apply it while converting pixels, with no extra pass or buffer.
    func destinationSteps(width: Int, height: Int) -> (start: Int, dx: Int, dy: Int) {
        // The displayed width: a quarter turn makes the stored height the new width.
        let shown = swapsAxes ? height : width
        switch rawValue {
        case 2: return (width - 1, -1, shown)                                   // mirror
        case 3: return ((height - 1) * shown + width - 1, -1, -shown)           // 180°
        case 4: return ((height - 1) * shown, 1, -shown)                        // flip
        case 5: return (0, shown, 1)                                            // transpose
        case 6: return (height - 1, shown, -1)                                  // 90° clockwise
        case 7: return ((width - 1) * shown + height - 1, -shown, -1)           // transverse
        case 8: return ((width - 1) * shown, -shown, 1)                         // 90° counter-clockwise
        default: return (0, 1, shown)                                           // upright
        }
    }
}

/// Builds an image from stored pixels, applying `orientation` on the way.
///
/// `pixel(i)` gives the RGB of the i-th stored pixel in row-major order. Inlined so that each
/// decoder's conversion closure compiles into one tight loop over its buffer.
@inline(__always)
func makeImage(width: Int, height: Int, orientation: EXIFOrientation = .upright,
               _ pixel: (Int) -> (Float, Float, Float)) -> Image {
    let (shownWidth, shownHeight) = orientation.swapsAxes ? (height, width) : (width, height)
    let steps = orientation.destinationSteps(width: width, height: height)
    var tensor = Tensor(shape: [1, 3, shownHeight, shownWidth])
    tensor.withUnsafeMutableBufferPointer { buffer in
        let plane = width * height
        let red = buffer.baseAddress!, green = red + plane, blue = green + plane
        var source = 0
        for y in 0..<height {
            var destination = steps.start + y * steps.dy
            for _ in 0..<width {
                let (r, g, b) = pixel(source)
                red[destination] = r
                green[destination] = g
                blue[destination] = b
                destination += steps.dx
                source += 1
            }
        }
    }
    return Image(pixels: tensor)
}

/// 8-bit sample → [0, 1], by division so that every value is the float nearest k/255 (a
/// multiplication by 1/255 is off by an ulp for some k, and PNG round trips should be exact).
let unitFromByte: [Float] = (0...255).map { Float($0) / 255 }
