#!/usr/bin/env bash
# Border and checkerboard artifacts of trained style networks (scripts/artifact-check.py says
# what is measured), on photos, with crops of each picture's corners and centre.
#
#   bash scripts/artifact-check.sh PHOTO NETWORK [NETWORK ...]
#
# NETWORK: an ONNX file (`stylize fast --model`), or style:N for multistyle26's style N (the
# pretrained network `stylize fast --style N` runs), as a reference; FILE.onnx@I for style I of a
# network of several styles.
#
# Env: OUT (folder for pictures and crops, default out/artifacts); PAD (default 64).
set -euo pipefail
cd "$(dirname "$0")/.."
photo="$1"; shift
out="${OUT:-out/artifacts}" pad="${PAD:-64}"
mkdir -p "$out"
bash scripts/install-anchors.sh >&2
python="${ANCHORS:-$HOME/.cache/stylize/anchors}/bin/python"
"$python" -c 'import PIL' 2>/dev/null || "${python%/python}/pip" install --quiet pillow
swift build -c release --product stylize >&2
bin=.build/release/stylize
base=$(basename "${photo%.*}")
"$python" scripts/artifact-check.py pad "$photo" "$pad" "$out/${base}_padded.png"
echo "| network | photo | border change | interior change | 4-px grid (grey levels) | grid z |"
echo "| --- | --- | --- | --- | --- | --- |"
for net in "$@"; do
    case "$net" in
        style:*) name="multistyle26 style ${net#style:}" file="style${net#style:}" choose=(--style "${net#style:}") ;;
        *@*) name="$(basename "${net%.onnx@*}") style ${net##*@}" file="$(basename "${net%.onnx@*}")_style${net##*@}"
             choose=(--model "${net%@*}" --style "${net##*@}") ;;
        *) name=$(basename "${net%.onnx}") file="$name" choose=(--model "$net") ;;
    esac
    "$bin" fast "$photo" "${choose[@]}" -o "$out/${base}_${file}.png" --quiet
    "$bin" fast "$out/${base}_padded.png" "${choose[@]}" -o "$out/${base}_${file}_padded.png" --quiet
    read -r _ border _ interior _ grid _ z < <("$python" scripts/artifact-check.py "$photo" "$out/${base}_${file}.png" \
        "$out/${base}_${file}_padded.png" "$pad" "$out/${base}_${file}_crops.png")
    echo "| $name | $base | $border | $interior | $grid | $z |"
done
