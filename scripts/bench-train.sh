#!/usr/bin/env bash
# Side-by-side benchmark of one training step (`stylize train`) against PyTorch's
# (Benchmarks/pytorch_train.py, pytorch/examples fast_neural_style's step): same machine, same
# thread count, same network and loss layers, alternating runs.
#
#   bash scripts/bench-train.sh
#
# Env: PRECISIONS (Stylize's VGG-19 arithmetic, default "fp32 bf16"; bf16 is skipped where the CPU
# lacks AVX-512), THREADS (default: all cores), ROUNDS (alternations, default 2), STEPS (default 6),
# CHANNELS (default 32,64,128), ANCHORS (virtual environment with torch, default
# ~/.cache/stylize/anchors; created if missing). Prints each run's JSON and a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-$(nproc)}"
rounds="${ROUNDS:-2}"
steps="${STEPS:-6}"
channels="${CHANNELS:-32,64,128}"
anchors="${ANCHORS:-$HOME/.cache/stylize/anchors}"
weights="${STYLIZE_CACHE:-$HOME/.cache/stylize}/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"

ANCHORS="$anchors" bash scripts/install-anchors.sh
# As on an AVX2-only CPU: PyTorch's own kernels are limited too, not only its oneDNN.
if [ "${ONEDNN_MAX_CPU_ISA:-${DNNL_MAX_CPU_ISA:-}}" = AVX2 ]; then export ATEN_CPU_CAPABILITY=avx2; fi
swift build -c release --product stylize-train-bench >&2
precisions="${PRECISIONS:-fp32 bf16}"
if ! grep -q avx512 /proc/cpuinfo || [ "${ONEDNN_MAX_CPU_ISA:-}" = AVX2 ]; then precisions="fp32"; fi

log=$(mktemp)
for _ in $(seq "$rounds"); do
    for precision in $precisions; do
        OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads .build/release/stylize-train-bench \
            --steps "$steps" --channels "$channels" --precision "$precision" --weights "$weights" | tee -a "$log"
    done
    OMP_NUM_THREADS=$threads "$anchors/bin/python" Benchmarks/pytorch_train.py --steps "$steps" --threads "$threads" \
        --channels "$channels" --weights "$weights" 2>/dev/null | tee -a "$log"
done
python3 - "$log" <<'PY'
import json, sys, statistics
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
theirs = [r for r in runs if r["impl"] == "pytorch"]
t = statistics.median(r["images_per_s"] for r in theirs)
tm = max(r["peak_rss_mb"] for r in theirs)
print("\n| Stylize | images/s | PyTorch images/s | speed ratio | Stylize peak MB | PyTorch peak MB | memory ratio |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for impl in dict.fromkeys(r["impl"] for r in runs if r["impl"] != "pytorch"):
    ours = [r for r in runs if r["impl"] == impl]
    o = statistics.median(r["images_per_s"] for r in ours)
    om = max(r["peak_rss_mb"] for r in ours)
    print(f"| {impl.split()[1]} | {o:.3f} | {t:.3f} | {o / t:.2f} | {om:.0f} | {tm:.0f} | {om / tm:.2f} |")
PY
rm -f "$log"
