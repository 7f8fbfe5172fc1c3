#!/usr/bin/env bash
# The fleet scale run: for each N (default 100, 1000, 5000), a fresh mosquitto on a
# free loopback port with its default settings, N simulated devices publishing to
# it as agents do (`edgecensus bench --fleet N`: one simulated hour at 60x), then
# `fleet status` and a `fleet config set` to 1 000 devices, timed by the bench
# through the same code as the commands, and the broker's CPU and memory.
# Then the commands themselves, timed as an operator runs them (process start
# included) against the 5 000-device broker.
# Usage: Tests/Bench/fleet-scale.sh [N ...]   (EDGECENSUS: the binary; default the release build)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
edgecensus="${EDGECENSUS:-$repo/.build/release/edgecensus}"
[ -x "$edgecensus" ] || { echo "build it first: swift build -c release" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)
work="$(mktemp -d)"
trap 'kill "${broker:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
echo "mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'), $(nproc) cores, $(date -u +%Y-%m-%d)"
for n in "${sizes[@]}"; do
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n' "$port" > "$work/mosquitto.conf"
    /usr/sbin/mosquitto -c "$work/mosquitto.conf" >/dev/null 2>&1 &
    broker=$!
    for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
    "$edgecensus" bench --fleet "$n" --mqtt "127.0.0.1:$port" --broker-pid "$broker"
    if [ "$n" = "${sizes[-1]}" ]; then
        start=$(date +%s.%N)
        "$edgecensus" fleet status --mqtt "127.0.0.1:$port" --prefix benchfleet > "$work/status.txt"
        end=$(date +%s.%N)
        echo "  edgecensus fleet status (the command, $(($(wc -l < "$work/status.txt") - 2)) device lines): $(echo "$end - $start" | bc) s"
        start=$(date +%s.%N)
        "$edgecensus" fleet status --mqtt "127.0.0.1:$port" --prefix benchfleet --json > /dev/null
        end=$(date +%s.%N)
        echo "  edgecensus fleet status --json: $(echo "$end - $start" | bc) s"
    fi
    kill "$broker"; wait "$broker" 2>/dev/null || true
done
