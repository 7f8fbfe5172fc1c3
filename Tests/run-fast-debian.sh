#!/usr/bin/env bash
# The fast loop (Tests/run-fast.sh) built and run by another Debian release's own
# toolchain, inside its cached build root (packaging/debian-root.sh): for trixie,
# Debian 13's swiftlang 6.0.3 and OpenCV 4.10, which build the arm64 package and
# which this machine's Swift 6.3 and OpenCV 4.6 do not exercise. Needs root; a
# machine that cannot make the root says why and the loop is skipped.
#
#   Tests/run-fast-debian.sh [SUITE] [swift test arguments...]    # SUITE: trixie (default)
set -euo pipefail
cd "$(dirname "$0")/.."
suite="${1:-trixie}"
shift || true
status=0
root="$(bash packaging/debian-root.sh "$suite" "$(dpkg --print-architecture)")" || status=$?
if [ "$status" = 77 ]; then
    echo "fast loop on Debian $suite: skipped (the reason is above)"
    exit 0
fi
[ "$status" = 0 ] || exit "$status"
echo "fast loop on Debian $suite, inside $root"
# The shared faces and optional models, read-only, where the tests look for them
# (../shared beside the tree); without them those tests skip, saying so.
shared=()
[ -d ../shared ] && shared=(--bind-ro "$(cd ../shared && pwd)" /src/shared)
exec bash packaging/in-root.sh "$root" "${shared[@]}" -- bash -c \
    'cd /src/edgecensus && swift --version 2>&1 | head -1 && exec Tests/run-fast.sh --scratch-path "/src/edgecensus/.build-$0-tests" "$@"' \
    "$suite" "$@"
