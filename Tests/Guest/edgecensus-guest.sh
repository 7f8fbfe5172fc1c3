#!/bin/bash
# edgecensus-guest.sh — runs a command in a throw-away qemu guest that has a real
# V4L2 driver, so that EdgeCensus's capture code meets a kernel driver on a machine
# with no camera and no loadable modules.
#
# The guest boots Debian's own kernel (the linux-image-*-amd64 package behind
# linux-image-amd64, downloaded and unpacked, never installed), from a tiny busybox
# initramfs that mounts this machine's "/" read-only over virtio-9p with a RAM
# overlay on top, so the host's binaries and libraries run unchanged. One host
# directory (--share) is mounted read-write at the same path: the command's output,
# its exit status, and whatever it writes there come back to the host.
#
#   edgecensus-guest.sh prepare [--loopback]
#       Fetches the kernel, builds the initramfs (and, with --loopback, the
#       v4l2loopback module from Debian's v4l2loopback-dkms source). Idempotent.
#       Exit 0: ready. Exit 77: this machine cannot run the guest (the reason is
#       on stderr: a missing package, no network for the kernel download).
#   edgecensus-guest.sh run --share DIR [options] [--] COMMAND [ARGS...]
#       Boots, loads vivid, runs COMMAND under /bin/bash as root in the current
#       directory, powers off. Streams COMMAND's output; exits with its status
#       (124: timed out, 125: the guest failed before or around the command).
#       --vivid PARAMS     vivid module parameters (default: one webcam node,
#                          /dev/video0); "off" leaves vivid unloaded
#       --loopback PARAMS  also load v4l2loopback with these parameters
#       --timeout SECONDS  wall-clock limit of the whole guest (default 600)
#       A guest that has not started COMMAND within $EDGECENSUS_GUEST_BOOT_LIMIT
#       seconds (default 180) is a boot that hung under emulation: it is stopped,
#       its console shown, and booted once more.
#       --memory MIB       guest memory (default 2048)
#   edgecensus-guest.sh kernel
#       Prints the guest kernel version.
#
# In the guest: modprobe/rmmod (busybox) find vivid and v4l2loopback; there is no
# udev, so /dev/video* are root's; call interpreters by absolute path.
#
# Files: $EDGECENSUS_GUEST_DIR (default .build/guest in the package): the kernel,
# the pruned module tree, the initramfs, v4l2loopback.ko, the last console log.
# $EDGECENSUS_GUEST_QEMU: the emulator (default qemu-system-x86_64);
# $EDGECENSUS_GUEST_CPU: the emulated CPU model (default max).
# Needs: qemu-system-x86, busybox-static, cpio, xz-utils, apt (for the download);
# gcc-12 and make for --loopback.
set -euo pipefail

PACKAGE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
STORE=${EDGECENSUS_GUEST_DIR:-$PACKAGE_ROOT/.build/guest}
CANNOT_RUN=77
QEMU=${EDGECENSUS_GUEST_QEMU:-qemu-system-x86_64}

