#!/bin/bash
# appliance-runner: the test's hands inside the booted device (test images only, never
# the package). It mounts the host's share (virtio-9p, tag "share") at /mnt/share and
# runs every request the host drops there, one after the other:
#   requests/NAME.sh   a bash script (the host writes NAME.sh.tmp, then renames it)
#   responses/NAME.out its output (standard output and error)
#   responses/NAME.status  its exit status, written last (atomically)
# On start it writes "ready" (the boot id and the seconds since the kernel started)
# and the boot's systemd-analyze figures, so the host knows the device is up.
set -u
share=/mnt/share
mkdir -p "$share"
mountpoint -q "$share" || mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none share "$share" || exit 1
mkdir -p "$share/requests" "$share/responses"
boot_id=$(cat /proc/sys/kernel/random/boot_id)
echo "$boot_id $(cut -d' ' -f1 /proc/uptime)" >"$share/ready.tmp"
mv "$share/ready.tmp" "$share/ready"
while true; do
    for request in "$share"/requests/*.sh; do
        [ -e "$request" ] || continue
        name=$(basename "$request" .sh)
        running="/run/appliance-$name.sh"
        mv "$request" "$running" || continue
        (cd / && bash "$running") >"$share/responses/$name.out" 2>&1 </dev/null
        echo $? >"$share/responses/$name.status.tmp"
        mv "$share/responses/$name.status.tmp" "$share/responses/$name.status"
        rm -f "$running"
    done
    sleep 0.2
done
