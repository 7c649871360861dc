#!/usr/bin/env bash
# Installs the Python with onnxruntime that the tests cross-check exported networks with (and
# that the fixture and benchmark scripts use): a virtual environment with onnxruntime 1.32.0,
# onnx, numpy and pillow. Idempotent: installs only when importing them fails.
# Env: VENV (default ~/.cache/stylize/fast-anchors; the tests find its bin/python there, or
# through STYLIZE_TEST_PYTHON).
set -euo pipefail
venv="${VENV:-$HOME/.cache/stylize/fast-anchors}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import onnxruntime, onnx, numpy, PIL' 2>/dev/null; then
    exit 0
fi
echo "installing onnxruntime into $venv" >&2
if ! python3 -c 'import ensurepip' 2>/dev/null; then
    # Debian keeps venv's pip bootstrap in a package of its own.
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-venv >/dev/null
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet onnxruntime==1.32.0 onnx numpy pillow
