#!/usr/bin/env bash
# Builds packaging/out/edgecensus_<version>+deb<N>_<arch>.deb from this source tree
# for the Debian release it runs on (N: 12, 13; see debian-root.sh to build for another):
# a release build with the Swift runtime linked statically, the models, the default
# configuration as a conffile, the systemd unit, a man page, and Depends: computed
# from the binary by dpkg-shlibdeps. Run from anywhere; needs the toolchain and
# fakeroot, dpkg-dev and chrpath (see README.md).
#
#   packaging/build-deb.sh                                  # for this machine's architecture
#   packaging/build-deb.sh --arch arm64 --sysroot /sysroot  # cross-compiled (test-package.sh --arch arm64)
#
# A cross build compiles with this machine's swiftlang for ARCH, against a sysroot of
# that architecture and the same Debian release (debian-root.sh SUITE ARCH sysroot):
# its -dev packages, swiftlang's runtime and modules for ARCH, and its dpkg-shlibdeps,
# which computes Depends: inside it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$here/out"
cd "$root"

arch="$(dpkg --print-architecture)"
sysroot=""
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch="${2:?--arch needs an architecture}"; shift 2 ;;
        --sysroot) sysroot="$(cd "${2:?--sysroot needs a directory}" && pwd)"; shift 2 ;;
        *) echo "usage: build-deb.sh [--arch ARCH --sysroot DIRECTORY]" >&2; exit 2 ;;
    esac
done
cross=false
[ "$arch" != "$(dpkg --print-architecture)" ] && cross=true
if $cross; then
    [ -n "$sysroot" ] || { echo "error: building for $arch on $(dpkg --print-architecture) needs --sysroot (debian-root.sh SUITE $arch sysroot)" >&2; exit 2; }
    case "$arch" in
        arm64) triple=aarch64-unknown-linux-gnu; multiarch=aarch64-linux-gnu ;;
        *) echo "error: no cross build for $arch yet (arm64 only)" >&2; exit 2 ;;
    esac
    [ -d "$sysroot/usr/libexec/swift/lib/swift_static/linux" ] \
        || { echo "error: $sysroot has no Swift runtime for $arch (usr/libexec/swift/lib/swift_static)" >&2; exit 2; }
fi

upstream="$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/edgecensus/EdgeCensusCommand.swift)"
# The same source packaged for two releases: the release in the version keeps them apart
# (and sorts an upgrade from Debian 12 to 13 the right way).
release="deb$(. /etc/os-release && echo "${VERSION_ID%%.*}")"
version="$upstream+$release"
# Where units go: /lib/systemd/system on Debian 12; from Debian 13 on, /lib is an alias
# of /usr/lib that packages must not install into.
unitdir=/usr/lib/systemd/system
[ "$release" = deb12 ] && unitdir=/lib/systemd/system
package="edgecensus_${version}_${arch}"
stage="$out/$package"

echo "building edgecensus $version for $arch (release, static Swift runtime, $(swift --version 2>&1 | head -1))"
# Scratch directories of its own, one per release and architecture: other builds (the
# man page plugin's) must not leave a dynamically linked binary for this one to take as
# up to date, and another release's toolchain must not meet this one's build products.
scratch="$root/.build-deb-$release"
$cross && scratch="$scratch-$arch"
. "$here/release-flags.sh"
flags=("${release_flags[@]}" --scratch-path "$scratch")
strip=strip
if $cross; then
    # The sysroot's headers and libraries (clang and lld through --sdk, OpenCV's headers
    # through -iwithsysroot in Package.swift, pkg-config through its sysroot variables),
    # and swiftlang's static runtime and modules for the target (swift_static: the driver
    # takes the static link's arguments from the resource directory it is given).
    flags+=(--triple "$triple" --sdk "$sysroot" -Xswiftc -sdk -Xswiftc "$sysroot"
            -Xswiftc -resource-dir -Xswiftc "$sysroot/usr/libexec/swift/lib/swift_static")
    export PKG_CONFIG_PATH="" PKG_CONFIG_SYSROOT_DIR="$sysroot"
    export PKG_CONFIG_LIBDIR="$sysroot/usr/lib/$multiarch/pkgconfig:$sysroot/usr/share/pkgconfig"
    strip="$multiarch-strip"
