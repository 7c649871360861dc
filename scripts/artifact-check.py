"""Border and checkerboard artifacts of a style network's picture, measured, with crops to show.

    python artifact-check.py pad PHOTO PAD OUT.png          (PHOTO reflect-padded by PAD pixels)
    python artifact-check.py PHOTO PICTURE PADDED_PICTURE PAD CROPS.png

PICTURE is the network's picture of PHOTO; PADDED_PICTURE its picture of PHOTO reflect-padded by
PAD pixels on every side (the crop back to PHOTO's frame is taken here). Prints one line:

- border: mean absolute difference (0-255) between the two pictures in the outer 16-pixel frame,
  and in the interior. A network that paints something of its own at the picture's edge (a dark
  rim, a glow) changes it when the edge moves PAD pixels away; a clean one changes the frame no
  more than the interior.
- grid: how strongly the picture repeats with a period of 4 pixels (the network's two stride-2
  levels; transposed convolutions leave such a grid, and so can nearest upsampling): the mean of
  its high-pass (the picture minus a 5x5 box mean, grey levels) over each of the 16 positions
  modulo 4, and the spread (standard deviation) of those 16 means in grey levels, then as a
  z-score against the spread that chance alone would give (about 1 for a natural picture).

CROPS.png: the four 96-pixel corners and the centre of PICTURE, enlarged 2x, side by side.
"""
import sys

import numpy as np
from PIL import Image


def load(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)


def main():
    if sys.argv[1] == "pad":
        photo, pad, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        Image.fromarray(np.pad(load(photo), ((pad, pad), (pad, pad), (0, 0)), mode="reflect").astype(np.uint8)).save(out)
        return
    photo, picture, padded, pad, crops = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    a = load(picture)
    h, w = a.shape[:2]
    b = load(padded)[pad:pad + h, pad:pad + w]
    assert b.shape == a.shape, f"{padded}: expected {w}x{h} after removing {pad} px, got {b.shape[1]}x{b.shape[0]}"
    diff = np.abs(a - b).mean(axis=2)
    frame = np.zeros((h, w), bool)
    frame[:16], frame[-16:], frame[:, :16], frame[:, -16:] = True, True, True, True
    inner = np.zeros((h, w), bool)
    inner[48:-48, 48:-48] = True

    grey = a.mean(axis=2)
    k = 5
    padded_grey = np.pad(grey, k // 2, mode="reflect")
    sums = np.pad(np.cumsum(np.cumsum(padded_grey, 0), 1), ((1, 0), (1, 0)))
    box = (sums[k:k + h, k:k + w] - sums[:h, k:k + w] - sums[k:k + h, :w] + sums[:h, :w]) / (k * k)
    p = 4
    high = (grey - box)[:h // p * p, :w // p * p]
    means = high.reshape(h // p, p, w // p, p).mean(axis=(0, 2))
    chance = high.std() / np.sqrt((h // p) * (w // p))
    print(f"border {diff[frame].mean():.2f} interior {diff[inner].mean():.2f} grid {means.std():.2f} z {means.std() / chance:.1f}")

    s = 96
    image = Image.open(picture).convert("RGB")
    boxes = [(0, 0), (w - s, 0), (0, h - s), (w - s, h - s), ((w - s) // 2, (h - s) // 2)]
    sheet = Image.new("RGB", (len(boxes) * (2 * s + 4) - 4, 2 * s), (255, 255, 255))
    for k, (x, y) in enumerate(boxes):
        tile = image.crop((x, y, x + s, y + s)).resize((2 * s, 2 * s), Image.NEAREST)
        sheet.paste(tile, (k * (2 * s + 4), 0))
    sheet.save(crops)


if __name__ == "__main__":
    main()
