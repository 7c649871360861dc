import StylizeIO
import StylizeTensor

/// Runs a network that accepts only one input size over a picture of any size: overlapping tiles,
/// each stylized on its own, blended with smooth weights so that no seam shows.
///
/// Along each axis the tiles are spread evenly from edge to edge, neighbours overlapping by at
/// least `overlap` pixels. A tile's weight is 0 within `overlap / 4` pixels of an edge it shares
/// with a neighbour (where the network saw padding instead of the picture's continuation), rises
/// along a smoothstep to 1 at `overlap` − `overlap / 4` pixels, and is 1 at the picture's own
/// edges. Each pixel is the weighted mean of the tiles covering it, so the weights always add up
/// to one: a network that acts pixel by pixel gives exactly its untiled result, and one with a
/// local receptive field gives its untiled result wherever that field fits inside the dead zone.
public struct Tiling: Sendable, Equatable {
    /// Tile width and height in pixels (the network's input size).
    public var tileWidth: Int, tileHeight: Int
    /// The least overlap between neighbouring tiles, in pixels.
    public var overlap: Int

    /// - Precondition: tiles are larger than twice the overlap, and the overlap is at least 4.
    public init(tileWidth: Int, tileHeight: Int, overlap: Int) {
        precondition(overlap >= 4 && tileWidth > 2 * overlap && tileHeight > 2 * overlap,
                     "tiles of \(tileWidth)×\(tileHeight) cannot overlap by \(overlap)")
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.overlap = overlap
    }

    /// Tile origins along an axis of `length` pixels for tiles of `tile` pixels: the first at 0,
    /// the last at `length − tile`, the rest evenly between with overlaps of at least `overlap`.
    public func origins(length: Int, tile: Int) -> [Int] {
        guard length > tile else { return [0] }
        let stride = tile - overlap
        let count = (length - overlap + stride - 1) / stride
        return (0..<count).map { i in count == 1 ? 0 : Int((Double(i) * Double(length - tile) / Double(count - 1)).rounded()) }
    }

    /// Blending weights along one axis for a tile of `tile` pixels whose low and high edges do or
    /// do not touch a neighbour.
    func ramp(tile: Int, blendLow: Bool, blendHigh: Bool) -> [Float] {
        let dead = overlap / 4, rise = Float(overlap - 2 * dead)
        func weight(_ distance: Int) -> Float {
            let t = min(max((Float(distance - dead) + 0.5) / rise, 0), 1)
            return t * t * (3 - 2 * t)
        }
        return (0..<tile).map { i in
            (blendLow ? weight(i) : 1) * (blendHigh ? weight(tile - 1 - i) : 1)
        }
    }

    /// `body` applied tile by tile to `image` and blended. A picture smaller than a tile in some
    /// direction is first padded by reflection to the tile's size, and the result cropped back.
    ///
    /// - Parameter body: maps a `tileWidth`×`tileHeight` picture to one of the same size.
    public func apply<E: Error>(to image: Image, _ body: (Image) throws(E) -> Image) throws(E) -> Image {
        let (width, height) = (image.width, image.height)
        let source = image.reflectPadded(width: max(width, tileWidth), height: max(height, tileHeight))
        let (w, h) = (source.width, source.height)
        let xs = origins(length: w, tile: tileWidth), ys = origins(length: h, tile: tileHeight)
        var sum = Tensor(shape: [1, 3, h, w])
        var total = [Float](repeating: 0, count: w * h)
        for (row, y0) in ys.enumerated() {
            let wy = ramp(tile: tileHeight, blendLow: row > 0, blendHigh: row < ys.count - 1)
            for (column, x0) in xs.enumerated() {
                let wx = ramp(tile: tileWidth, blendLow: column > 0, blendHigh: column < xs.count - 1)
                let out = try body(source.cropped(x: x0, y: y0, width: tileWidth, height: tileHeight))
                precondition(out.width == tileWidth && out.height == tileHeight, "a tile came back \(out.width)×\(out.height)")
                out.pixels.withUnsafeBufferPointer { tile in
                    sum.withUnsafeMutableBufferPointer { acc in
                        for c in 0..<3 {
                            for y in 0..<tileHeight {
                                let src = tile.baseAddress! + (c * tileHeight + y) * tileWidth
                                let dst = acc.baseAddress! + (c * h + y0 + y) * w + x0
                                for x in 0..<tileWidth { dst[x] += wy[y] * wx[x] * src[x] }
                            }
                        }
                    }
                }
                for y in 0..<tileHeight {
                    for x in 0..<tileWidth { total[(y0 + y) * w + x0 + x] += wy[y] * wx[x] }
                }
            }
        }
        sum.withUnsafeMutableBufferPointer { acc in
            for c in 0..<3 {
                for i in 0..<(w * h) { acc[c * w * h + i] /= total[i] }
            }
        }
        return Image(pixels: sum).cropped(x: 0, y: 0, width: width, height: height)
    }
}
