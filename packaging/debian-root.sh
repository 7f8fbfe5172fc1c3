#!/usr/bin/env bash
# Makes (once) and prints the path of a Debian root of another release or
# architecture, for building and testing the package there:
#
#   packaging/debian-root.sh trixie amd64           # build: Debian 13 with swiftlang and the build tools
#   packaging/debian-root.sh trixie arm64 sysroot   # the arm64 libraries and headers a cross build links against
#   packaging/debian-root.sh trixie arm64 target    # a bare arm64 system to install the package in (emulated)
#   packaging/debian-root.sh bookworm amd64 appliance  # a bootable device: kernel, systemd, udev, mosquitto
#
# Each root is debootstrapped from the machine's own Debian mirror (the suite named
# on the command line; the machine's apt sources are left as they are), then gets
# the packages its purpose needs:
#   build    Debian's swiftlang for that suite, the -dev packages, dpkg-dev, fakeroot,
#            chrpath, lintian, systemd, and binutils for arm64 (to strip a cross-built binary).
#   target   systemd and adduser only: the package's own Depends: come at install time.
#   appliance  what a device boots: Debian's kernel (with its initramfs), systemd as
#            init, udev, networkd's DHCP, and the mosquitto broker; the package's own
#            Depends: come at install time (test-appliance.py makes a disk image of it).
#   sysroot  the target root plus the arm64 -dev packages and dpkg-dev (dpkg-shlibdeps
#            runs in it), and swiftlang's arm64 runtime and modules (usr/libexec/swift/lib),
#            unpacked with the host's dpkg-deb: installing all of swiftlang under
#            emulation takes more than 25 minutes.
# A foreign architecture's roots run their programs through qemu-user-static and
# binfmt_misc. Roots are kept in a cache outside the source tree
# ($EDGECENSUS_ROOT_CACHE, default /var/cache/edgecensus/roots) and made again only
# when their recipe (suite, architecture, purpose, packages) changes. A run that
# cannot make one (no debootstrap, no network, a foreign architecture without
# binfmt_misc and qemu-user-static) exits 77 and says why. Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
suite="${1:?usage: debian-root.sh SUITE ARCH [build|sysroot|target|appliance]}"
arch="${2:?usage: debian-root.sh SUITE ARCH [build|sysroot|target|appliance]}"
purpose="${3:-build}"
cache="${EDGECENSUS_ROOT_CACHE:-/var/cache/edgecensus/roots}"
mirror="${EDGECENSUS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
unavailable() { echo "debian-root: cannot make a $suite $arch $purpose root here: $*" >&2; exit 77; }

# The packages: one list per purpose in packaging/packages.list.
case "$purpose" in
    build|target|appliance|sysroot) read -r -a packages <<<"$(bash "$here/packages.sh" "$purpose")" ;;
    *) echo "debian-root: purpose is build, sysroot, target or appliance, not $purpose" >&2; exit 2 ;;
esac
# What a sysroot takes from swiftlang: the runtime and modules, the static runtime, and
# clang's own headers and runtime (which the Swift modules' C parts include).
unpacked=()
[ "$purpose" = sysroot ] && unpacked=(./usr/libexec/swift/lib/swift ./usr/libexec/swift/lib/swift_static ./usr/libexec/swift/lib/clang)
target="$cache/$suite-$arch"
[ "$purpose" = build ] || target="$target-$purpose"
stamp="$target/.edgecensus-root"
# Made again when what goes into it changes (not when a comment here does).
recipe="$(printf '%s\n' 3 "$suite" "$arch" "$purpose" "$mirror" "${packages[*]}" "${unpacked[*]}" | sha256sum | cut -c1-16)"

[ "$(id -u)" = 0 ] || unavailable "it needs root (debootstrap, chroot)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ]; then
    echo "$target"
    exit 0
