#!/usr/bin/env python3
"""The installed package on a booted device, through crashes, hangs, reboots and power cuts.

    packaging/test-appliance.py [--deb DEB] [--seed N] [--keep DIRECTORY]

Makes a Debian 12 amd64 disk image (the cached `debian-root.sh bookworm amd64
appliance` root, the package under test installed into a throw-away overlay of it
with apt, then `configure-image.sh`), boots it under qemu with Debian's own kernel
and initramfs, systemd as PID 1, vivid as /dev/video0 and the Debian mosquitto
service, on a virtio disk that persists from boot to boot, and lives through:

  boot         the unit is active with READY=1 and a STATUS= line; `status` is
               online (retained); windows from vivid arrive on `counts`; the journal
               holds no seccomp, audit or EPERM denial and no error for the service;
               `systemd-analyze security` rates the installed unit at most 2.0
  crash        `systemctl kill -s KILL`: systemd restarts the agent; the will says
               offline, then online; window numbers go on with none repeated or skipped
  hang         SIGSTOP: the watchdog fires, systemd restarts the agent and says so
  power cuts   qemu killed with SIGKILL at seeded random moments: twice while remote
               changes are being saved (the overrides file is then the old one or the
               new one), then with the broker stopped, at least three times while
               windows go into the ring (at a window's end, when the ring is written,
               or anywhere in it); after each boot the ring is recovered; once the
               broker is back, every window the guest last saw in the ring arrives
               once, in order, replayed, and no window number is used twice
  persistence  a remote change survives a clean reboot; the clean shutdown publishes
               the partial window and `stopped`

The host watches the broker through qemu's port forward (mosquitto_sub, a
persistent QoS 1 session) and acts in the guest through a runner service that
executes scripts dropped in a shared folder (virtio-9p). Exit 0: every scenario
passed, or this machine cannot run the guest (it says why: no root, no qemu, no
network for debootstrap); 1: a scenario failed (it says what it saw). Needs root, qemu-system-x86, mosquitto-clients, e2fsprogs.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEVICE = "appliance"
TOPICS = f"edgecensus/{DEVICE}"
WINDOW = 10.0  # windows.length in the image (configure-image.sh)
CANNOT_RUN = 77


class Failure(Exception):
    pass


def say(message):
    print(f"test-appliance: {message}", flush=True)


def cannot_run(reason):
    """As the other package tests do: a machine that cannot run the guest says why and skips."""
    say(f"skipped: this machine cannot run the device: {reason}")
    sys.exit(0)


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(command, **options):
    return subprocess.run(command, check=True, text=True, capture_output=True, **options)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- the image
def make_image(deb, work):
    """The disk image, kernel and initramfs of a device with the package installed."""
    status = subprocess.run(["bash", f"{HERE}/debian-root.sh", "bookworm", "amd64", "appliance"],
                            text=True, stdout=subprocess.PIPE)
    if status.returncode == CANNOT_RUN:
        cannot_run("debian-root.sh cannot make the appliance root (the reason is above)")
    check(status.returncode == 0, "making the appliance root failed")
    base = status.stdout.strip().splitlines()[-1]
    archives = base + ".apt-archives"
    os.makedirs(archives + "/partial", exist_ok=True)
    layer = tempfile.mkdtemp(prefix="edgecensus-appliance-", dir="/var/tmp")
    merged = f"{layer}/merged"
    for folder in ("upper", "work", "merged"):
        os.makedirs(f"{layer}/{folder}")
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={base},upperdir={layer}/upper,workdir={layer}/work", merged])
    try:
        shutil.copy(deb, f"{merged}/tmp/{os.path.basename(deb)}")
        script = (f"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                  f"--no-install-recommends /tmp/{os.path.basename(deb)} >/dev/null && rm /tmp/*.deb && "
                  f"bash /src/edgecensus/packaging/appliance/configure-image.sh {DEVICE}")
        result = subprocess.run(["bash", f"{HERE}/in-root.sh", merged, "--bind", archives, "/var/cache/apt/archives",
                                 "--", "bash", "-c", script], text=True, capture_output=True)
        check(result.returncode == 0, f"installing the package in the image failed:\n{result.stdout}{result.stderr}")
        boot = sorted(name for name in os.listdir(f"{merged}/boot") if name.startswith("vmlinuz-"))[-1]
        version = boot[len("vmlinuz-"):]
        shutil.copy(f"{merged}/boot/vmlinuz-{version}", f"{work}/vmlinuz")
        shutil.copy(f"{merged}/boot/initrd.img-{version}", f"{work}/initrd.img")
        image = f"{work}/disk.img"
        run(["mke2fs", "-q", "-t", "ext4", "-L", DEVICE, "-d", merged, image, "3G"])
    finally:
        subprocess.run(["umount", merged])
        shutil.rmtree(layer, ignore_errors=True)
    return version


# ---------------------------------------------------------------- the broker, from the host
class Observer:
    """Every message under the device's topics, as mosquitto_sub sees them, in a
    persistent QoS 1 session (what the broker queued while the observer was away
    arrives when it comes back)."""

    def __init__(self, port):
        self.port = port
        self.messages = []  # (time, topic, retained, payload)
        self.lock = threading.Lock()
        self.process = None

    def connect(self, timeout=60):
        self.disconnect()
        deadline = time.time() + timeout
        while True:
            process = subprocess.Popen(
                ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), "-i", "appliance-observer", "-c",
                 "-q", "1", "-t", f"{TOPICS}/#", "-F", "%r %t %p"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(1.5)
            if process.poll() is None:
                break
            if time.time() > deadline:
                raise Failure(f"mosquitto_sub cannot connect to the guest's broker: {process.stderr.read().strip()}")
            time.sleep(1)
        self.process = process
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process):
        for line in process.stdout:
            retained, topic, payload = (line.rstrip("\n").split(" ", 2) + ["", ""])[:3]
            with self.lock:
                self.messages.append((time.time(), topic, retained == "1", payload))

    def disconnect(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
        self.process = None

    def mark(self):
        with self.lock:
            return len(self.messages)

    def since(self, mark, suffix=None):
        with self.lock:
            return [m for m in self.messages[mark:] if suffix is None or m[1] == f"{TOPICS}/{suffix}"]

    def wait_for(self, mark, suffix, predicate, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for message in self.since(mark, suffix):
                if predicate(message):
                    return message
            time.sleep(0.3)
        seen = [m[3][:160] for m in self.since(mark, suffix)][-5:]
        raise Failure(f"no {what} within {timeout:.0f} s on {TOPICS}/{suffix}; the last seen: {seen}")

    def windows(self, mark=0):
        """The counts documents since mark, as dictionaries."""
        return [json.loads(m[3]) for m in self.since(mark, "counts") if m[3]]

    def publish(self, suffix, payload):
        run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-q", "1", "-t", f"{TOPICS}/{suffix}",
             "-m", payload])


# ---------------------------------------------------------------- the device
class Device:
    def __init__(self, work, version, port):
        self.work, self.version, self.port = work, version, port
        self.share = f"{work}/share"
        os.makedirs(self.share, exist_ok=True)
        self.qemu = None
        self.boots = 0
        self.requests = 0
        self.boot_seconds = []

    def boot(self, timeout=420):
        """Starts qemu and returns once the runner in the booted system answers."""
        check(self.qemu is None, "the device is already running")
        for name in ("ready",):
            if os.path.exists(f"{self.share}/{name}"):
                os.remove(f"{self.share}/{name}")
        shutil.rmtree(f"{self.share}/requests", ignore_errors=True)
        self.boots += 1
        self.console = f"{self.work}/console-{self.boots}.log"
        accelerator = ["-accel", "tcg,thread=multi", "-cpu", "max"]
        started = time.time()
        self.qemu = subprocess.Popen([
            "qemu-system-x86_64", "-nodefaults", "-no-user-config", "-no-reboot", *accelerator,
            "-machine", "pc", "-m", "2048", "-smp", "2", "-display", "none", "-monitor", "none",
            "-serial", f"file:{self.console}",
            "-kernel", f"{self.work}/vmlinuz", "-initrd", f"{self.work}/initrd.img",
            "-append", "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=false",
            "-drive", f"file={self.work}/disk.img,format=raw,if=virtio,cache=writeback",
            "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{self.port}-:1883",
            "-device", "virtio-net-pci,netdev=net0",
            "-fsdev", f"local,id=share,path={self.share},security_model=none",
            "-device", "virtio-9p-pci,fsdev=share,mount_tag=share",
        ], stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/qemu-{self.boots}.log", "w"))
        deadline = started + timeout
        while not os.path.exists(f"{self.share}/ready"):
            if self.qemu.poll() is not None:
                raise Failure(f"qemu ended during boot {self.boots} (status {self.qemu.returncode}); "
                              f"console:\n{self.tail_console()}")
            if time.time() > deadline:
                raise Failure(f"boot {self.boots} did not finish within {timeout} s; console:\n{self.tail_console()}")
            time.sleep(0.5)
        seconds = time.time() - started
        self.boot_seconds.append(seconds)
        say(f"boot {self.boots}: the runner answers {seconds:.0f} s after qemu started")
        return seconds

    def tail_console(self, lines=30):
        try:
            with open(self.console, errors="replace") as console:
                return "".join(console.readlines()[-lines:])
        except OSError:
            return "(no console log)"

    def sh(self, script, timeout=180, allow_failure=False):
        """Runs a bash script in the guest; returns its output (fails on a non-zero status)."""
        check(self.qemu is not None and self.qemu.poll() is None, "the device is not running")
        self.requests += 1
        name = f"{self.boots:02d}-{self.requests:04d}"
        os.makedirs(f"{self.share}/requests", exist_ok=True)
        with open(f"{self.share}/requests/{name}.sh.tmp", "w") as request:
            request.write(script + "\n")
        os.rename(f"{self.share}/requests/{name}.sh.tmp", f"{self.share}/requests/{name}.sh")
        status_file = f"{self.share}/responses/{name}.status"
        deadline = time.time() + timeout
        while not os.path.exists(status_file):
            if self.qemu.poll() is not None:
                raise Failure(f"the device stopped while running: {script}")
            if time.time() > deadline:
                raise Failure(f"the guest did not finish within {timeout} s: {script}")
            time.sleep(0.2)
        status = int(open(status_file).read().strip())
        output = open(f"{self.share}/responses/{name}.out", errors="replace").read()
        if status != 0 and not allow_failure:
            raise Failure(f"in the guest, status {status}: {script}\n{output}")
        return output if not allow_failure else (status, output)

    def wait_until(self, script, timeout, what):
        deadline = time.time() + timeout
        while True:
            status, output = self.sh(script, allow_failure=True)
            if status == 0:
                return output
            if time.time() > deadline:
                raise Failure(f"{what}: not so after {timeout} s ({output.strip()[-400:]})")
            time.sleep(1)

    def power_cut(self):
        """SIGKILL to qemu: the disk keeps what the guest had flushed, nothing more."""
        self.qemu.send_signal(signal.SIGKILL)
        self.qemu.wait()
        self.qemu = None

    def wait_poweroff(self, timeout=240):
        try:
            self.qemu.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"the device did not power off within {timeout} s; console:\n{self.tail_console()}")
        self.qemu = None

    def stop(self):
        if self.qemu is not None:
            self.power_cut()


# ---------------------------------------------------------------- checks shared by the scenarios
def agent_active(device, timeout=300):
    """Waits until the unit is active (Type=notify: after READY=1) and returns its StatusText."""
    device.wait_until("systemctl is-active --quiet edgecensus && "
                      "systemctl show -p StatusText --value edgecensus | grep -q .", timeout,
                      "edgecensus.service active with a STATUS= line")
    return device.sh("systemctl show -p StatusText --value edgecensus").strip()


def main_pid(device):
    return int(device.sh("systemctl show -p MainPID --value edgecensus").strip())


def sequence_problems(windows):
    """Repeated or skipped window numbers among live windows (in arrival order)."""
    numbers = [w["seq"] for w in windows]
    problems = []
    if len(set(numbers)) != len(numbers):
        problems.append(f"repeated: {sorted({n for n in numbers if numbers.count(n) > 1})}")
    for previous, following in zip(numbers, numbers[1:]):
        if following != previous + 1:
            problems.append(f"{previous} then {following}")
    return problems


def ring_look(device):
    """The window numbers in the guest's ring, read from a copy, then made durable with
    sync (so that what the look shows is on the disk before the host learns of it)."""
    return device.sh("edgecensus buffer export /var/lib/edgecensus/buffer.ring 2>/dev/null | "
                     "sed -n 's/.*\"seq\":\\([0-9]*\\).*/\\1/p'; sync")


# ---------------------------------------------------------------- scenarios
class Scenarios:
    def __init__(self, device, observer, rng):
        self.device, self.observer, self.rng = device, observer, rng
        self.timings = {}
        self.findings = []
        self.remote_version = 0

    def timed(self, name, function):
        started = time.time()
        say(f"== {name}")
        function()
        self.timings[name] = time.time() - started
        say(f"{name}: passed in {self.timings[name]:.0f} s")

    # -- boot
    def boot(self):
        device, observer = self.device, self.observer
        device.boot()
        status = agent_active(device)
        say(f"STATUS={status}")
        check(status, "no STATUS= line")
        observer.connect()
        mark = 0
        observer.wait_for(mark, "status", lambda m: m[2] and m[3] == "online", 60, "retained online status")
        observer.wait_for(mark, "counts", lambda m: True, 4 * WINDOW + 60, "window")
        errors = device.sh("journalctl -b -u edgecensus -p err -o cat --no-pager")
        # An EPERM from the system-call filter shows as the caller's own complaint (the
        # Swift runtime's "... errno=1"), or as an audit record (type=1326) when logged.
        denials = device.sh("journalctl -b -o short --no-pager | "
                            "grep -iE 'seccomp|audit|EPERM|Operation not permitted|denied|errno=1([^0-9]|$)' "
                            "| grep -iE 'edgecensus|type=1326' || true")
        check(not errors.strip(), f"the service logged errors:\n{errors}")
        check(not denials.strip(), f"denials in the journal:\n{denials}")
        security = device.sh("systemd-analyze security edgecensus.service --no-pager | tail -1")
        score = float(re.search(r"([0-9.]+)", security.split(":", 1)[1]).group(1))
        say(f"systemd-analyze security on the device: {security.strip()}")
        check(score <= 2.0, f"exposure {score} > 2.0")
        say(f"boot timing: {device.sh('systemd-analyze time --no-pager | head -1').strip()}")

    # -- crash
    def crash(self):
        device, observer = self.device, self.observer
        mark = observer.mark()
        before = main_pid(device)
        device.sh("systemctl kill -s KILL edgecensus")
        offline = observer.wait_for(mark, "status", lambda m: m[3] == "offline", 60, "offline (the will)")
        online = observer.wait_for(mark, "status", lambda m: m[3] == "online" and m[0] >= offline[0], 240,
                                   "online after the restart")
        after = main_pid(device)
        check(after != before and after > 0, f"the agent was not restarted (MainPID {before} → {after})")
        # Windows after the restart continue the numbering.
        observer.wait_for(mark, "counts", lambda m: m[0] > online[0], 4 * WINDOW + 60, "a window after the restart")
        self.check_live_sequence()

    def check_live_sequence(self):
        live = [w for w in self.observer.windows() if not w.get("replayed")]
        problems = sequence_problems(live)
        check(not problems, f"window numbers: {problems} (seen {[w['seq'] for w in live]})")

    # -- hang
    def hang(self):
        device, observer = self.device, self.observer
        mark = observer.mark()
        before = main_pid(device)
        device.sh(f"kill -STOP {before}")
        stopped = time.time()
        device.wait_until(f"journalctl -b -u edgecensus --no-pager | grep -q 'Watchdog timeout'", 180,
                          "the watchdog fired")
        fired = time.time() - stopped
        device.wait_until(f"systemctl is-active --quiet edgecensus && [ \"$(systemctl show -p MainPID --value edgecensus)\" != {before} ]",
                          240, "the agent restarted after the watchdog")
        say(f"watchdog fired {fired:.0f} s after SIGSTOP; the journal says: "
            + device.sh("journalctl -b -u edgecensus -o cat --no-pager | grep -m1 'Watchdog timeout'").strip())
        observer.wait_for(mark, "status", lambda m: m[3] == "online", 120, "online after the watchdog restart")
        observer.wait_for(observer.mark(), "counts", lambda m: True, 4 * WINDOW + 60, "a window after the watchdog restart")
        self.check_live_sequence()

    # -- power cuts
    def remote_change_cuts(self, count):
        """Cuts while remote changes are being saved: the overrides file is then the old or the new one."""
        device, observer = self.device, self.observer
        for cut in range(count):
            if device.qemu is None:
                device.boot()
                agent_active(device)
                observer.connect()
            state = json.loads(device.sh("cat /var/lib/edgecensus/remote-config.json 2>/dev/null || echo '{\"config_version\": 0}'"))
            known = {state["config_version"]: state.get("overrides", {}).get("mqtt", {}).get("health_interval")}
            mark = observer.mark()
            delay = self.rng.uniform(2.0, 8.0)
            stop = threading.Event()
            sent = []

            def send():
                value = 31 + cut * 1000
                while not stop.is_set():
                    value += 1
                    sent.append(value)
                    try:
                        observer.publish("config/set", json.dumps({"transaction": f"cut{cut}-{value}",
                                                                   "mqtt": {"health_interval": value}}))
                    except subprocess.CalledProcessError:
                        return
                    time.sleep(0.15)

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            time.sleep(delay)
            device.power_cut()
            stop.set()
            sender.join()
            results = [json.loads(m[3]) for m in observer.since(mark, "config/result") if m[3]]
            for result in results:
                if result.get("status") == "ok":
                    known[result["config_version"]] = int(result["transaction"].split("-")[1])
            applied = max(known)
            say(f"cut {cut + 1} (remote changes): qemu killed {delay:.1f} s into a stream of {len(sent)} changes; "
                f"the last applied answer was version {applied}")
            device.boot()
            agent_active(device)
            observer.connect()
            saved = device.sh("cat /var/lib/edgecensus/remote-config.json")
            try:
                saved = json.loads(saved)
            except ValueError:
                raise Failure(f"after the cut the overrides file is not JSON: {saved!r}")
            version = saved["config_version"]
            value = saved["overrides"]["mqtt"]["health_interval"]
            check(version in (applied, applied + 1),
                  f"after the cut the overrides file has version {version}; the last answer said {applied}")
            if version == applied:
                check(value == known[applied], f"version {version} holds {value}, the answer said {known[applied]}")
            else:
                check(value in sent, f"the new version {version} holds {value}, which nobody sent")
            note = device.sh("journalctl -b -u edgecensus -o cat --no-pager | grep -i 'remote-config.json' || true")
            check("not applied" not in note, f"the overrides file was damaged: {note}")
            say(f"after boot {device.boots}: the overrides file is version {version} ({'old' if version == applied else 'new'})")

    def boot_and_check_ring(self, seen):
        """Boots after a cut: the agent recovers the ring, says how many windows it holds,
        and every window the guest's looks had seen is still there."""
        device = self.device
        device.boot()
        agent_active(device)
        log = device.sh("journalctl -b -u edgecensus -o cat --no-pager | grep -iE 'buffered|ring|torn|damaged' || true")
        say(f"boot {device.boots}: the agent says: {log.strip() or '(nothing about the ring)'}")
        check(log.strip(), "the agent said nothing about the windows it recovered from the ring")
        pending = {int(n) for n in ring_look(device).split()}
        check(seen <= pending, f"windows the guest had seen in the ring are gone after the cut: {sorted(seen - pending)}")

    def ring_cuts(self, count):
        device, observer = self.device, self.observer
        observer.disconnect()
        device.sh("systemctl disable --now mosquitto 2>&1")
        seen = set()
        kinds = ["window end", "anywhere"] + [self.rng.choice(["window end", "anywhere"]) for _ in range(count - 2)]
        self.rng.shuffle(kinds)
        for cut in range(count):
            if device.qemu is None:
                self.boot_and_check_ring(seen)
            # Enough windows in this boot that the ring has something new, then the cut:
            # just after a window's end (when the ring is written), or anywhere in a window.
            kind = kinds[cut]
            deadline = time.time() + self.rng.uniform(1.5, 2.5) * WINDOW
            while time.time() < deadline:
                seen |= {int(n) for n in ring_look(device).split()}
            now = float(device.sh("date +%s.%N"))
            if kind == "window end":
                offset = self.rng.uniform(0.0, 0.8)
                pause = (WINDOW - now % WINDOW) + offset
            else:
                pause = offset = self.rng.uniform(0.0, WINDOW)
            cut_at = time.time() + pause
            # Looks until just before the cut (a look takes well under a second).
            while time.time() + 1.0 < cut_at:
                seen |= {int(n) for n in ring_look(device).split()}
            time.sleep(max(0.0, cut_at - time.time()))
            device.power_cut()
            say(f"cut {cut + 1} (ring, {kind} +{offset:.2f} s): "
                f"the guest's last look showed {len(seen)} window(s) in the ring")
        self.boot_and_check_ring(seen)
        check(seen, "the ring never held a window (no window closed while the broker was away)")
        # The broker comes back: every window seen arrives once, in order, replayed.
        device.sh("systemctl enable --now mosquitto 2>&1")
        mark = observer.mark()
        observer.connect()
        last = max(seen)
        observer.wait_for(mark, "counts", lambda m: m[3] and json.loads(m[3])["seq"] >= last, 300,
                          f"the replay up to window {last}")
        time.sleep(3)
        delivered = observer.windows(mark)
        replayed = [w["seq"] for w in delivered if w.get("replayed")]
        for number in seen:
            check(replayed.count(number) == 1, f"window {number} arrived {replayed.count(number)} times replayed "
                                               f"(replayed: {replayed})")
        check(replayed == sorted(replayed), f"replayed windows out of order: {replayed}")
        everything = [w["seq"] for w in observer.windows()]
        check(len(everything) == len(set(everything)),
              f"a window number was used twice: {sorted({n for n in everything if everything.count(n) > 1})}")
        say(f"{len(seen)} windows from before the cuts arrived once each, in order, replayed ({min(seen)}–{max(seen)})")

    # -- persistence
    def persistence(self):
        device, observer = self.device, self.observer
        mark = observer.mark()
        observer.publish("config/set", json.dumps({"transaction": "persist", "throttle": {"temperature_limit": 71}}))
        answer = observer.wait_for(mark, "config/result", lambda m: "persist" in m[3], 60, "the answer to the change")
        check(json.loads(answer[3]).get("status") == "ok", f"the change was refused: {answer[3]}")
        mark = observer.mark()
        device.sh("systemctl reboot")
        device.wait_poweroff()
        stopped = observer.since(mark, "status")
        windows = observer.windows(mark)
        check(any(m[3] == "stopped" for m in stopped), f"no stopped status at the clean shutdown: {[m[3] for m in stopped]}")
        check(any(w.get("partial") for w in windows), f"no partial window at the clean shutdown: {windows}")
        device.boot()
        agent_active(device)
        observer.connect()
        # The agent of this boot answers what is in force.
        mark = observer.mark()
        observer.publish("config/get", json.dumps({"transaction": "after-reboot"}))
        answer = json.loads(observer.wait_for(mark, "config/result", lambda m: "after-reboot" in m[3], 60,
                                              "the answer to config/get after the reboot")[3])
        check(answer["config"]["throttle"]["temperature_limit"] == 71,
              f"the remote change is not in force after the reboot: {answer}")
        version = answer["config_version"]
        saved = json.loads(device.sh("cat /var/lib/edgecensus/remote-config.json"))
        check(saved["config_version"] == version and saved["overrides"]["throttle"]["temperature_limit"] == 71,
              f"the overrides file does not hold the change: {saved}")
        say(f"after the clean reboot the change is in force (config_version {version})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deb", help="the package to install (default: packaging/out/edgecensus_*+deb12_amd64.deb)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("EDGECENSUS_APPLIANCE_SEED", "14")))
    parser.add_argument("--ring-cuts", type=int, default=3)
    parser.add_argument("--change-cuts", type=int, default=2)
    parser.add_argument("--keep", help="keep the disk image, logs and share in this folder")
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        cannot_run("it needs root (mount, chroot)")
    for tool, package in (("qemu-system-x86_64", "qemu-system-x86"), ("mosquitto_sub", "mosquitto-clients"),
                          ("mke2fs", "e2fsprogs")):
        if shutil.which(tool) is None:
            cannot_run(f"no {tool} (apt-get install {package})")
    deb = arguments.deb
    if deb is None:
        candidates = sorted(f for f in os.listdir(f"{HERE}/out") if re.fullmatch(r"edgecensus_.*\+deb12_amd64\.deb", f)) \
            if os.path.isdir(f"{HERE}/out") else []
        if not candidates:
            cannot_run("no Debian 12 amd64 package in packaging/out (packaging/build-deb.sh makes it)")
        deb = f"{HERE}/out/{candidates[-1]}"
    work = arguments.keep or tempfile.mkdtemp(prefix="edgecensus-appliance-", dir="/var/tmp")
    os.makedirs(work, exist_ok=True)
    say(f"package {os.path.basename(deb)}, seed {arguments.seed}, work folder {work}")
    started = time.time()
    device = observer = None
    try:
        image_started = time.time()
        version = make_image(deb, work)
        say(f"disk image with kernel {version} made in {time.time() - image_started:.0f} s")
        device = Device(work, version, free_port())
        observer = Observer(device.port)
        scenarios = Scenarios(device, observer, random.Random(arguments.seed))
        scenarios.timed("boot", scenarios.boot)
        scenarios.timed("crash", scenarios.crash)
        scenarios.timed("hang", scenarios.hang)
        scenarios.timed("power cuts while remote changes are saved", lambda: scenarios.remote_change_cuts(arguments.change_cuts))
        scenarios.timed("power cuts while windows go into the ring", lambda: scenarios.ring_cuts(arguments.ring_cuts))
        scenarios.timed("persistence over a clean reboot", scenarios.persistence)
        device.sh("systemctl poweroff", allow_failure=True)
        device.wait_poweroff()
    except Failure as failure:
        say(f"FAILED: {failure}")
        if device is not None and device.qemu is not None:
            try:
                print(device.sh("journalctl -b -u edgecensus -o short-monotonic --no-pager | tail -40", timeout=60,
                                allow_failure=True)[1])
            except Failure:
                pass
        return 1
    finally:
        if observer:
            observer.disconnect()
        if device:
            device.stop()
        if not arguments.keep:
            shutil.rmtree(work, ignore_errors=True)
    say(f"boots: {len(device.boot_seconds)}, each {min(device.boot_seconds):.0f}–{max(device.boot_seconds):.0f} s "
        f"from qemu's start to the runner")
    for name, seconds in scenarios.timings.items():
        say(f"  {name}: {seconds:.0f} s")
    say(f"appliance test passed in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
