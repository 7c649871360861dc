#!/usr/bin/env bash
# Fuzzes Stylize's parsers with libFuzzer (shipped with the Swift toolchain) under AddressSanitizer.
# The summary per target shows executions, their rate, inputs that reached new code, peak memory,
# and any crash (its input saved under .build-fuzz/crashes/).
#
#   bash scripts/fuzz.sh [TARGET...]     targets: torch pickle onnx image exif (default: all)
#
# Env: SECONDS_EACH (default 60) or RUNS (executions, default unlimited) per target.
# Seeds: the repository's own fixtures of each format (Tests/…/Fixtures, ../shared/reference) plus
# Fuzz/corpus/TARGET (committed: inputs that once crashed, kept as regressions). New inputs
# libFuzzer finds go to .build-fuzz/corpus/TARGET; crashes to .build-fuzz/crashes/TARGET-*.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("${@:-torch pickle onnx image exif}")
read -r -a targets <<<"${targets[*]}"
bash scripts/install-deps.sh
# libFuzzer's coverage instrumentation and its driver without its main (SwiftPM gives executables
# their own entry point, which calls LLVMFuzzerRunDriver); both ship with the Swift toolchain.
libfuzzer=$(dirname "$(readlink -f "$(command -v swiftc)")")/../lib/swift/clang/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a
[ -f "$libfuzzer" ] || { echo "error: $libfuzzer: the Swift toolchain ships no libFuzzer" >&2; exit 1; }
STYLIZE_FUZZ=1 swift build -c release --scratch-path .build-fuzz --product stylize-fuzz -Xswiftc -enable-testing \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
    -Xlinker "$libfuzzer" -Xlinker -lstdc++ >&2
harness=.build-fuzz/release/stylize-fuzz

seeds() {  # the seed files of one target
    case "$1" in
        torch|pickle) ls ../shared/reference/torchfiles/*.pth Tests/StylizeIOTests/Fixtures/torch/*.pth 2>/dev/null ;;
        onnx) ls Tests/StylizeONNXTests/Fixtures/*.onnx Tests/StylizeCLITests/Fixtures/*.onnx ;;
        image) ls Tests/StylizeIOTests/Fixtures/*.png Tests/StylizeIOTests/Fixtures/*.jpg ;;
        exif) ;;  # made below from the orientation fixtures' APP1 segments
    esac
}

for t in "${targets[@]}"; do
    seed=.build-fuzz/seeds/$t corpus=.build-fuzz/corpus/$t
    rm -rf "$seed"; mkdir -p "$seed" "$corpus" .build-fuzz/crashes Fuzz/corpus/$t
    for f in $(seeds "$t"); do cp "$f" "$seed/"; done
    if [ "$t" = pickle ]; then  # the legacy files start with their pickles; zip files hold data.pkl
        for f in "$seed"/*.pth; do
            python3 - "$f" <<'PY'
import sys, zipfile
path = sys.argv[1]
if zipfile.is_zipfile(path):
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            if n.endswith("data.pkl"): open(path + ".pkl", "wb").write(z.read(n))
PY
        done
    fi
    if [ "$t" = exif ]; then
        python3 - "$seed" Tests/StylizeIOTests/Fixtures/orient*.jpg <<'PY'
import sys
out, files = sys.argv[1], sys.argv[2:]
for f in files:
    b = open(f, "rb").read()
    i = 2
    while i + 4 <= len(b) and b[i] == 0xFF:
        marker, length = b[i + 1], int.from_bytes(b[i + 2:i + 4], "big")
        if marker == 0xE1:
            open(f"{out}/{f.split('/')[-1]}.app1", "wb").write(b[i + 4:i + 2 + length])
        if marker == 0xDA: break
        i += 2 + length
PY
    fi
    echo "== $t: $(ls "$seed" | wc -l) seeds" >&2
    STYLIZE_FUZZ_TARGET=$t "$harness" "$corpus" "$seed" Fuzz/corpus/$t \
        -max_total_time="${SECONDS_EACH:-60}" ${RUNS:+-runs=$RUNS} -max_len=65536 -rss_limit_mb=4096 -timeout=10 \
        -artifact_prefix=.build-fuzz/crashes/$t- -print_final_stats=1 2>&1 \
        | grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)|^#[0-9]+[[:space:]]+(DONE|INITED)|ERROR|SUMMARY|Test unit written|deadly signal" >&2 || true
done