fi
swift build "${flags[@]}" --product edgecensus
binary="$(swift build "${flags[@]}" --show-bin-path)/edgecensus"

rm -rf "$stage"
install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/edgecensus/models" "$stage/etc/edgecensus" \
    "$stage$unitdir" "$stage/usr/share/doc/edgecensus" "$stage/usr/share/man/man1" "$stage/usr/share/man/man5"
install -m 0755 "$binary" "$stage/usr/bin/edgecensus"
if readelf -d "$stage/usr/bin/edgecensus" | grep NEEDED | grep -q 'libswift'; then
    echo "error: $binary links the Swift runtime dynamically; expected it linked in (--static-swift-stdlib)" >&2
    exit 1
fi
"$strip" --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/edgecensus"
# The Swift runtime is linked in: no RUNPATH into the toolchain (SwiftPM adds one regardless).
chrpath -d "$stage/usr/bin/edgecensus" >/dev/null

# The models: every file SHA256SUMS lists, the manifest, the notices and their README.
(cd Models && install -m 0644 -D -t "$stage/usr/share/edgecensus/models" SHA256SUMS README.md)
while read -r _ file; do
    install -m 0644 -D "Models/$file" "$stage/usr/share/edgecensus/models/$file"
done < Models/SHA256SUMS
for notice in Models/*/NOTICE-*.md; do install -m 0644 -D "$notice" "$stage/usr/share/edgecensus/models/${notice#Models/}"; done
# The one command that makes the optional set from the user's upstream files, and the
# scripts it runs (invoked as `python3 FILE`: installed without their #! line).
install -m 0755 -D Models/tools/make-optional-set.sh "$stage/usr/share/edgecensus/tools/make-optional-set.sh"
for script in faceapi_weights.py faceapi_to_onnx.py; do
    sed '1{/^#!/d}' "Models/tools/$script" > "$stage/usr/share/edgecensus/tools/$script"
    chmod 0644 "$stage/usr/share/edgecensus/tools/$script"
done
# The photo `edgecensus models check` runs every net on (NASA, public domain).
install -m 0644 -D etc/samples/astronaut.png "$stage/usr/share/edgecensus/samples/astronaut.png"

install -m 0644 etc/edgecensus.yaml "$stage/etc/edgecensus/edgecensus.yaml"
install -m 0644 "$here/edgecensus.service" "$stage$unitdir/edgecensus.service"
install -m 0644 README.md "$stage/usr/share/doc/edgecensus/README.md"
install -m 0644 -D etc/mosquitto/edgecensus.acl "$stage/usr/share/doc/edgecensus/examples/mosquitto/edgecensus.acl"
install -m 0644 "$here/debian/copyright" "$stage/usr/share/doc/edgecensus/copyright"
gzip -9n -c "$here/debian/changelog" > "$stage/usr/share/doc/edgecensus/changelog.gz"
install -m 0644 -D "$here/debian/lintian-overrides" "$stage/usr/share/lintian/overrides/edgecensus"

# The man page, from the same definitions as --help (swift-argument-parser's generate-manual).
install -d "$out/man"
swift package --scratch-path "$root/.build-man-$release" plugin --allow-writing-to-package-directory generate-manual --authors "the EdgeCensus authors" \
    --output-directory "$out/man" >/dev/null 2>&1 || true
if [ -f "$out/man/edgecensus.1" ]; then
    sed '/^$/d' "$out/man/edgecensus.1" | gzip -9n > "$stage/usr/share/man/man1/edgecensus.1.gz"
else
    "$stage/usr/bin/edgecensus" --help | sed 's/^/  /' | {
        printf '.TH EDGECENSUS 1 "" "edgecensus %s" "User Commands"\n.SH NAME\nedgecensus \\- anonymous age and gender counts from a camera\n.SH DESCRIPTION\n.nf\n' "$version"
        cat
        printf '.fi\n'
    } | gzip -9n > "$stage/usr/share/man/man1/edgecensus.1.gz"
fi

# edgecensus.yaml(5), made from the key table (`edgecensus config keys --format man`;
# a test checks the committed copy is current).
gzip -9n -c "$here/man/edgecensus.yaml.5" > "$stage/usr/share/man/man5/edgecensus.yaml.5.gz"

for script in postinst prerm postrm; do install -m 0755 "$here/debian/$script" "$stage/DEBIAN/$script"; done
echo /etc/edgecensus/edgecensus.yaml > "$stage/DEBIAN/conffiles"

# Depends: from the libraries the binary links (dpkg-shlibdeps wants a debian/control beside it).
work="$out/shlibdeps"
rm -rf "$work" && install -d "$work/debian"
printf 'Source: edgecensus\n\nPackage: edgecensus\nArchitecture: any\n' > "$work/debian/control"
if $cross; then
    # Inside the sysroot, whose dpkg database knows the target's libraries and their versions
    # (its programs run emulated).
    inside="/tmp/edgecensus-shlibdeps-$$"
    rm -rf "$sysroot$inside" && install -d "$sysroot$inside/debian/edgecensus/usr/bin"
    cp "$work/debian/control" "$sysroot$inside/debian/control"
    install -m 0755 "$stage/usr/bin/edgecensus" "$sysroot$inside/debian/edgecensus/usr/bin/edgecensus"
    depends="$(chroot "$sysroot" sh -c "cd $inside && dpkg-shlibdeps -O debian/edgecensus/usr/bin/edgecensus" 2>"$work/errors" \
        | sed -n 's/^shlibs:Depends=//p')" || true
    rm -rf "${sysroot:?}$inside"
else
    depends="$(cd "$work" && dpkg-shlibdeps -O "$stage/usr/bin/edgecensus" 2>"$work/errors" | sed -n 's/^shlibs:Depends=//p')" || true
fi
[ -n "$depends" ] || { cat "$work/errors" >&2; echo "error: dpkg-shlibdeps found no dependencies for $stage/usr/bin/edgecensus" >&2; exit 1; }
# FFmpeg is loaded when a video file is opened (video_decoder.cpp), not linked, so
# dpkg-shlibdeps cannot see it: depend on the packages holding the sonames this build's
# headers name, as their shlibs files say (libavformat59 (>= 7:5.0) on Debian 12).
libdir="$sysroot/usr/lib/${multiarch:-$(dpkg-architecture -qDEB_HOST_MULTIARCH)}"
for library in libavformat libavcodec libswscale libavutil; do
    soname="$(readelf -d "$(readlink -f "$libdir/$library.so")" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
    dependency="$(awk -v name="$library" -v major="${soname##*.so.}" \
        '$1 == name && $2 == major && !found { found = 1; $1 = ""; $2 = ""; sub(/^ +/, ""); print }' \
        "$sysroot"/var/lib/dpkg/info/*.shlibs)"
    [ -n "$dependency" ] || { echo "error: no shlibs entry for $library ($soname) in ${sysroot:-/}var/lib/dpkg/info" >&2; exit 1; }
    depends="$depends, $dependency"
done
# Packed relative relocations (release-flags.sh) need glibc's loader from 2.36 on (the
# GLIBC_ABI_DT_RELR version); dpkg-shlibdeps counts only the symbols used, which allow older.
if readelf -d "$stage/usr/bin/edgecensus" | grep -q '(RELR)'; then
    libc="$(grep -o 'libc6 (>= [^)]*)' <<<"$depends" | sed 's/libc6 (>= \(.*\))/\1/')"
    if [ -n "$libc" ] && dpkg --compare-versions "$libc" lt 2.36; then
        depends="${depends/libc6 (>= $libc)/libc6 (>= 2.36)}"
    fi
fi
size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    "$here/debian/control.in" > "$stage/DEBIAN/control"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"

fakeroot dpkg-deb --build --root-owner-group "$stage" "$out/$package.deb" >/dev/null
echo "$out/$package.deb"
