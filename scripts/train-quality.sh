#!/usr/bin/env bash
# Quality of trained style networks, by `stylize measure` (its defaults: content at relu4_2,
# Gram style at relu1_1…relu5_1, neural-style's normalisation): each network's picture of PHOTO
# beside the photo itself and a 100-iteration Gatys run of the same painting, as a Markdown table.
#
#   bash scripts/train-quality.sh PAINTING PHOTO NETWORK.onnx [NETWORK.onnx ...]
#
# NETWORK.onnx@I measures style I of a network of several styles (`fast --model FILE --style I`).
# Env: OUT (folder for the pictures, default out/quality); GATYS=0 leaves the Gatys run out (it
# takes about a minute a photo). Every picture is at the photo's size.
# The issue's bar: a network's style distance at most a quarter of the photo's own.
set -euo pipefail
cd "$(dirname "$0")/.."
painting="$1" photo="$2"; shift 2
out="${OUT:-out/quality}"
mkdir -p "$out"
swift build -c release --product stylize >&2
bin=.build/release/stylize
base=$(basename "${photo%.*}")
# Every picture at the photo's own size, so that the distances compare like with like.
size=$(python3 - "$photo" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
if b[:8] == b"\x89PNG\r\n\x1a\n":
    w, h = struct.unpack(">II", b[16:24])
else:  # JPEG: the first start-of-frame marker holds the size
    i = 2
    while i < len(b):
        marker, length = b[i + 1], struct.unpack(">H", b[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", b[i + 5:i + 9]); break
        i += 2 + length
print(max(w, h))
PY
)
rows=("photo itself|$photo")
if [ "${GATYS:-1}" != 0 ]; then
    "$bin" "$photo" --style "$painting" --iterations 100 --image-size "$size" -o "$out/${base}_gatys100.png" --quiet
    rows+=("Gatys, 100 iterations|$out/${base}_gatys100.png")
fi
for net in "$@"; do
    file=${net%@*} name=$(basename "${net%.onnx}") choose=(--model "${net%@*}")
    if [ "$file" != "$net" ]; then  # FILE.onnx@I: style I of a network of several styles
        name="$(basename "${file%.onnx}")_style${net##*@}" choose+=(--style "${net##*@}")
    fi
    "$bin" fast "$photo" "${choose[@]}" -o "$out/${base}_${name}.png" --quiet
    rows+=("network $name|$out/${base}_${name}.png")
done
echo "| picture | content | style | style ÷ photo's |"
echo "| --- | --- | --- | --- |"
own=""
for row in "${rows[@]}"; do
    label=${row%%|*} pic=${row#*|}
    m=$("$bin" measure "$pic" --content "$photo" --style "$painting")
    c=$(awk '$1=="content" && NF==2{print $2}' <<<"$m") s=$(awk '$1=="style" && NF==2{print $2}' <<<"$m")
    [ -z "$own" ] && own=$s
    echo "| $label | $c | $s | $(python3 -c "print(f'{$s/$own:.3f}')") |"
done
