#!/usr/bin/env bash
# The package's test: builds the .deb, checks it with lintian (no errors; the
# warnings that remain are printed), installs it, runs the installed `edgecensus
# detect` on a sample photo, verifies the systemd unit and prints its exposure
# score, upgrades the package over itself keeping a modified conffile and the
# state, and purges it, checking that nothing it made is left. Installs on this
# machine: needs root (or sudo). Exit 0 only if every step passes.
#
#   packaging/test-package.sh                    # this machine's Debian release
#   packaging/test-package.sh --debian trixie    # the same, inside a Debian 13 root (debian-root.sh)
#
# With --debian, a machine that cannot make the root says why and the test is skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
if [ "${1:-}" = "--debian" ]; then
    suite="${2:?usage: test-package.sh [--debian SUITE [--arch ARCH]]}"
    arch="$(dpkg --print-architecture)"
    [ "${3:-}" = "--arch" ] && arch="${4:?--arch needs an architecture}"
    status=0
    target="$(bash "$here/debian-root.sh" "$suite" "$arch")" || status=$?
    if [ "$status" = 77 ]; then echo "package test for $suite $arch: skipped (the reason is above)"; exit 0; fi
    [ "$status" = 0 ] || exit "$status"
    echo "package test for $suite $arch, inside $target"
    exec bash "$here/in-root.sh" "$target" -- bash /src/edgecensus/packaging/test-package.sh
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

step "build"
deb="$(bash "$here/build-deb.sh" | tail -1)"
[ -f "$deb" ] || fail "no package built"
echo "$deb"

step "lintian"
report="$(lintian --info "$deb" 2>&1 | grep -v 'running with root privileges' || true)"
echo "${report:-clean}"
if grep -q '^E:' <<<"$report"; then fail "lintian reports errors"; fi

step "install"
as_root env DEBIAN_FRONTEND=noninteractive dpkg -i "$deb"
getent passwd edgecensus >/dev/null || fail "no edgecensus user"
id -nG edgecensus | grep -qw video || fail "edgecensus is not in the video group"
[ "$(stat -c %U /var/lib/edgecensus)" = edgecensus ] || fail "/var/lib/edgecensus is not owned by edgecensus"

step "the installed command on a sample photo"
output="$(cd / && /usr/bin/edgecensus detect "$root/etc/samples/astronaut.png" 2>/dev/null)"
echo "$output"
grep -q '1 face' <<<"$output" || fail "detect did not find the face"
/usr/bin/edgecensus config validate /etc/edgecensus/edgecensus.yaml

step "systemd unit"
systemd-analyze verify /lib/systemd/system/edgecensus.service
systemd-analyze security --offline=true /lib/systemd/system/edgecensus.service | tail -1

step "upgrade over itself: a modified conffile and the state are kept"
echo "# changed by the administrator" | as_root tee -a /etc/edgecensus/edgecensus.yaml >/dev/null
echo "buffered" | as_root tee /var/lib/edgecensus/marker >/dev/null
as_root env DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "$deb"
tail -1 /etc/edgecensus/edgecensus.yaml | grep -q 'changed by the administrator' || fail "the modified conffile was replaced"
[ -f /var/lib/edgecensus/marker ] || fail "the state directory was not kept"

step "purge leaves nothing behind"
as_root dpkg --purge edgecensus
left=""
for path in /usr/bin/edgecensus /usr/share/edgecensus /usr/share/doc/edgecensus /etc/edgecensus /var/lib/edgecensus \
    /lib/systemd/system/edgecensus.service /etc/systemd/system/multi-user.target.wants/edgecensus.service \
    /usr/share/man/man1/edgecensus.1.gz /usr/share/lintian/overrides/edgecensus; do
    [ -e "$path" ] && left="$left $path"
done
getent passwd edgecensus >/dev/null && left="$left user:edgecensus"
getent group edgecensus >/dev/null && left="$left group:edgecensus"
[ -z "$left" ] || fail "left after purge:$left"
echo "nothing left"
echo
echo "package test passed"
