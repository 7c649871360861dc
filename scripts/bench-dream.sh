#!/usr/bin/env bash
# Side-by-side benchmark of `stylize dream` against its PyTorch twin (Benchmarks/pytorch_dream.py,
# deepdream.ipynb's loop on VGG-19 to relu4_2): a 1024×768 picture, 4 octaves × 10 steps, same
# machine and thread count, alternating runs. Stylize is timed as a whole process (weights, decode
# and encode included); PyTorch only over its loop, which favours PyTorch.
#
#   bash scripts/bench-dream.sh
#
# Env: THREADS (default: all cores), ROUNDS (alternations, default 2), TILE (Stylize's
# --tile-size, default 512), ANCHORS (virtual environment with torch, default
# ~/.cache/stylize/anchors; created if missing). Prints each run and a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-$(nproc)}"
rounds="${ROUNDS:-2}"
tile="${TILE:-512}"
anchors="${ANCHORS:-$HOME/.cache/stylize/anchors}"
weights="${STYLIZE_CACHE:-$HOME/.cache/stylize}/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"

ANCHORS="$anchors" bash scripts/install-anchors.sh
# As on an AVX2-only CPU: PyTorch's own kernels are limited too, not only its oneDNN.
if [ "${ONEDNN_MAX_CPU_ISA:-${DNNL_MAX_CPU_ISA:-}}" = AVX2 ]; then export ATEN_CPU_CAPABILITY=avx2; fi
swift build -c release --product stylize >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A 1024×768 picture of smooth noise, written with Python's standard library (the cost does not
# depend on the picture).
python3 - "$work/photo.png" <<'PY'
import math, random, struct, sys, zlib
w, h = 1024, 768
random.seed(0)
waves = [(random.uniform(0.002, 0.05), random.uniform(0.002, 0.05), random.uniform(0, 6.3)) for _ in range(12)]
rows = []
for y in range(h):
    row = bytearray([0])
    for x in range(w):
        v = sum(math.sin(a * x + b * y + c) for a, b, c in waves)
        row += bytes((int(127 + 10 * v) & 255, int(127 + 9 * v + 40) & 255, int(127 - 10 * v) & 255))
    rows.append(bytes(row))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
log="$work/log"
for _ in $(seq "$rounds"); do
    /usr/bin/time -f '{"impl": "stylize", "seconds": %e, "peak_rss_mb": %M}' -o "$work/time" \
        env OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" .build/release/stylize dream "$work/photo.png" \
        -o "$work/out.png" --size 0 --tile-size "$tile" --quiet
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['peak_rss_mb']=round(d['peak_rss_mb']/1024,1); print(json.dumps(d))" "$work/time" | tee -a "$log"
    OMP_NUM_THREADS=$threads "$anchors/bin/python" Benchmarks/pytorch_dream.py --threads "$threads" --weights "$weights" \
        2>/dev/null | tee -a "$log"
done
python3 - "$log" <<'PY'
import json, sys, statistics
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def med(impl, key): return statistics.median(r[key] for r in runs if r["impl"] == impl)
def top(impl, key): return max(r[key] for r in runs if r["impl"] == impl)
s, p = med("stylize", "seconds"), med("pytorch", "seconds")
sm, pm = top("stylize", "peak_rss_mb"), top("pytorch", "peak_rss_mb")
print("\n| Stylize s | PyTorch s | time ratio | Stylize peak MB | PyTorch peak MB | memory ratio |")
print("| --- | --- | --- | --- | --- | --- |")
print(f"| {s:.1f} | {p:.1f} | {s / p:.2f} | {sm:.0f} | {pm:.0f} | {sm / pm:.2f} |")
PY
