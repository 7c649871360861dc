#!/usr/bin/env bash
# How a Gatys iteration scales with the picture: seconds per iteration and peak memory at
# 256, 512, 1024 and 2048 pixels on the longer side (4:3), one process per size.
#
#   bash scripts/bench-scale.sh            env: PRECISIONS (default "bf16 fp32"), ITERATIONS (default 4)
#
# Prints each run's JSON, then a table with the time per megapixel, which stays flat when time
# grows linearly in pixel count.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${ITERATIONS:-4}"
weights="${STYLIZE_CACHE:-$HOME/.cache/stylize}/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
bash scripts/install-deps.sh
bash scripts/fetch-weights.sh
swift build -c release --product stylize-bench >&2

log=$(mktemp)
for precision in ${PRECISIONS:-bf16 fp32}; do
    for size in 256x192 512x384 1024x768 2048x1536; do
        .build/release/stylize-bench --size "$size" --iterations "$iterations" --precision "$precision" \
            --weights "$weights" | tee -a "$log"
    done
done
python3 - "$log" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("\n| precision | size | s/iter | s/iter per megapixel | peak MiB |")
print("| --- | --- | --- | --- | --- |")
for r in runs:
    w, h = r["size"]
    mp = w * h / 1e6
    print(f"| {r['impl'].split()[1]} | {w}×{h} | {r['seconds_per_iteration']:.3f} | "
          f"{r['seconds_per_iteration'] / mp:.3f} | {r['peak_rss_mib']:.0f} |")
PY
rm -f "$log"
