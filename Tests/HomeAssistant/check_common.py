"""What the Home Assistant checks share: a mosquitto of their own, and how they report."""
import os
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds, process=None, what="server"):
    """Until something listens on the loopback port; exits naming `what` if it does not, or ends first."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit(f"{what} exited ({process.returncode}) before it listened on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not listen on {port} within {seconds} s")


def start_broker(work):
    """A mosquitto on a free loopback port, anonymous, without persistence: (process, port)."""
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, 20, broker, "mosquitto")
    return broker, port


def report(heading, notes, failures, check):
    """Prints the heading, each note and failure, the verdict; exits 0 only without failures."""
    print(heading)
    for note in notes:
        print(f"  note: {note}")
    for failure in failures:
        print(f"  FAIL: {failure}")
    print(f"{check}: " + ("passed" if not failures else f"{len(failures)} failure(s)"))
    sys.exit(1 if failures else 0)
