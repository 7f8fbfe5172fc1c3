#!/usr/bin/env bash
# The package's test: builds the .deb, checks it with lintian (no errors; the
# warnings that remain are printed), installs it with apt (which fetches what it
# Depends: on), runs the installed `edgecensus detect` on a sample photo and `config
# validate` on the installed configuration, verifies the systemd unit and prints its
# exposure score, upgrades the package over itself keeping a modified conffile and
# the state, and purges it, checking that nothing it made is left. Installs on this
# machine: needs root (or sudo). Exit 0 only if every step passes.
#
#   packaging/test-package.sh                    # this machine's Debian release and architecture
#   packaging/test-package.sh --debian trixie    # Debian 13: amd64, then arm64 (emulated)
#   packaging/test-package.sh --installed DEB [--record DIRECTORY]
#                                                # the checks from "install" on, on a built package
#
# --debian SUITE runs the whole test inside a root of that release (debian-root.sh),
# recording what the installed command prints on the bundled photos and sample
# video. Then it cross-compiles the arm64 package in the same build root against an
# arm64 sysroot, checks it with lintian, installs it in a bare arm64 root (a
# throw-away overlay of the cached one; programs there run under qemu-user-static),
# runs the same checks and recordings there, and compares the two architectures'
# answers (compare-outputs.py). A machine that cannot make a root (no debootstrap,
# no network, no binfmt_misc or qemu-user-static for arm64) says why, and that part
# is skipped; a build or a check that fails is a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
step_started=$(date +%s)
step() { printf '(%s)\n\n== %s\n' "$(elapsed "$step_started")" "$*"; step_started=$(date +%s); }
fail() { echo "FAILED: $*" >&2; exit 1; }
elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

# A root for SUITE (and ARCH, PURPOSE); prints its path, or returns 77 after debian-root.sh said why not.
debian_root() {
    local status=0 path
    path="$(bash "$here/debian-root.sh" "$@")" || status=$?
    [ "$status" = 0 ] || return "$status"
    echo "$path"
}

lintian_check() {  # lintian_check DEB [COMMAND-PREFIX...]
    local deb="$1" report
    shift
    report="$("$@" lintian --info "$deb" 2>&1 | grep -v 'running with root privileges' || true)"
    echo "${report:-clean}"
    if grep -q '^E:' <<<"$report"; then fail "lintian reports errors for $(basename "$deb")"; fi
}

