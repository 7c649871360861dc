#!/usr/bin/env bash
# The test command: installs what the tests need (idempotently), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-weights.sh
bash scripts/fetch-models.sh
swift test -c release
