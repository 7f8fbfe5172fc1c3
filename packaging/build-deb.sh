#!/usr/bin/env bash
# Builds packaging/out/edgecensus_<version>+deb<N>_<arch>.deb from this source tree
# for the Debian release it runs on (N: 12, 13; see debian-root.sh to build for another):
# a release build with the Swift runtime linked statically, the models, the default
# configuration as a conffile, the systemd unit, a man page, and Depends: computed
# from the binary by dpkg-shlibdeps. Run from anywhere; needs the toolchain and
# fakeroot, dpkg-dev and chrpath (see README.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$here/out"
cd "$root"

upstream="$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/edgecensus/EdgeCensusCommand.swift)"
# The same source packaged for two releases: the release in the version keeps them apart
# (and sorts an upgrade from Debian 12 to 13 the right way).
release="deb$(. /etc/os-release && echo "${VERSION_ID%%.*}")"
version="$upstream+$release"
# Where units go: /lib/systemd/system on Debian 12; from Debian 13 on, /lib is an alias
# of /usr/lib that packages must not install into.
unitdir=/usr/lib/systemd/system
[ "$release" = deb12 ] && unitdir=/lib/systemd/system
arch="$(dpkg --print-architecture)"
package="edgecensus_${version}_${arch}"
stage="$out/$package"

echo "building edgecensus $version for $arch (release, static Swift runtime, $(swift --version 2>&1 | head -1))"
# Scratch directories of its own, one per release: other release builds (the man page
# plugin's) must not leave a dynamically linked binary for this one to take as up to
# date, and another release's toolchain must not meet this one's build products.
# Linked by lld with full RELRO, as Debian's hardening flags ask (swiftlang 6.0.3 links
# with gold by default, which leaves no read-only relocation segment here).
flags=(-c release --static-swift-stdlib --scratch-path "$root/.build-deb-$release"
       -Xswiftc -use-ld=lld -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now)
swift build "${flags[@]}" --product edgecensus
binary="$(swift build "${flags[@]}" --show-bin-path)/edgecensus"

rm -rf "$stage"
install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/edgecensus/models" "$stage/etc/edgecensus" \
    "$stage$unitdir" "$stage/usr/share/doc/edgecensus" "$stage/usr/share/man/man1"
install -m 0755 "$binary" "$stage/usr/bin/edgecensus"
if ldd "$stage/usr/bin/edgecensus" | grep -q 'libswift'; then
    echo "error: $binary links the Swift runtime dynamically; expected it linked in (--static-swift-stdlib)" >&2
    exit 1
fi
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/edgecensus"
# The Swift runtime is linked in: no RUNPATH into the toolchain (SwiftPM adds one regardless).
chrpath -d "$stage/usr/bin/edgecensus" >/dev/null

# The models: every file SHA256SUMS lists, the manifest, the notices and their README.
(cd Models && install -m 0644 -D -t "$stage/usr/share/edgecensus/models" SHA256SUMS README.md)
while read -r _ file; do
    install -m 0644 -D "Models/$file" "$stage/usr/share/edgecensus/models/$file"
done < Models/SHA256SUMS
for notice in Models/*/NOTICE-*.md; do install -m 0644 -D "$notice" "$stage/usr/share/edgecensus/models/${notice#Models/}"; done

install -m 0644 etc/edgecensus.yaml "$stage/etc/edgecensus/edgecensus.yaml"
install -m 0644 "$here/edgecensus.service" "$stage$unitdir/edgecensus.service"
install -m 0644 README.md "$stage/usr/share/doc/edgecensus/README.md"
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

for script in postinst prerm postrm; do install -m 0755 "$here/debian/$script" "$stage/DEBIAN/$script"; done
echo /etc/edgecensus/edgecensus.yaml > "$stage/DEBIAN/conffiles"

# Depends: from the libraries the binary links (dpkg-shlibdeps wants a debian/control beside it).
work="$out/shlibdeps"
rm -rf "$work" && install -d "$work/debian"
printf 'Source: edgecensus\n\nPackage: edgecensus\nArchitecture: any\n' > "$work/debian/control"
depends="$(cd "$work" && dpkg-shlibdeps -O "$stage/usr/bin/edgecensus" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    "$here/debian/control.in" > "$stage/DEBIAN/control"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"

fakeroot dpkg-deb --build --root-owner-group "$stage" "$out/$package.deb" >/dev/null
echo "$out/$package.deb"
