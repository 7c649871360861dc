#!/usr/bin/env bash
# Regenerates the per-operator ONNX fixtures (Tests/StylizeONNXTests/Fixtures) with onnxruntime.
# Only needed when adding a case: the fixtures are committed and the tests need no Python.
# Env: VENV (virtual environment with onnx, onnxruntime, numpy; default ~/.cache/stylize/fast-anchors,
# the benchmark's, created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-$HOME/.cache/stylize/fast-anchors}"
VENV="$venv" bash scripts/install-onnxruntime.sh
"$venv/bin/python" scripts/make-onnx-fixtures.py "$@"
