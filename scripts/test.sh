#!/usr/bin/env bash
# The test command: installs what the tests need (idempotently), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-weights.sh
bash scripts/fetch-models.sh
swift test -c release
# The int8 networks' integer path without AVX-512 VNNI (weights split to 7 bits), as AVX2 CPUs
# run it: oneDNN reads ONEDNN_MAX_CPU_ISA when it starts, and the code asks oneDNN for the ISA.
ONEDNN_MAX_CPU_ISA=AVX2 swift test -c release --skip-build --filter StylizeONNXTests
