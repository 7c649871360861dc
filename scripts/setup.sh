#!/usr/bin/env bash
# Sets everything up on a fresh machine and stylizes the bundled example:
# system libraries, the VGG-19 weights, the feed-forward style networks, a release build, then examples/out.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-weights.sh
bash scripts/fetch-models.sh
swift build -c release --product stylize
mkdir -p out
.build/release/stylize info >&2
echo "stylizing examples/chelsea.png after The Starry Night at 512 px: a few minutes (longest on CPUs without" \
     "AVX-512; the lines above say which kernels run). On a terminal a progress line shows the iteration, losses and time left." >&2
.build/release/stylize examples/chelsea.png --style examples/starry_night.jpg -o out/chelsea_starry.png
echo "wrote out/chelsea_starry.png" >&2
