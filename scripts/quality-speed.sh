#!/usr/bin/env bash
# Quality against time: the old default (single scale, 500 L-BFGS iterations, no early stop)
# and the current defaults, at 512 px, on three photos from ../shared/images after three
# paintings (the photos are all about 3:2, so a 512-px iteration costs the same for each).
# Each run is one whole process, timed by the wall clock, the old and the new alternating; the
# pictures' content and style distances come from `stylize measure` (fp32, the user's weights).
#
#   bash scripts/quality-speed.sh [CONTENT:STYLE ...]
#
# Env: PRECISION (fp32, bf16 or auto; default fp32), ISA (sets ONEDNN_MAX_CPU_ISA, e.g. AVX2, to
# run oneDNN as on a CPU without AVX-512), THREADS (default: all cores), SIZE (default 512),
# OUT (folder for the pictures and times, default out/quality-speed), RUNS (which runs to do,
# default "old new", "" for none; a run left out is read back from OUT, where an earlier
# invocation with the same settings left its picture and times, to spread the runs over several
# sittings; a pair missing either run gets no row). Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
images=../shared/images
pairs=("$@")
((${#pairs[@]})) || pairs=("$images/coffee.png:$images/starry_night.jpg"
                            "$images/chelsea.png:$images/the_scream.jpg"
                            "$images/rocket.jpg:$images/shipwreck.jpg")
precision="${PRECISION:-fp32}"
threads="${THREADS:-$(nproc)}"
size="${SIZE:-512}"
out="${OUT:-out/quality-speed}"
mkdir -p "$out"
bin=.build/release/stylize
[ -x "$bin" ] || swift build -c release --product stylize >&2
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
[ -z "${ISA:-}" ] || export ONEDNN_MAX_CPU_ISA=$ISA

runs="${RUNS-old new}"

# run NAME KIND FLAGS…: runs stylize into $out/NAME_KIND.png and keeps the whole process's wall
# seconds in $out/NAME_KIND.seconds and its CPU seconds (user + system, all threads) in
# $out/NAME_KIND.cpu, unless KIND is not in $runs. On a machine that others load, the CPU
# seconds are the fairer measure of work: wall time there depends on their load.
run() {
    local name=$1 kind=$2 start end; shift 2
    [[ " $runs " == *" $kind "* ]] || return 0
    echo "$name: $kind default" >&2
    /usr/bin/time -f "%e %U %S" -o "$out/${name}_$kind.time" "$bin" "$@" -q -o "$out/${name}_$kind.png" >&2
    read -r wall user sys <"$out/${name}_$kind.time"
    echo "$wall" >"$out/${name}_$kind.seconds"
    python3 -c "print(f'{$user + $sys:.1f}')" >"$out/${name}_$kind.cpu"
}

# The content and style distances of a picture, "content style".
distances() {
    "$bin" measure "$1" --content "$2" --style "$3" | awk '$1=="content"&&NF==2{c=$2} $1=="style"&&NF==2{s=$2} END{print c, s}'
}

rows=()
for pair in "${pairs[@]}"; do
    content=${pair%%:*} style=${pair#*:}
    name="$(basename "${content%.*}")_$(basename "${style%.*}")"
    common=("$content" --style "$style" --image-size "$size" --precision "$precision")
    run "$name" old "${common[@]}" --scales 1 --iterations 500 --tolerance 0
    run "$name" new "${common[@]}"
    [ -f "$out/${name}_old.seconds" ] && [ -f "$out/${name}_new.seconds" ] || continue
    t_old=$(cat "$out/${name}_old.seconds") t_new=$(cat "$out/${name}_new.seconds")
    u_old=$(cat "$out/${name}_old.cpu" 2>/dev/null || echo nan) u_new=$(cat "$out/${name}_new.cpu" 2>/dev/null || echo nan)
    read -r c_old s_old < <(distances "$out/${name}_old.png" "$content" "$style")
    read -r c_new s_new < <(distances "$out/${name}_new.png" "$content" "$style")
    rows+=("$(python3 - "$name" "$t_old" "$t_new" "$u_old" "$u_new" "$c_old" "$c_new" "$s_old" "$s_new" <<'PY'
import sys
name, t_old, t_new, u_old, u_new, c_old, c_new, s_old, s_new = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {name} | {t_old:.0f} | {t_new:.0f} | {t_new / t_old:.2f} | {u_old:.0f} | {u_new:.0f} | {u_new / u_old:.2f} "
      f"| {c_old:,.0f} | {c_new:,.0f} | {c_new / c_old:.2f} | {s_old:,.0f} | {s_new:,.0f} | {s_new / s_old:.2f} |".replace(",", " "))
PY
)")
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo
echo "$size px, precision $precision, ${ONEDNN_MAX_CPU_ISA:+ONEDNN_MAX_CPU_ISA=$ONEDNN_MAX_CPU_ISA, }$threads threads, $cpu; $(date -u +%F)"
echo
echo "| pair | old wall s | new wall s | ratio | old CPU s | new CPU s | ratio | old content | new content | ratio | old style | new style | ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
