#!/usr/bin/env bash
# Runs a command inside a root made by debian-root.sh, with /proc, /dev and /sys
# mounted, the Swift package mirror (/opt/swift-packages, read-only) and the git
# setting that points github.com at it, and this source tree at /src/edgecensus
# (read-write: builds go to its .build-* folders and packaging/out). Everything is
# unmounted afterwards, whatever the command does. Needs root.
#
#   packaging/in-root.sh ROOT -- COMMAND [ARGUMENT...]
set -euo pipefail
target="${1:?usage: in-root.sh ROOT -- COMMAND...}"
shift
[ "${1:-}" = "--" ] && shift
source_tree="$(cd "$(dirname "$0")/.." && pwd)"
mounted=()
cleanup() {
    local index
    for ((index = ${#mounted[@]} - 1; index >= 0; index--)); do umount -l "${mounted[$index]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() {  # bind SOURCE TARGET [ro]
    mkdir -p "$2"
    mount --bind "$1" "$2"
    mounted+=("$2")
    if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$2"; fi
}
mount -t proc proc "$target/proc" && mounted+=("$target/proc")
bind /dev "$target/dev"
bind /sys "$target/sys" ro
bind "$source_tree" "$target/src/edgecensus"
if [ -d /opt/swift-packages ]; then
    bind /opt/swift-packages "$target/opt/swift-packages" ro
    chroot "$target" git config --system url./opt/swift-packages/.insteadOf https://github.com/ 2>/dev/null || true
fi
chroot "$target" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    CI="${CI:-}" "$@"
