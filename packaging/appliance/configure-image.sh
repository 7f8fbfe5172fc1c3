#!/bin/bash
# Runs inside the appliance root (in-root.sh), after the package under test is
# installed: makes the root a device that boots on its own. Everything here is what
# an installer would do on a real board (network, camera module, a broker that
# listens on the network), plus the test's runner and the test's agent settings.
#   configure-image.sh DEVICE-ID
set -euo pipefail
device="${1:?usage: configure-image.sh DEVICE-ID}"
here=/src/edgecensus/packaging/appliance

# A device, not a build root: services start, the root file system is the virtio disk.
rm -f /usr/sbin/policy-rc.d
echo "$device" >/etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n' "$device" >/etc/hosts
echo "/dev/vda / ext4 errors=remount-ro 0 1" >/etc/fstab
echo "root:appliance" | chpasswd

# DHCP on the emulated network card (qemu's user network), through systemd-networkd.
cat >/etc/systemd/network/20-wired.network <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
systemctl enable systemd-networkd.service systemd-networkd-wait-online.service >/dev/null 2>&1

# The camera: vivid as one webcam-like /dev/video0 (udev gives it to the video group).
echo vivid >/etc/modules-load.d/vivid.conf
echo "options vivid n_devs=1 node_types=0x1 input_types=0x0 num_inputs=1" >/etc/modprobe.d/vivid.conf

# The broker answers on the network too (the test host watches through qemu's port forward).
cat >/etc/mosquitto/conf.d/appliance-test.conf <<'EOF'
listener 1883
allow_anonymous true
EOF
systemctl enable mosquitto.service >/dev/null 2>&1

# The agent: the broker on this device, short windows and a low analysis rate
# (the emulated CPU is slow; the tests check behaviour, never rates).
sed -i -e "s|^  host: \"\"|  host: localhost|" -e "s|^  id: \"\"|  id: $device|" \
    -e "s|^  length: 60|  length: 10|" -e "s|^  max_rate_hz: 2|  max_rate_hz: 0.5|" \
    -e "s|^  fps: 15|  fps: 5|" -e "s|^  health_interval: 60|  health_interval: 30|" \
    /etc/edgecensus/edgecensus.yaml
grep -q "^  host: localhost" /etc/edgecensus/edgecensus.yaml || { echo "configure-image: the agent's settings were not applied" >&2; exit 1; }
edgecensus config validate /etc/edgecensus/edgecensus.yaml >/dev/null

# The test's runner.
install -m 0755 "$here/runner.sh" /usr/local/sbin/appliance-runner
cat >/etc/systemd/system/appliance-runner.service <<'EOF'
[Unit]
Description=Test runner (appliance test image only)
DefaultDependencies=no
After=local-fs.target
Before=edgecensus.service

[Service]
ExecStart=/usr/local/sbin/appliance-runner
Restart=always

[Install]
WantedBy=multi-user.target
EOF
systemctl enable appliance-runner.service >/dev/null 2>&1

# The journal on disk, so that what happened before a power cut can be read after it.
mkdir -p /var/log/journal
systemctl enable edgecensus.service >/dev/null 2>&1
