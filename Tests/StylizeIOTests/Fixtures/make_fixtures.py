#!/usr/bin/env python3
"""Makes the small image fixtures that Tests/StylizeIOTests/Image*Tests.swift decode.

The fixtures are committed, so the tests never need Python. To regenerate:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pillow
    /tmp/venv/bin/python Tests/StylizeIOTests/Fixtures/make_fixtures.py

Every picture is four solid quadrants of known colours, so that a test can check the colour at
each quadrant's centre and, for the EXIF fixtures, where each quadrant ended up. PNGs are written
by hand (zlib + struct) so that every colour type and bit depth is exactly what the name says;
JPEGs go through Pillow (libjpeg).
"""
import io
import os
import struct
import zlib

from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))

# Quadrant colours, in the order top-left, top-right, bottom-left, bottom-right.
# ImageDecodingTests.swift repeats these values.
RGB = [(220, 20, 60), (30, 160, 90), (40, 70, 200), (250, 240, 110)]
GRAY = [10, 100, 180, 250]
ALPHA = [255, 128, 0, 64]
RGB16 = [(65535, 1000, 30001), (0, 40000, 12345), (257, 65534, 500), (33333, 22222, 11111)]
GRAY16 = [1, 1000, 30001, 65535]


def quadrant(x, y, w, h):
    return (0 if y < h // 2 else 2) + (0 if x < w // 2 else 1)


# --- PNG, by hand -------------------------------------------------------------------------------

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, bit_depth, color_type, rows, extra=b""):
    """rows: list of raw (unfiltered) scanline bytes."""
    raw = b"".join(b"\x00" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def image_rows(w, h, pixel):
    """pixel(q) -> bytes for one pixel of quadrant q."""
    return [b"".join(pixel(quadrant(x, y, w, h)) for x in range(w)) for y in range(h)]


def packed_rows(w, h, bits, index):
    """Sub-byte samples (palette or gray below 8 bits), packed MSB first."""
    rows = []
    for y in range(h):
        acc, n, out = 0, 0, bytearray()
        for x in range(w):
            acc = (acc << bits) | index(quadrant(x, y, w, h))
            n += bits
            if n == 8:
                out.append(acc)
                acc, n = 0, 0
        if n:
            out.append(acc << (8 - n))
        rows.append(bytes(out))
    return rows


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def make_pngs():
    w, h = 8, 6
    write("rgb8.png", png(w, h, 8, 2, image_rows(w, h, lambda q: bytes(RGB[q]))))
    write("rgba8.png", png(w, h, 8, 6, image_rows(w, h, lambda q: bytes(RGB[q] + (ALPHA[q],)))))
    write("gray8.png", png(w, h, 8, 0, image_rows(w, h, lambda q: bytes([GRAY[q]]))))
    write("graya8.png", png(w, h, 8, 4, image_rows(w, h, lambda q: bytes([GRAY[q], ALPHA[q]]))))
    write("gray16.png", png(w, h, 16, 0, image_rows(w, h, lambda q: struct.pack(">H", GRAY16[q]))))
    write("rgb16.png", png(w, h, 16, 2, image_rows(w, h, lambda q: struct.pack(">3H", *RGB16[q]))))
    write("rgba16.png", png(w, h, 16, 6, image_rows(
        w, h, lambda q: struct.pack(">4H", *RGB16[q], ALPHA[q] * 257))))
    # 2-bit palette with tRNS: exercises sub-byte unpacking and palette transparency.
    plte = chunk(b"PLTE", b"".join(bytes(c) for c in RGB))
    trns = chunk(b"tRNS", bytes(ALPHA))
    write("palette2.png", png(w, h, 2, 3, packed_rows(w, h, 2, lambda q: q), plte + trns))

    # Headers that must be refused before any pixel memory is allocated.
    write("huge_header.png", png(100000, 100000, 8, 2, [b"\x00\x00\x00"]))
    write("zero_width.png", png(0, 6, 8, 2, []))


# --- JPEG, through Pillow -----------------------------------------------------------------------

def quadrant_image(mode, colours, w=64, h=32):
    im = Image.new(mode, (w, h))
    for q, c in enumerate(colours):
        x0, y0 = (q % 2) * (w // 2), (q // 2) * (h // 2)
        im.paste(c, (x0, y0, x0 + w // 2, y0 + h // 2))
    return im


def jpeg_bytes(im, **kw):
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def segments(data):
    """Yields (offset, marker, length including the 2 marker bytes) for segments before SOS."""
    i = 2
    while i < len(data):
        assert data[i] == 0xFF
        m = data[i + 1]
        n = struct.unpack(">H", data[i + 2:i + 4])[0]
        yield i, m, n + 2
        if m == 0xDA:
            return
        i += n + 2


def strip_segments(data, marker):
    out, last = bytearray(data[:2]), 2
    for off, m, n in segments(data):
        if m == marker:
            out += data[last:off]
            last = off + n
    out += data[last:]
    return bytes(out)


def patch_sof_size(data, width, height):
    for off, m, n in segments(data):
        if m in (0xC0, 0xC1, 0xC2):
            b = bytearray(data)
            b[off + 5:off + 9] = struct.pack(">HH", height, width)
            return bytes(b)
    raise ValueError("no SOF")


# Where each stored quadrant lands after applying EXIF orientation 1...8, listed as the stored
# quadrant index found at the displayed TL, TR, BL, BR. Checked against Pillow's exif_transpose
# below; ImageDecodingTests.swift holds the same table.
ORIENTED = {
    1: [0, 1, 2, 3], 2: [1, 0, 3, 2], 3: [3, 2, 1, 0], 4: [2, 3, 0, 1],
    5: [0, 2, 1, 3], 6: [2, 0, 3, 1], 7: [3, 1, 2, 0], 8: [1, 3, 0, 2],
}


def nearest(c):
    return min(range(4), key=lambda q: sum((a - b) ** 2 for a, b in zip(c, RGB[q])))


def make_jpegs():
    rgb = quadrant_image("RGB", RGB)
    write("baseline.jpg", jpeg_bytes(rgb, quality=95, subsampling=0))
    write("progressive.jpg", jpeg_bytes(rgb, quality=90, subsampling=2, progressive=True))
    write("gray.jpg", jpeg_bytes(quadrant_image("L", GRAY), quality=95))

    # Inks (C, M, Y, K) and the RGB they stand for: red, green, 50% black, a light violet.
    inks = [(0, 255, 255, 0), (255, 0, 255, 0), (0, 0, 0, 128), (51, 102, 0, 0)]
    # Pillow writes CMYK the Adobe way (stored = 255 - ink) and libjpeg adds the APP14 marker.
    write("cmyk_adobe.jpg", jpeg_bytes(quadrant_image("CMYK", inks), quality=95))
    # Plain CMYK: stored = ink and no APP14 marker. Hand Pillow the complement so that its own
    # inversion stores the inks themselves, then drop the Adobe segment.
    complement = [tuple(255 - v for v in ink) for ink in inks]
    plain = strip_segments(jpeg_bytes(quadrant_image("CMYK", complement), quality=95), 0xEE)
    write("cmyk_plain.jpg", plain)

    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        data = jpeg_bytes(rgb, quality=95, subsampling=0, exif=exif.tobytes())
        write(f"orient{o}.jpg", data)
        shown = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        w, h = shown.size
        assert (w, h) == ((64, 32) if o <= 4 else (32, 64)), (o, shown.size)
        centres = [(w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4)]
        found = [nearest(shown.getpixel(p)) for p in centres]
        assert found == ORIENTED[o], (o, found)

    # Fatal libjpeg error (error_exit, not a warning): no quantization tables. (Missing Huffman
    # tables would not do: libjpeg-turbo falls back to the standard ones, as Motion-JPEG needs.)
    write("no_quant_table.jpg", strip_segments(jpeg_bytes(rgb, quality=95, subsampling=0), 0xDB))
    small = jpeg_bytes(quadrant_image("RGB", RGB, 16, 16), quality=90)
    write("huge_header.jpg", patch_sof_size(small, 65535, 65535))
    write("zero_height.jpg", patch_sof_size(small, 16, 0))


def main():
    make_pngs()
    make_jpegs()
    write("not_image.txt", b"This is a text file, not a picture.\n")
    # A PNG under a JPEG name: decoding goes by content, not extension.
    with open(os.path.join(HERE, "rgb8.png"), "rb") as f:
        write("png_named.jpg", f.read())


if __name__ == "__main__":
    main()
