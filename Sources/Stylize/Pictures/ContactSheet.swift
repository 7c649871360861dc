import StylizeIO
import StylizeTensor

/// All of a conditional network's styles on one photo, in a labelled grid on white: the photo
/// first ("original"), then each style under its index, to pick one for `--style`.
public enum ContactSheet {
    /// Lays out `tiles` (each with its label) in rows of `columns`, a `gap` of white around each
    /// and a label line above it. Tiles may differ in size; each cell is as large as the largest.
    public static func grid(_ tiles: [(label: String, image: Image)], columns: Int = 7, gap: Int = 8) -> Image {
        precondition(!tiles.isEmpty && columns >= 1, "a contact sheet needs tiles")
        let scale = 2
        let labelHeight = PixelFont.glyphHeight * scale + 6
        let cellWidth = tiles.map(\.image.width).max()!, cellHeight = tiles.map(\.image.height).max()!
        let columns = min(columns, tiles.count)
        let rows = (tiles.count + columns - 1) / columns
        let width = gap + columns * (cellWidth + gap)
        let height = gap + rows * (labelHeight + cellHeight + gap)
        var sheet = Image(pixels: Tensor(shape: [1, 3, height, width], repeating: 1))
        for (n, tile) in tiles.enumerated() {
            let x = gap + (n % columns) * (cellWidth + gap)
            let y = gap + (n / columns) * (labelHeight + cellHeight + gap)
            paste(tile.image, into: &sheet, x: x, y: y + labelHeight)
            PixelFont.draw(tile.label, into: &sheet, x: x + 1, y: y + 2, scale: scale)
        }
        return sheet
    }

    /// Every style of `network` on `photo` (already at the tile size), the photo first.
    ///
    /// - Parameter progress: called after each style with the number done and the total.
    public static func make(photo: Image, network: MultiStyleNetwork, options: FastStyleOptions = FastStyleOptions(),
                            progress: (Int, Int) -> Void = { _, _ in }) throws(FastStyleError) -> Image {
        var tiles: [(label: String, image: Image)] = [("original", photo)]
        for index in 0..<network.styleCount {
            let stylized = try network.stylize(photo, weights: StyleWeights(index: index, count: network.styleCount))
            tiles.append(("\(index)", options.finish(stylized, photo: photo)))
            progress(index + 1, network.styleCount)
        }
        return grid(tiles)
    }

    private static func paste(_ tile: Image, into sheet: inout Image, x: Int, y: Int) {
        let (w, h) = (sheet.width, sheet.height)
        let (tw, th) = (tile.width, tile.height)
        tile.pixels.withUnsafeBufferPointer { src in
            sheet.pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    for row in 0..<th {
                        (dst.baseAddress! + (c * h + y + row) * w + x).update(from: src.baseAddress! + (c * th + row) * tw, count: tw)
                    }
                }
            }
        }
    }
}
