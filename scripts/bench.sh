#!/usr/bin/env bash
# Side-by-side speed and memory benchmark: Stylize's Gatys iteration against PyTorch's
# (../shared/bench/pytorch_gatys.py), same machine, same thread count, alternating runs.
#
#   bash scripts/bench.sh [SIZES...]        default: 512x384 1024x768
#
# Env: PRECISIONS (Stylize's, default "fp32 bf16"), THREADS (default: all cores), ROUNDS (alternations, default 2), ITERATIONS (default 6),
# ANCHORS (virtual environment with torch, default ~/.cache/stylize/anchors; created if missing:
# torch from PyPI is several GB). Prints each run's JSON and a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-512x384 1024x768}")
read -r -a sizes <<<"${sizes[*]}"
threads="${THREADS:-$(nproc)}"
rounds="${ROUNDS:-2}"
iterations="${ITERATIONS:-6}"
anchors="${ANCHORS:-$HOME/.cache/stylize/anchors}"
weights="${STYLIZE_CACHE:-$HOME/.cache/stylize}/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
twin="../shared/bench/pytorch_gatys.py"

ANCHORS="$anchors" bash scripts/install-anchors.sh
swift build -c release --product stylize-bench >&2

log=$(mktemp)
for size in "${sizes[@]}"; do
    for _ in $(seq "$rounds"); do
        for precision in ${PRECISIONS:-fp32 bf16}; do
            OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads .build/release/stylize-bench \
                --size "$size" --iterations "$iterations" --precision "$precision" --weights "$weights" | tee -a "$log"
        done
        OMP_NUM_THREADS=$threads "$anchors/bin/python" "$twin" --weights "$weights" --size "$size" \
            --iterations "$iterations" --threads "$threads" 2>/dev/null | tee -a "$log"
    done
done
python3 - "$log" <<'PY'
import json, sys, statistics
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("\n| size | Stylize | s/iter | PyTorch s/iter | time ratio | Stylize peak MiB | PyTorch peak MiB | memory ratio |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for size in dict.fromkeys(tuple(r["size"]) for r in runs):
    theirs = [r for r in runs if tuple(r["size"]) == size and r["impl"].startswith("pytorch")]
    t = statistics.median(r["seconds_per_iteration"] for r in theirs)
    tm = max(r["peak_rss_mib"] for r in theirs)
    for impl in dict.fromkeys(r["impl"] for r in runs if r["impl"].startswith("stylize")):
        ours = [r for r in runs if tuple(r["size"]) == size and r["impl"] == impl]
        if not ours: continue
        o = statistics.median(r["seconds_per_iteration"] for r in ours)
        om = max(r["peak_rss_mib"] for r in ours)
        print(f"| {size[0]}×{size[1]} | {impl.split()[1]} | {o:.3f} | {t:.3f} | {o / t:.2f} | {om:.0f} | {tm:.0f} | {om / tm:.2f} |")
PY
rm -f "$log"
