#!/usr/bin/env bash
# Checks the agent's Home Assistant discovery with Home Assistant's own code
# (check-discovery.py, and its hourly-totals test), in a virtual environment with
# homeassistant==$HA_VERSION and its test harness,
# made once and kept in $EDGECENSUS_CACHE (outside the clone). Needs Python 3.13
# (Home Assistant 2025.x requires it; Debian 12 has 3.11): pyenv's, or python3.13
# on PATH. Without one it says so and skips (exit 0); any other failure fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# Home Assistant, its test harness (pytest-homeassistant-custom-component, which pins
# the exact HA release) and the MQTT integration's client: requirements.txt, every version pinned.
HA_VERSION="$(sed -n 's/^homeassistant==//p' "$here/requirements.txt")"
cache="${EDGECENSUS_CACHE:-/var/cache/edgecensus}"
[ -w "$(dirname "$cache")" ] || [ -w "$cache" ] 2>/dev/null || cache="$HOME/.cache/edgecensus"

python=""
# (pyenv's shim on PATH fails unless 3.13 is its active version: each candidate is tried.)
for candidate in "$HOME"/.pyenv/versions/3.13*/bin/python3.13 /root/.pyenv/versions/3.13*/bin/python3.13 "$(command -v python3.13 || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
        python="$candidate"
        break
    fi
done
if [ -z "$python" ]; then
    echo "check-discovery: SKIPPED: no Python 3.13 here (pyenv install 3.13, or python3.13 on PATH), which Home Assistant $HA_VERSION needs"
    exit 0
fi

venv="$cache/homeassistant-$HA_VERSION-$(sha256sum "$here/requirements.txt" | cut -c1-8)"
if ! "$venv/bin/python" -c "import homeassistant, pytest_homeassistant_custom_component, paho.mqtt" 2>/dev/null; then
    echo "check-discovery: installing homeassistant==$HA_VERSION and its test harness into $venv (once)"
    rm -rf "$venv"
    mkdir -p "$cache"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
fi
binary="${EDGECENSUS_BINARY:-$repo/.build/debug/edgecensus}"
[ -x "$binary" ] || { echo "check-discovery: $binary is not built (swift build)" >&2; exit 1; }
"$venv/bin/python" "$here/check-discovery.py" --hourly --edgecensus "$binary"