say() { echo "edgecensus-guest: $*" >&2; }
cannot_run() { say "cannot run the guest here: $*"; exit $CANNOT_RUN; }
fail() { say "error: $*"; exit 125; }
seconds_since() { awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'; }

# The modules the initramfs loads to reach the host root, and those the guest's
# module tree keeps (with their dependencies).
BOOT_MODULES="virtio_pci 9pnet_virtio 9p overlay"
GUEST_MODULES="vivid videodev"

# ---------------------------------------------------------------- kernel
# Unpacks the kernel package under $STORE/<version>: the bootable image, and a
# module tree cut down to the closure of the modules above (from ~400 MB to ~15).
prepare_kernel() {
  local package deb full version image offset
  [ -f "$STORE/current" ] && [ -f "$STORE/$(cat "$STORE/current")/ready" ] && return 0
  package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  [ -n "$package" ] || cannot_run "apt knows no linux-image-amd64 package (run apt-get update)"
  local started=$EPOCHREALTIME
  say "fetching $package (once; kept in $STORE)"
  rm -rf "$STORE/download"; mkdir -p "$STORE/download"
  (cd "$STORE/download" && apt-get download -q "$package" >download.log 2>&1) \
    || cannot_run "apt-get download $package failed: $(tail -1 "$STORE/download/download.log")"
  deb=$(ls "$STORE"/download/*.deb)
  full="$STORE/download/root"
  dpkg-deb -x "$deb" "$full"
  version=$(ls "$full/lib/modules")
  local target="$STORE/$version"
  rm -rf "$target"; mkdir -p "$target/modules/lib/modules/$version"
  busybox depmod -b "$full" "$version"
  # Copy the closure of the modules we use, then index it again.
  local dep="$full/lib/modules/$version/modules.dep" module relative
  local -A copied=()
  closure() {
    local name=$1 line path requirement
    line=$(grep -E "/${name//[-_]/[-_]}\.ko:" "$dep" | head -1) || true
    [ -n "$line" ] || fail "the kernel package has no module $name"
    path=${line%%:*}
    [ -n "${copied[$path]:-}" ] && return 0
    copied[$path]=1
    for requirement in ${line#*:}; do closure "$(basename "$requirement" .ko)"; done
  }
  for module in $BOOT_MODULES $GUEST_MODULES; do closure "$module"; done
  for relative in "${!copied[@]}"; do
    mkdir -p "$(dirname "$target/modules/lib/modules/$version/$relative")"
    cp "$full/lib/modules/$version/$relative" "$target/modules/lib/modules/$version/$relative"
  done
  cp "$full/lib/modules/$version"/modules.{builtin,order} "$target/modules/lib/modules/$version/" 2>/dev/null || true
  busybox depmod -b "$target/modules" "$version"
  # qemu boots the uncompressed kernel (an ELF with a PVH note) directly: that skips
  # the real-mode setup and the xz decompression, seconds under emulation.
  image="$full/boot/vmlinuz-$version"
  offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$image" | head -1 | cut -d: -f1) || true
  # (xz stops at the end of its stream, so tail's SIGPIPE status says nothing.)
  [ -z "$offset" ] || { tail -c +$((offset + 1)) "$image" | xz -dc --single-stream >"$target/vmlinux" 2>/dev/null || true; }
  if [ "$(head -c 4 "$target/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' ')" != 7f454c46 ]; then
    rm -f "$target/vmlinux"; cp "$image" "$target/vmlinuz"
  fi
  echo "$package" >"$target/package"
  rm -rf "$STORE/download"
  build_initramfs "$target" "$version"
  touch "$target/ready"
  echo "$version" >"$STORE/current"
  say "kernel $version ready in $(seconds_since "$started") s"
}

# The initramfs: static busybox, the boot modules in dependency order, and /init.
build_initramfs() {
  local target=$1 version=$2 root="$1/initramfs.root" tree="$1/modules/lib/modules/$2" module line
  rm -rf "$root"; mkdir -p "$root"/{bin,dev,proc,sys,lower,upper,newroot,modules}
  cp /bin/busybox "$root/bin/busybox"
  local -A loaded=()
  load_order() {
    local name=$1 line path requirement
    line=$(grep -E "/${name//[-_]/[-_]}\.ko:" "$tree/modules.dep" | head -1)
    path=${line%%:*}
    [ -n "${loaded[$path]:-}" ] && return 0
    loaded[$path]=1
    for requirement in ${line#*:}; do load_order "$(basename "$requirement" .ko)"; done
    cp "$tree/$path" "$root/modules/"
    basename "$path" >>"$root/modules/order"
  }
  for module in $BOOT_MODULES; do load_order "$module"; done
  cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
argument() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"; }
share=$(argument share); script=$(argument script); modules=$(argument modules)
halt() { echo "EDGECENSUS-GUEST-FAILED: $*"; poweroff -f; }
for module in $(cat /modules/order); do insmod "/modules/$module" || halt "insmod $module"; done
tries=0
until mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose host /lower 2>/dev/null; do
  tries=$((tries + 1)); [ $tries -lt 50 ] || halt "cannot mount the host root"; sleep 0.1
done
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot || halt "overlay"
for directory in proc sys dev; do mount --move /$directory /newroot/$directory; done
mount -t tmpfs tmpfs /newroot/run
# /tmp stays the host's, under the RAM overlay like the rest (writes stay in the guest):
# a checkout under /tmp holds the module tree and the command's working directory.
mkdir -p /newroot/dev/shm /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mkdir -p "/newroot$share"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none share "/newroot$share" || halt "cannot mount the share"
mkdir -p /newroot/lib/modules
ln -sfn "$modules" "/newroot/lib/modules/$(uname -r)"
echo "EDGECENSUS-GUEST-BOOTED $(cut -d' ' -f1 /newroot/proc/uptime)"
exec switch_root /newroot /bin/bash "$script"
INIT
  chmod 755 "$root/init"
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$target/initramfs.cpio.gz"
  rm -rf "$root"
}

# ---------------------------------------------------------------- v4l2loopback
# Built against the guest kernel from Debian's v4l2loopback-dkms source and the
# kernel's header packages, all unpacked in a scratch directory.
prepare_loopback() {
  local version target work headers common kbuild started=$EPOCHREALTIME
  version=$(cat "$STORE/current"); target="$STORE/$version"
  [ -f "$target/modules/lib/modules/$version/extra/v4l2loopback.ko" ] && return 0
  command -v gcc-12 >/dev/null || cannot_run "v4l2loopback needs gcc-12 (the compiler of Debian's kernel): apt-get install gcc-12"
  command -v make >/dev/null || cannot_run "v4l2loopback needs make: apt-get install make"
  headers=linux-headers-$version
  common=$(apt-cache depends "$headers" 2>/dev/null | awk '/Depends: linux-headers-.*-common/ { print $2; exit }')
  kbuild=$(apt-cache depends "$headers" 2>/dev/null | awk '/Depends: linux-kbuild-/ { print $2; exit }')
  [ -n "$common" ] && [ -n "$kbuild" ] || cannot_run "apt does not know the header packages of $headers"
  say "building v4l2loopback for $version (once)"
  work="$STORE/loopback-build"; rm -rf "$work"; mkdir -p "$work/debs" "$work/root"
  (cd "$work/debs" && apt-get download -q "$headers" "$common" "$kbuild" v4l2loopback-dkms >download.log 2>&1) \
    || cannot_run "apt-get download of the kernel headers or v4l2loopback-dkms failed: $(tail -1 "$work/debs/download.log")"
  local deb
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
  # The headers' Makefile includes the -common tree by absolute path.
  sed -i "s|include /usr/src/|include $work/root/usr/src/|" "$work/root/usr/src/$headers/Makefile"
  cp -r "$work"/root/usr/src/v4l2loopback-* "$work/source"
  make -C "$work/root/usr/src/$headers" M="$work/source" CC=gcc-12 modules >"$work/build.log" 2>&1 \
    || { tail -20 "$work/build.log" >&2; fail "v4l2loopback did not build (log: $work/build.log)"; }
  mkdir -p "$target/modules/lib/modules/$version/extra"
  cp "$work/source/v4l2loopback.ko" "$target/modules/lib/modules/$version/extra/"
  busybox depmod -b "$target/modules" "$version"
  rm -rf "$work"
  say "v4l2loopback built in $(seconds_since "$started") s"
}

check_tools() {
  command -v "$QEMU" >/dev/null || cannot_run "$QEMU is missing: apt-get install qemu-system-x86"
  "$QEMU" -version >/dev/null 2>&1 || cannot_run "$QEMU does not start: $("$QEMU" -version 2>&1 | tail -1)"
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' \
    || cannot_run "a static busybox is missing: apt-get install busybox-static"
  command -v cpio >/dev/null || cannot_run "cpio is missing: apt-get install cpio"
  command -v xz >/dev/null || cannot_run "xz is missing: apt-get install xz-utils"
  command -v apt-get >/dev/null || cannot_run "apt-get is needed to fetch Debian's kernel package"
}

prepare() {
  local loopback=0
  [ "${1:-}" = --loopback ] && loopback=1
  check_tools
  mkdir -p "$STORE"
  exec 9>"$STORE/.lock"
  flock 9
  prepare_kernel
  local version; version=$(cat "$STORE/current")
  # A changed /init (this script) means a new initramfs.
  [ "$STORE/$version/initramfs.cpio.gz" -nt "${BASH_SOURCE[0]}" ] || build_initramfs "$STORE/$version" "$version"
  [ $loopback = 0 ] || prepare_loopback
  flock -u 9
}

# ---------------------------------------------------------------- run
run() {
  local share="" vivid="n_devs=1 node_types=0x1 input_types=0x0 num_inputs=1" loopback="" timeout=600 memory=2048
  while [ $# -gt 0 ]; do
    case $1 in
      --share) share=$2; shift 2;;
      --vivid) vivid=$2; shift 2;;
      --loopback) loopback=$2; shift 2;;
      --timeout) timeout=$2; shift 2;;
      --memory) memory=$2; shift 2;;
      --) shift; break;;
      -*) fail "unknown option $1";;
      *) break;;
    esac
  done
  [ $# -gt 0 ] || fail "run: no command given"
  [ -n "$share" ] || fail "run: --share DIR is required (the folder the guest may write)"
  if [ -n "$loopback" ]; then prepare --loopback; else prepare; fi
  local version target kernel
  version=$(cat "$STORE/current"); target="$STORE/$version"
  kernel="$target/vmlinux"; [ -f "$kernel" ] || kernel="$target/vmlinuz"
  mkdir -p "$share"; share=$(cd "$share" && pwd -P)
  case "$share$target" in *[[:space:]]*) fail "paths with blanks cannot be passed to the guest: $share";; esac

  local rundir; rundir=$(mktemp -d "$share/.guest.XXXXXX")
  {
    echo '#!/bin/bash'
    printf ': >%q\n' "$rundir/booted"
    echo 'export HOME=/root LANG=C.UTF-8 TERM=dumb'
    printf 'export PATH=%q\n' "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    printf 'exec >%q 2>&1 </dev/null\n' "$rundir/output"
    echo 'modprobe() { busybox modprobe "$@"; }; rmmod() { busybox rmmod "$@"; }; export -f modprobe rmmod'
    [ "$vivid" = off ] || printf 'busybox modprobe vivid %s || { echo "guest: modprobe vivid failed"; echo 125 >%q; busybox poweroff -f; }\n' "$vivid" "$rundir/status"
    [ -z "$loopback" ] || printf 'busybox modprobe v4l2loopback %s || { echo "guest: modprobe v4l2loopback failed"; echo 125 >%q; busybox poweroff -f; }\n' "$loopback" "$rundir/status"
    printf 'cd %q || exit 125\n' "$PWD"
    printf '%q ' "$@"; echo
    printf 'echo $? >%q\n' "$rundir/status"
    echo 'sync; echo "EDGECENSUS-GUEST-DONE $(cut -d" " -f1 /proc/uptime)" >/dev/console'
    echo 'busybox poweroff -f'
  } >"$rundir/guest.sh"

  # Software emulation: this machine's /dev/kvm (if any) is not one a stock kernel
  # can boot under, and CI machines may have none. KVM only where the CPU shows it.
  local accelerator=(-accel tcg,thread=multi -cpu "${EDGECENSUS_GUEST_CPU:-max}")
  if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && [ "${EDGECENSUS_GUEST_KVM:-1}" = 1 ]; then
    accelerator=(-accel kvm -cpu host)
  fi
  local started=$EPOCHREALTIME status qemu_status attempt
  for attempt in 1 2; do
    rm -f "$rundir/booted" "$rundir/boot-hung" "$rundir/status"
    : >"$rundir/output"
    set +e
    # cryptomgr.notests: the kernel's crypto self-tests, slow under emulation, once
    # held a vCPU for over 10 minutes (a soft lockup in cryptomgr_test); the guest
    # needs no crypto.
    timeout --kill-after=10 "$timeout" "$QEMU" -nodefaults -no-user-config -no-reboot \
      "${accelerator[@]}" -machine pc -m "$memory" -smp 2 -display none -monitor none \
      -serial "file:$rundir/console.log" \
      -kernel "$kernel" -initrd "$target/initramfs.cpio.gz" \
      -append "console=ttyS0 loglevel=4 panic=-1 cryptomgr.notests rdinit=/init share=$share script=$rundir/guest.sh modules=$target/modules/lib/modules/$version" \
      -fsdev local,id=host,path=/,readonly=on,security_model=none,multidevs=remap \
      -device virtio-9p-pci,fsdev=host,mount_tag=host \
      -fsdev local,id=share,path="$share",security_model=none,multidevs=remap \
      -device virtio-9p-pci,fsdev=share,mount_tag=share \
      >"$rundir/qemu.log" 2>&1 &
    local qemu=$!
    tail -n +1 -F -s 0.2 --pid=$qemu "$rundir/output" 2>/dev/null &
    local follower=$!
    # The boot watchdog: no command started within the limit stops the guest
    # (timeout passes the TERM on to qemu).
    local boot_limit=${EDGECENSUS_GUEST_BOOT_LIMIT:-180}
    ( for ((tick = 0; tick < boot_limit * 5; tick++)); do
        [ -e "$rundir/booted" ] && exit 0
        kill -0 $qemu 2>/dev/null || exit 0
        sleep 0.2
      done
      : >"$rundir/boot-hung"; kill -TERM $qemu 2>/dev/null ) &
    local watchdog=$!
    wait $qemu; qemu_status=$?
    kill $watchdog 2>/dev/null; wait $watchdog 2>/dev/null
    wait $follower
    set -e
    [ -e "$rundir/boot-hung" ] && [ $attempt = 1 ] || break
    say "the guest did not start the command within $boot_limit s (a boot hung under emulation); its console, then a second boot:"
    tail -8 "$rundir/console.log" >&2 || true
  done
  cp "$rundir/console.log" "$STORE/last-console.log" 2>/dev/null || true
  if [ -s "$rundir/status" ]; then
    status=$(cat "$rundir/status")
  else
    status=125
    [ $qemu_status = 124 ] || [ $qemu_status = 137 ] || [ -e "$rundir/boot-hung" ] && status=124
    say "the guest ended without the command's status (qemu exit $qemu_status); console:"
    tail -25 "$rundir/console.log" >&2 || true
    cat "$rundir/qemu.log" >&2 || true
  fi
  say "guest ran $(seconds_since "$started") s (kernel $version, ${accelerator[1]%%,*}), command status $status"
  rm -rf "$rundir"
  return "$status"
}

case ${1:-} in
  prepare) shift; prepare "$@";;
  run) shift; run "$@";;
  kernel) prepare >/dev/null; cat "$STORE/current";;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2;;
esac