# The checks on a built package, from its installation to its purge.
installed_checks() {
    local deb="$1" record="${2:-}" output photo state
    step "install $(basename "$deb") with its dependencies"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null \
        || fail "apt-get install $deb failed"
    getent passwd edgecensus >/dev/null || fail "no edgecensus user"
    id -nG edgecensus | grep -qw video || fail "edgecensus is not in the video group"
    [ "$(stat -c %U /var/lib/edgecensus)" = edgecensus ] || fail "/var/lib/edgecensus is not owned by edgecensus"
    echo "installed: $(dpkg-query -W -f '${Package} ${Version} ${Architecture}, ${Installed-Size} KiB' edgecensus)"

    step "the installed command on a sample photo"
    output="$(cd / && /usr/bin/edgecensus detect "$root/etc/samples/astronaut.png" 2>/dev/null)"
    echo "$output"
    grep -q '1 face' <<<"$output" || fail "detect did not find the face"

    step "the installed model set, checked by the installed command"
    (cd / && /usr/bin/edgecensus models check) || fail "models check failed on the installed set"
    /usr/bin/edgecensus config validate /etc/edgecensus/edgecensus.yaml
    zcat /usr/share/man/man5/edgecensus.yaml.5.gz | grep -q '^\.B detection\.min_face_size$' ||
        fail "edgecensus.yaml(5) is missing or does not document the keys"

    if [ -n "$record" ]; then
        step "what the installed command answers on the bundled photos and the sample video (recorded in ${record#"$root"/})"
        mkdir -p "$record"
        for photo in "$root"/etc/samples/*.png "$root"/etc/samples/*.jpg; do
            (cd / && /usr/bin/edgecensus detect --json "$photo")
        done >"$record/detect.jsonl"
        echo "$(wc -l <"$record/detect.jsonl") photos"
        # The sample's configuration, with a state directory of its own (a fresh window sequence).
        state="$(mktemp -d)"
        sed "s|^  directory: .*|  directory: $state|" "$root/etc/samples/walkers.yaml" >"$state/walkers.yaml"
        (cd / && /usr/bin/edgecensus run --config "$state/walkers.yaml" --video "$root/etc/samples/walkers.mp4") \
            >"$record/run.jsonl" 2>"$record/run.log" || { cat "$record/run.log" >&2; fail "run on the sample video failed"; }
        rm -rf "$state"
        echo "$(wc -l <"$record/run.jsonl") windows"
    fi

    step "systemd unit"
    # verify also runs man for the unit's Documentation=; a bare root has no man (the amd64 root checks it).
    local man=yes
    command -v man >/dev/null || { man=no; echo "no man here: Documentation=man:edgecensus(1) not checked"; }
    systemd-analyze verify --man="$man" /lib/systemd/system/edgecensus.service
    systemd-analyze security --offline=true /lib/systemd/system/edgecensus.service | tail -1

    step "upgrade over itself: a modified conffile and the state are kept"
    echo "# changed by the administrator" | as_root tee -a /etc/edgecensus/edgecensus.yaml >/dev/null
    echo "buffered" | as_root tee /var/lib/edgecensus/marker >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "$deb" >/dev/null
    tail -1 /etc/edgecensus/edgecensus.yaml | grep -q 'changed by the administrator' || fail "the modified conffile was replaced"
    [ -f /var/lib/edgecensus/marker ] || fail "the state directory was not kept"

    step "purge leaves nothing behind"
    as_root dpkg --purge edgecensus >/dev/null
    local left="" path
    for path in /usr/bin/edgecensus /usr/share/edgecensus /usr/share/doc/edgecensus /etc/edgecensus /var/lib/edgecensus \
        /lib/systemd/system/edgecensus.service /usr/lib/systemd/system/edgecensus.service \
        /etc/systemd/system/multi-user.target.wants/edgecensus.service \
        /usr/share/man/man1/edgecensus.1.gz /usr/share/man/man5/edgecensus.yaml.5.gz /usr/share/lintian/overrides/edgecensus; do
        [ -e "$path" ] && left="$left $path"
    done
    getent passwd edgecensus >/dev/null && left="$left user:edgecensus"
    getent group edgecensus >/dev/null && left="$left group:edgecensus"
    [ -z "$left" ] || fail "left after purge:$left"
    echo "nothing left ($(elapsed "$step_started"))"
}

# The arm64 package: cross-built in BUILD-ROOT against the sysroot, installed and
# checked in a throw-away overlay of the target root, compared with REFERENCE.
cross_test() {
    local suite="$1" build_root="$2" arch="$3" reference="$4" status=0 sysroot target started deb overlay record
    started=$(date +%s)
    sysroot="$(debian_root "$suite" "$arch" sysroot)" || status=$?
    [ "$status" = 0 ] && { target="$(debian_root "$suite" "$arch" target)" || status=$?; }
    if [ "$status" = 77 ]; then echo "package test for $suite $arch: skipped (the reason is above)"; return 0; fi
    [ "$status" = 0 ] || exit "$status"

    step "cross-build for $suite $arch in $build_root against $sysroot"
    deb="$(bash "$here/build-in-root.sh" "$suite" "$arch" | tail -1)" || fail "the $arch build failed"
    echo "$deb: $(du -k "$deb" | cut -f1) KiB; built in $(elapsed "$started")"
    dpkg-deb --field "$deb" Depends

    step "lintian ($arch)"
    lintian_check "/src/edgecensus/packaging/out/$(basename "$deb")" bash "$here/in-root.sh" "$build_root" --

    # A throw-away layer over the cached root: every run installs into the same bare system.
    # Downloaded dependencies are kept beside the roots for the next run.
    overlay="$(mktemp -d /var/tmp/edgecensus-$suite-$arch.XXXXXX)"
    mkdir -p "$overlay/upper" "$overlay/work" "$overlay/merged" "$target.apt-archives/partial"
    mount -t overlay overlay -o "lowerdir=$target,upperdir=$overlay/upper,workdir=$overlay/work" "$overlay/merged" \
        || fail "cannot mount an overlay over $target"
    record="$here/out/observed-$suite-$arch"
    rm -rf "$record"
    status=0
    bash "$here/in-root.sh" "$overlay/merged" --bind "$target.apt-archives" /var/cache/apt/archives -- bash -c \
        "apt-get update -qq && bash /src/edgecensus/packaging/test-package.sh --installed /src/edgecensus/packaging/out/$(basename "$deb") \
         --record /src/edgecensus/packaging/out/$(basename "$record")" || status=$?
    umount "$overlay/merged"
    rm -rf --one-file-system "$overlay"
    [ "$status" = 0 ] || fail "the checks of the $arch package in $target failed"

    step "$arch answers as $(dpkg --print-architecture) does"
    python3 "$here/compare-outputs.py" detect "$reference/detect.jsonl" "$record/detect.jsonl" || fail "detect differs on $arch"
    python3 "$here/compare-outputs.py" run "$reference/run.jsonl" "$record/run.jsonl" || fail "run differs on $arch"
    echo "package test for $suite $arch passed in $(elapsed "$started")"
}

case "${1:-}" in
--installed)
    deb="${2:?usage: test-package.sh --installed DEB [--record DIRECTORY]}"
    record=""
    [ "${3:-}" = "--record" ] && record="${4:?--record needs a directory}"
    installed_checks "$deb" "$record"
    ;;
--debian)
    suite="${2:?usage: test-package.sh --debian SUITE}"
    native="$(dpkg --print-architecture)"
    started=$(date +%s)
    status=0
    build_root="$(debian_root "$suite" "$native")" || status=$?
    if [ "$status" = 77 ]; then echo "package test for $suite: skipped (the reason is above)"; exit 0; fi
    [ "$status" = 0 ] || exit "$status"
    echo "package test for $suite $native, inside $build_root"
    reference="$here/out/observed-$suite-$native"
    bash "$here/in-root.sh" "$build_root" -- bash /src/edgecensus/packaging/test-package.sh \
        --record "/src/edgecensus/packaging/out/$(basename "$reference")"
    echo "package test for $suite $native passed in $(elapsed "$started")"
    if [ "$native" = amd64 ]; then cross_test "$suite" "$build_root" arm64 "$reference"; fi
    ;;
""|--record)
    record=""
    [ "${1:-}" = "--record" ] && record="${2:?--record needs a directory}"
    step "build"
    deb="$(bash "$here/build-deb.sh" | tail -1)"
    [ -f "$deb" ] || fail "no package built"
    echo "$deb"
    step "lintian"
    lintian_check "$deb"
    installed_checks "$deb" "$record"
    echo
    echo "package test passed"
    ;;
*)
    echo "usage: test-package.sh [--record DIRECTORY] | --debian SUITE | --installed DEB [--record DIRECTORY]" >&2
    exit 2
    ;;
esac
