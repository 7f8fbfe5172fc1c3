#!/usr/bin/env bash
# Makes (once) and prints the path of a Debian root to build and test the package
# for another Debian release or architecture:
#
#   packaging/debian-root.sh trixie amd64     # Debian 13, native speed
#   packaging/debian-root.sh trixie arm64     # Debian 13 arm64, emulated (qemu-user-static)
#
# The root is debootstrapped from the machine's own Debian mirror (the suite named
# on the command line; the machine's apt sources are left as they are), then gets
# what build-deb.sh and test-package.sh need: Debian's swiftlang (for that suite),
# the -dev packages, dpkg-dev, fakeroot, chrpath, lintian and systemd. It is kept
# in a cache outside the source tree ($EDGECENSUS_ROOT_CACHE, default
# /var/cache/edgecensus/roots) and made again only when this script changes.
# A run that cannot make one (no debootstrap, no network, a foreign architecture
# without binfmt_misc and qemu-user-static) exits 77 and says why. Needs root.
set -euo pipefail
suite="${1:?usage: debian-root.sh SUITE ARCH}"
arch="${2:?usage: debian-root.sh SUITE ARCH}"
cache="${EDGECENSUS_ROOT_CACHE:-/var/cache/edgecensus/roots}"
target="$cache/$suite-$arch"
mirror="${EDGECENSUS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
stamp="$target/.edgecensus-root"
recipe="$(sha256sum "$0" | cut -c1-16)"
unavailable() { echo "debian-root: cannot make a $suite $arch root here: $*" >&2; exit 77; }

[ "$(id -u)" = 0 ] || unavailable "it needs root (debootstrap, chroot)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ]; then
    echo "$target"
    exit 0
fi
command -v debootstrap >/dev/null || unavailable "no debootstrap (apt-get install debootstrap)"
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
    [ -d /proc/sys/fs/binfmt_misc ] || unavailable "no binfmt_misc"
    mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null \
        || unavailable "binfmt_misc cannot be mounted"
    case "$arch" in arm64) emulator=qemu-aarch64 ;; *) emulator="qemu-$arch" ;; esac
    [ -x "/usr/bin/$emulator-static" ] || unavailable "no /usr/bin/$emulator-static (apt-get install qemu-user-static)"
    if [ ! -e "/proc/sys/fs/binfmt_misc/$emulator" ]; then
        update-binfmts --enable "$emulator" >/dev/null 2>&1 || true
        [ -e "/proc/sys/fs/binfmt_misc/$emulator" ] || unavailable "$emulator is not registered with binfmt_misc"
    fi
fi

# One maker at a time (CI and a developer may share the cache).
mkdir -p "$cache"
exec 9>"$cache/.$suite-$arch.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ]; then echo "$target"; exit 0; fi

echo "debian-root: making $target (debootstrap $suite $arch, then swiftlang and the build tools)" >&2
started=$(date +%s)
# A run killed while in-root.sh had /dev, /proc or the mirror mounted leaves them mounted:
# unmount them before removing anything, and never cross into another file system.
awk -v prefix="$target/" 'index($2, prefix) == 1 { print $2 }' /proc/mounts | sort -r | while read -r point; do
    umount -l "$point" || unavailable "cannot unmount $point left from an earlier run"
done
rm -rf --one-file-system "$target"
debootstrap --variant=minbase --arch="$arch" --include=ca-certificates "$suite" "$target" "$mirror" >"$cache/$suite-$arch.log" 2>&1 \
    || { tail -5 "$cache/$suite-$arch.log" >&2; rm -rf "$target"; unavailable "debootstrap failed (log: $cache/$suite-$arch.log)"; }
# Services must not start inside the root.
printf '#!/bin/sh\nexit 101\n' >"$target/usr/sbin/policy-rc.d"
chmod 0755 "$target/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$target/etc/resolv.conf" 2>/dev/null || true
packages=(swiftlang lld libstdc++-14-dev libopencv-dev libmosquitto-dev libv4l-dev pkg-config git
          fakeroot dpkg-dev chrpath binutils file lintian systemd adduser)
bash "$(dirname "$0")/in-root.sh" "$target" -- bash -c \
    "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends ${packages[*]}" \
    >>"$cache/$suite-$arch.log" 2>&1 \
    || { tail -5 "$cache/$suite-$arch.log" >&2; unavailable "installing the build tools failed (log: $cache/$suite-$arch.log)"; }
apt_cache="$target/var/cache/apt/archives"
rm -f "$apt_cache"/*.deb
echo "$recipe" >"$stamp"
echo "debian-root: $target ready in $(( $(date +%s) - started )) s" >&2
echo "$target"
