#!/usr/bin/env bash
# The PyTorch side of the benchmarks: a virtual environment with torch and numpy from PyPI, made
# only when missing (torch is a large download). Also installs Stylize's build dependencies and
# fetches the VGG-19 weights both sides load.
#
#   bash scripts/install-anchors.sh        Env: ANCHORS (default ~/.cache/stylize/anchors)
set -euo pipefail
cd "$(dirname "$0")/.."
anchors="${ANCHORS:-$HOME/.cache/stylize/anchors}"
bash scripts/install-deps.sh
bash scripts/fetch-weights.sh
# GNU time measures the peak memory of whole processes (bench-dream.sh and the comparisons).
if [ ! -x /usr/bin/time ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q time >/dev/null
fi
if [ ! -x "$anchors/bin/python" ] || ! "$anchors/bin/python" -c 'import torch' 2>/dev/null; then
    echo "installing torch into $anchors (large download)" >&2
    python3 -m venv "$anchors"
    "$anchors/bin/pip" install --quiet torch numpy
fi