fi
command -v debootstrap >/dev/null || unavailable "no debootstrap (apt-get install debootstrap)"
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
    [ "$purpose" != build ] || unavailable "a build root runs the compiler, which would be emulated; build for $arch with a sysroot (see build-deb.sh --arch)"
    [ -d /proc/sys/fs/binfmt_misc ] || unavailable "the kernel has no binfmt_misc"
    mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null \
        || unavailable "binfmt_misc cannot be mounted"
    case "$arch" in arm64) emulator=qemu-aarch64 ;; armhf) emulator=qemu-arm ;; *) emulator="qemu-$arch" ;; esac
    [ -x "/usr/bin/$emulator-static" ] || unavailable "no /usr/bin/$emulator-static (apt-get install qemu-user-static binfmt-support)"
    if [ ! -e "/proc/sys/fs/binfmt_misc/$emulator" ]; then
        update-binfmts --enable "$emulator" >/dev/null 2>&1 || true
        [ -e "/proc/sys/fs/binfmt_misc/$emulator" ] || unavailable "$emulator is not registered with binfmt_misc"
    fi
fi

# One maker at a time (CI and a developer may share the cache).
mkdir -p "$cache"
exec 9>"$target.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ]; then echo "$target"; exit 0; fi
log="$target.log"
: >"$log"
started=$(date +%s)

# A run killed while in-root.sh had /dev, /proc or the mirror mounted leaves them mounted:
# unmount them before removing anything, and never cross into another file system.
remove_root() {
    awk -v prefix="$1/" 'index($2, prefix) == 1 { print $2 }' /proc/mounts | sort -r | while read -r point; do
        umount -l "$point" || unavailable "cannot unmount $point left from an earlier run"
    done
    rm -rf --one-file-system "$1"
}
remove_root "$target"

if [ "$purpose" = sysroot ]; then
    # A copy of the target root (made first if need be), so both share one emulated debootstrap.
    base="$(bash "$0" "$suite" "$arch" target)" || exit $?
    echo "debian-root: making $target (a copy of $base, then the -dev packages and swiftlang's $arch runtime)" >&2
    cp -a --reflink=auto "$base" "$target"
    rm -f "$stamp"
else
    echo "debian-root: making $target (debootstrap $suite $arch, then ${packages[*]})" >&2
    debootstrap --variant=minbase --arch="$arch" --include=ca-certificates "$suite" "$target" "$mirror" >>"$log" 2>&1 \
        || { tail -5 "$log" >&2; remove_root "$target"; unavailable "debootstrap failed (log: $log)"; }
    # Services must not start inside the root.
    printf '#!/bin/sh\nexit 101\n' >"$target/usr/sbin/policy-rc.d"
    chmod 0755 "$target/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$target/etc/resolv.conf" 2>/dev/null || true
fi
bash "$here/in-root.sh" "$target" -- bash -c \
    "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends ${packages[*]}" \
    >>"$log" 2>&1 \
    || { tail -5 "$log" >&2; unavailable "installing ${packages[*]} failed (log: $log)"; }

if [ "$purpose" = sysroot ]; then
    # swiftlang's runtime libraries, static archives and Swift modules for this architecture:
    # downloaded by apt inside the root, unpacked here by the host's dpkg-deb at native speed.
    bash "$here/in-root.sh" "$target" -- bash -c "cd /var/cache/apt/archives && apt-get download -qq swiftlang" >>"$log" 2>&1 \
        || { tail -5 "$log" >&2; unavailable "downloading swiftlang for $arch failed (log: $log)"; }
    swiftlang_deb="$(ls "$target"/var/cache/apt/archives/swiftlang_*.deb)"
    dpkg-deb --fsys-tarfile "$swiftlang_deb" | tar -x -C "$target" "${unpacked[@]}" \
        || unavailable "unpacking swiftlang's runtime from $swiftlang_deb failed"
    dpkg-deb --field "$swiftlang_deb" Version >"$target/usr/libexec/swift/.swiftlang-version"
fi
rm -f "$target"/var/cache/apt/archives/*.deb
echo "$recipe" >"$stamp"
echo "debian-root: $target ready in $(( $(date +%s) - started )) s" >&2
echo "$target"
