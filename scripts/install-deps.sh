#!/usr/bin/env bash
# Installs the system libraries Stylize links (Debian packages). Idempotent: does nothing when
# they are already present.
set -euo pipefail
pkgs=(libdnnl-dev libopenblas-dev liblapacke-dev libturbojpeg0-dev libspng-dev libexif-dev)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
fi
