#!/usr/bin/env bash
# Time per iteration of each style loss against the Gram loss's, at 512×384 (stylize-bench: VGG-19
# forward and backward, content at relu4_2, the style loss at its default layers, one L-BFGS step),
# alternating the losses for ROUNDS rounds on one machine; prints each run and a table of medians.
#
#   bash scripts/bench-style-losses.sh
#
# Env: SIZE (default 512x384), ITERATIONS (per run, default 8), ROUNDS (default 2), PRECISION
# (auto, fp32 or bf16; default auto), THREADS (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
size="${SIZE:-512x384}"
iterations="${ITERATIONS:-8}"
rounds="${ROUNDS:-2}"
precision="${PRECISION:-auto}"
threads="${THREADS:-$(nproc)}"
swift build -c release --product stylize-bench >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for _ in $(seq "$rounds"); do
    for loss in gram mean-std w2 histogram mrf; do
        OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" .build/release/stylize-bench --size "$size" \
            --iterations "$iterations" --precision "$precision" --style-loss "$loss" | tee -a "$log"
    done
done
python3 - "$log" "$(grep -o 'avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')" <<'PY'
import json, sys, statistics
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
cpu = sys.argv[2].strip() or "no AVX-512 (AVX2)"
med = {}
for r in runs:
    med.setdefault(r["style_loss"], []).append(r["seconds_per_iteration"])
gram = statistics.median(med["gram"])
print(f"\nCPU flags: {cpu}; precision {runs[0]['impl'].split()[-1]}; {runs[0]['size'][0]}×{runs[0]['size'][1]}")
print("| style loss | s per iteration | relative to Gram |")
print("| --- | --- | --- |")
for name, times in med.items():
    m = statistics.median(times)
    print(f"| {name} | {m:.3f} | {m / gram:.2f} |")
PY
