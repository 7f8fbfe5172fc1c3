#!/usr/bin/env bash
# Prints the Debian packages one purpose needs, space-separated, from
# packaging/packages.list: host, build, target, appliance or sysroot.
set -euo pipefail
list="$(dirname "$0")/packages.list"
[ $# = 1 ] || { echo "usage: packages.sh host|build|target|appliance|sysroot" >&2; exit 2; }
found=$(awk -v want="$1:" '$1 == want { for (i = 2; i <= NF; i++) printf "%s ", $i }' "$list")
[ -n "$found" ] || { echo "packages.sh: $list has no packages for '$1'" >&2; exit 2; }
echo "${found% }"
