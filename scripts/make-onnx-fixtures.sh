#!/usr/bin/env bash
# Regenerates the per-operator ONNX fixtures (Tests/StylizeONNXTests/Fixtures) with onnxruntime.
# Only needed when adding a case: the fixtures are committed and the tests need no Python.
# Env: VENV (virtual environment with onnx, onnxruntime, numpy; default ~/.cache/stylize/fast-anchors,
# the benchmark's, created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-$HOME/.cache/stylize/fast-anchors}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import onnxruntime, onnx, numpy, PIL' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet onnxruntime==1.32.0 onnx numpy pillow
fi
"$venv/bin/python" scripts/make-onnx-fixtures.py "$@"
