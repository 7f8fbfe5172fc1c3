#!/usr/bin/env bash
# Runs a command inside a root made by debian-root.sh, with /proc, /dev and /sys
# mounted, the Swift package mirror (/opt/swift-packages, read-only) and the git
# setting that points github.com at it, and this source tree at /src/edgecensus
# (read-write: builds go to its .build-* folders and packaging/out). Everything is
# unmounted afterwards, whatever the command does. --bind mounts another directory
# too (the arm64 sysroot in the build root, for a cross build); --bind-ro mounts one
# read-only (../shared, for the tests). Needs root.
#
#   packaging/in-root.sh ROOT [--bind|--bind-ro DIRECTORY PATH-IN-ROOT]... -- COMMAND [ARGUMENT...]
set -euo pipefail
target="${1:?usage: in-root.sh ROOT [--bind|--bind-ro DIRECTORY PATH-IN-ROOT]... -- COMMAND...}"
shift
extra=()  # DIRECTORY PATH-IN-ROOT MODE, for each
while [ "${1:-}" = "--bind" ] || [ "${1:-}" = "--bind-ro" ]; do
    mode=rw
    [ "$1" = "--bind-ro" ] && mode=ro
    extra+=("${2:?$1 needs a directory}" "${3:?$1 needs a path in the root}" "$mode")
    shift 3
done
[ "${1:-}" = "--" ] && shift
source_tree="$(cd "$(dirname "$0")/.." && pwd)"
# One user of a root at a time: two at once (CI and a developer's build, from two
# checkouts) would mount their trees over each other at /src/edgecensus and unmount
# each other's mounts on the way out.
exec 8>"$target.in-use.lock"
flock 8
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
# /dev with what is mounted under it (/dev/pts for apt's terminal), as a slave: nothing
# mounted or unmounted in the root propagates back to the machine's /dev.
mkdir -p "$target/dev"
mount --rbind /dev "$target/dev" && mounted+=("$target/dev")
mount --make-rslave "$target/dev"
bind /sys "$target/sys" ro
bind "$source_tree" "$target/src/edgecensus"
for ((index = 0; index < ${#extra[@]}; index += 3)); do
    bind "${extra[$index]}" "$target${extra[$((index + 1))]}" "${extra[$((index + 2))]}"
done
if [ -d /opt/swift-packages ]; then
    bind /opt/swift-packages "$target/opt/swift-packages" ro
    chroot "$target" git config --system url./opt/swift-packages/.insteadOf https://github.com/ 2>/dev/null || true
fi
chroot "$target" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    CI="${CI:-}" "$@"
