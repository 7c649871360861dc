#!/usr/bin/env bash
# The test command: installs what the tests need (idempotently), then runs the whole suite. On an
# AVX-512 host it runs the suite a second time as on an AVX2-only CPU (oneDNN's ISA limit, which
# Stylize's own CPU checks honour), so both kernel families are tested on every machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-weights.sh
bash scripts/fetch-models.sh
# The exported networks are checked against onnxruntime (unless STYLIZE_TEST_PYTHON names another Python).
[ -n "${STYLIZE_TEST_PYTHON:-}" ] || bash scripts/install-onnxruntime.sh
swift test -c release
if grep -qw avx512f /proc/cpuinfo && [ -z "${ONEDNN_MAX_CPU_ISA:-}${DNNL_MAX_CPU_ISA:-}" ]; then
    echo "== the suite again as on an AVX2-only CPU (ONEDNN_MAX_CPU_ISA=AVX2)" >&2
    ONEDNN_MAX_CPU_ISA=AVX2 swift test -c release --skip-build
fi
