#!/usr/bin/env bash
# Builds the package for another Debian release, or another architecture of it,
# in a root made by debian-root.sh, and prints the path of the .deb (in packaging/out):
#
#   sudo packaging/build-in-root.sh trixie          # edgecensus_<version>+deb13_<this machine's arch>.deb
#   sudo packaging/build-in-root.sh trixie arm64    # edgecensus_<version>+deb13_arm64.deb, cross-compiled
#
# A foreign architecture is cross-compiled: this machine's architecture's swiftlang
# in the build root, linking against that architecture's sysroot (its -dev packages
# and swiftlang's runtime for it), with Depends: computed by dpkg-shlibdeps inside
# the sysroot. The roots are made once and cached (debian-root.sh); where they
# cannot be made, this exits 77 and says why. Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
suite="${1:?usage: build-in-root.sh SUITE [ARCH]}"
native="$(dpkg --print-architecture)"
arch="${2:-$native}"

build_root="$(bash "$here/debian-root.sh" "$suite" "$native")"
if [ "$arch" = "$native" ]; then
    deb="$(bash "$here/in-root.sh" "$build_root" -- bash /src/edgecensus/packaging/build-deb.sh | tail -1)"
else
    sysroot="$(bash "$here/debian-root.sh" "$suite" "$arch" sysroot)"
    deb="$(bash "$here/in-root.sh" "$build_root" --bind "$sysroot" /sysroot -- \
        bash /src/edgecensus/packaging/build-deb.sh --arch "$arch" --sysroot /sysroot | tail -1)"
fi
deb="$here/out/$(basename "$deb")"
[ -f "$deb" ] || { echo "build-in-root: no package built for $suite $arch" >&2; exit 1; }
echo "$deb"
