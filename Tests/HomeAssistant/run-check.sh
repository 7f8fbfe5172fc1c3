#!/usr/bin/env bash
# Checks the agent against Home Assistant's own code, for each release that has a
# requirements-<version>.txt here (2025.4.4 and 2026.2.3):
#   - check-discovery.py: every discovery config through HA's schemas and templates,
#     and (test_hourly_totals.py, on HA's test harness) the recorder's hourly totals;
#   - check-dashboard.py: a real HA server fed by a real agent shows the dashboard
#     `edgecensus dashboard` prints, rendered in headless Chromium with no card in
#     error; the screenshot is kept in $EDGECENSUS_ARTEFACTS (default .build/artefacts).
# Each release gets a virtual environment made once and kept in $EDGECENSUS_CACHE
# (outside the clone), every package pinned. Needs Python 3.13 (Debian 12 has 3.11):
# pyenv's, or python3.13 on PATH; without one it says so and skips (exit 0). Needs
# Debian's chromium for the dashboard. Any other failure fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${EDGECENSUS_CACHE:-/var/cache/edgecensus}"
[ -w "$(dirname "$cache")" ] || [ -w "$cache" ] 2>/dev/null || cache="$HOME/.cache/edgecensus"
artefacts="${EDGECENSUS_ARTEFACTS:-$repo/.build/artefacts}"

python=""
# (pyenv's shim on PATH fails unless 3.13 is its active version: each candidate is tried.)
for candidate in "$HOME"/.pyenv/versions/3.13*/bin/python3.13 /root/.pyenv/versions/3.13*/bin/python3.13 "$(command -v python3.13 || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
        python="$candidate"
        break
    fi
done
if [ -z "$python" ]; then
    echo "check-discovery: SKIPPED: no Python 3.13 here (pyenv install 3.13, or python3.13 on PATH), which Home Assistant needs"
    exit 0
fi
binary="${EDGECENSUS_BINARY:-$repo/.build/debug/edgecensus}"
[ -x "$binary" ] || { echo "check-discovery: $binary is not built (swift build)" >&2; exit 1; }
command -v chromium >/dev/null || { echo "check-dashboard: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
mkdir -p "$artefacts"

for requirements in "$here"/requirements-*.txt; do
    version="$(sed -n 's/^homeassistant==//p' "$requirements")"
    venv="$cache/homeassistant-$version-$(sha256sum "$requirements" | cut -c1-8)"
    if ! "$venv/bin/python" -c "import homeassistant, hass_frontend, pytest_homeassistant_custom_component, paho.mqtt" 2>/dev/null; then
        echo "check-discovery: installing homeassistant==$version, its frontend and its test harness into $venv (once)"
        rm -rf "$venv"
        mkdir -p "$cache"
        "$python" -m venv "$venv"
        # --ignore-requires-python: 2026.2 asks for Python 3.13.2; it runs on the 3.13.0 here.
        "$venv/bin/pip" install -q --disable-pip-version-check --ignore-requires-python -r "$requirements"
    fi
    "$venv/bin/python" "$here/check-discovery.py" --hourly --edgecensus "$binary"
    "$venv/bin/python" "$here/check-dashboard.py" --edgecensus "$binary" --screenshot "$artefacts/dashboard-homeassistant-$version.png"
done
