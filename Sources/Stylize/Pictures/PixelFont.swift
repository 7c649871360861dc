import StylizeIO

/// A 5×7 bitmap font for the contact sheets' labels: the digits, the letters of "original" and of
/// VGG-19's layer names, and the signs of channel expressions (+ - . * _), drawn in black, each font pixel a `scale`×`scale` block. Bitmaps instead of a font library,
/// because the labels are a few known words and the project links no text renderer.
enum PixelFont {
    static let glyphWidth = 5, glyphHeight = 7, spacing = 1

    private static let glyphs: [Character: [String]] = [
        "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
        "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
        "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
        "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
        "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
        "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
        "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
        "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
        "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
        "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
        "o": [".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."],
        "r": [".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."],
        "i": ["..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."],
        "g": [".....", ".####", "#...#", "#...#", ".####", "....#", ".###."],
        "n": [".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"],
        "a": [".....", ".....", ".###.", "....#", ".####", "#...#", ".####"],
        "l": [".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
        "e": [".....", ".....", ".###.", "#...#", "#####", "#....", ".###."],
        "u": [".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"],
        "_": [".....", ".....", ".....", ".....", ".....", ".....", "#####"],
        "+": [".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."],
        "-": [".....", ".....", ".....", "#####", ".....", ".....", "....."],
        ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
        "*": [".....", "#.#.#", ".###.", "#####", ".###.", "#.#.#", "....."],
    ]

    /// The width in pixels of `text` at `scale`.
    static func width(of text: String, scale: Int) -> Int {
        max(text.count * (glyphWidth + spacing) - spacing, 0) * scale
    }

    /// Draws `text` in black with its top-left corner at (`x`, `y`); characters without a glyph
    /// are left blank, and whatever falls outside the picture is clipped.
    static func draw(_ text: String, into image: inout Image, x: Int, y: Int, scale: Int) {
        let (w, h) = (image.width, image.height)
        image.pixels.withUnsafeMutableBufferPointer { p in
            for (n, character) in text.enumerated() {
                guard let rows = glyphs[character] else { continue }
                let left = x + n * (glyphWidth + spacing) * scale
                for (row, bits) in rows.enumerated() {
                    for (column, bit) in bits.enumerated() where bit == "#" {
                        for dy in 0..<scale {
                            for dx in 0..<scale {
                                let px = left + column * scale + dx, py = y + row * scale + dy
                                guard (0..<w).contains(px), (0..<h).contains(py) else { continue }
                                for c in 0..<3 { p[(c * h + py) * w + px] = 0 }
                            }
                        }
                    }
                }
            }
        }
    }
}
