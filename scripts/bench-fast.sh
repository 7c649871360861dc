#!/usr/bin/env bash
# Side-by-side speed and memory benchmark of the feed-forward style networks: Stylize's ONNX
# executor (Benchmarks/stylize-fast-bench) against onnxruntime (Benchmarks/onnxruntime_fast.py),
# same machine, same thread count, one network and size per process, runs alternating, medians.
#
#   bash scripts/bench-fast.sh [CASES...]
#
# A case is MODEL@WxH; default: multistyle26 at 512x384, 1024x768 and 2048x1536,
# arbitrary_transform at 384x384 (the anchor's size), 1024x768 and 2048x1536 (full resolution,
# both on the whole picture: Stylize with the declared 384×384 relaxed, onnxruntime with symbolic
# input dims), and arbitrary_predict at 256x256.
# Env: THREADS (default 2), ROUNDS (alternations, default 3), RUNS (timed runs per process after a
# warm-up, default 5), ANCHORS (virtual environment with onnxruntime, default
# ~/.cache/stylize/fast-anchors; created if missing), SCRATCH (SwiftPM build folder, default .build).
# Prints each run's JSON and a summary table in Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=("$@")
((${#cases[@]})) || cases=(multistyle26@512x384 multistyle26@1024x768 multistyle26@2048x1536
    arbitrary_transform@384x384 arbitrary_transform@1024x768 arbitrary_transform@2048x1536
    arbitrary_predict@256x256)
threads="${THREADS:-2}"
rounds="${ROUNDS:-3}"
runs="${RUNS:-5}"
anchors="${ANCHORS:-$HOME/.cache/stylize/fast-anchors}"
scratch="${SCRATCH:-.build}"

bash scripts/install-deps.sh
bash scripts/fetch-models.sh
VENV="$anchors" bash scripts/install-onnxruntime.sh
swift build -c release --scratch-path "$scratch" --product stylize-fast-bench >&2
bench="$scratch/release/stylize-fast-bench"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for _ in $(seq "$rounds"); do
    for c in "${cases[@]}"; do
        model=${c%@*} size=${c#*@}
        OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$bench" \
            --model "$model" --size "$size" --threads "$threads" --runs "$runs" | tee -a "$log"
        OMP_NUM_THREADS=$threads "$anchors/bin/python" Benchmarks/onnxruntime_fast.py \
            --model "$model" --size "$size" --threads "$threads" --runs "$runs" | tee -a "$log"
    done
done
python3 - "$log" <<'PY'
import json, sys, statistics
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("\n| network | size | Stylize s | onnxruntime s | time ratio | Stylize peak MiB | onnxruntime peak MiB | memory ratio |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for key in dict.fromkeys((r["model"], tuple(r["size"])) for r in runs):
    pick = lambda prefix: [r for r in runs if (r["model"], tuple(r["size"])) == key and r["impl"].startswith(prefix)]
    ours, theirs = pick("stylize"), pick("onnxruntime")
    if not ours or not theirs: continue
    o, t = statistics.median(r["seconds"] for r in ours), statistics.median(r["seconds"] for r in theirs)
    om, tm = max(r["peak_rss_mib"] for r in ours), max(r["peak_rss_mib"] for r in theirs)
    print(f"| {key[0]} | {key[1][0]}×{key[1][1]} | {o:.3f} | {t:.3f} | {o / t:.2f} | {om:.0f} | {tm:.0f} | {om / tm:.2f} |")
PY
