#!/usr/bin/env python3
"""Checks EdgeCensus's MQTT discovery against Home Assistant's own code.

Runs a real agent (the built `edgecensus`) on the walkers sample against a
mosquitto of its own, collects every discovery config and the state, health and
status documents it publishes, then, with the `homeassistant` package:
  1. expands abbreviations and validates each config with the MQTT platform's
     DISCOVERY_SCHEMA (sensor, binary_sensor), the origin and device schemas, as
     HA's discovery does; keys HA drops as unknown, and every warning HA logs
     while validating, are reported;
  2. renders every template (value, attributes, last_reset, availability) with
     HA's template engine on the real documents, and checks what HA would show:
     numbers where numbers are expected, a last_reset HA can parse, `online` as
     the only available status;
  3. with --hourly, runs test_hourly_totals.py (pytest, with Home Assistant's test
     harness) on the same messages: HA's MQTT integration discovers the sensors,
     its recorder compiles hourly statistics of two hours of windows, and each
     hour's total must be the sum of its windows.
Exit 0 when nothing failed. Needs Python 3.13 with `homeassistant` installed:
  python3.13 -m venv /tmp/ha && /tmp/ha/bin/pip install homeassistant==2025.4.4
  /tmp/ha/bin/python Tests/HomeAssistant/check-discovery.py --edgecensus .build/debug/edgecensus
"""
import argparse, asyncio, json, logging, os, subprocess, sys, tempfile, time

from check_common import report, start_broker

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collect(edgecensus, work):
    """Runs a broker and the agent; returns {topic: [payload, ...]} of what was published."""
    broker, port = start_broker(work)
    try:
        dump = os.path.join(work, "messages.txt")
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(port), "-h", "127.0.0.1", "-v", "-N", "-t", "homeassistant/#",
                                "-t", "edgecensus/#", "-F", "%t\t%p\n"], stdout=open(dump, "w"))
        time.sleep(0.5)
        config = os.path.join(work, "edgecensus.yaml")
        with open(config, "w") as f:
            f.write(f"""device: {{id: hall}}
source: {{kind: video, path: {REPO}/etc/samples/walkers.mp4, realtime: false}}
windows: {{length: 5}}
throttle: {{max_rate_hz: 30}}
state: {{directory: {work}/state}}
mqtt: {{host: 127.0.0.1, port: {port}, health_interval: 1, discovery: true}}
""")
        agent = subprocess.run([edgecensus, "run", "--models", f"{REPO}/Models", "--config", config],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
        if agent.returncode != 0:
            sys.exit(f"edgecensus run failed ({agent.returncode}): {agent.stderr[-2000:]}")
        time.sleep(1)
        sub.terminate()
        sub.wait()
    finally:
        broker.terminate()
        broker.wait()
    messages = {}
    for line in open(dump, encoding="utf-8"):
        topic, _, payload = line.rstrip("\n").partition("\t")
        messages.setdefault(topic, []).append(payload)
    return messages


class Findings(logging.Handler):
    """Every warning Home Assistant logs while it validates."""
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


async def check(messages):
    from homeassistant.const import __version__ as ha_version
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.template import Template
    from homeassistant.components.mqtt import discovery as mqtt_discovery
    from homeassistant.components.mqtt.schemas import MQTT_ORIGIN_INFO_SCHEMA, MQTT_ENTITY_DEVICE_INFO_SCHEMA
    from homeassistant.components.mqtt import sensor as mqtt_sensor, binary_sensor as mqtt_binary_sensor
    from homeassistant.util import dt as dt_util

    failures, notes = [], []
    findings = Findings()
    logging.getLogger("homeassistant").addHandler(findings)
    hass = HomeAssistant(tempfile.mkdtemp())
    schemas = {"sensor": mqtt_sensor.DISCOVERY_SCHEMA, "binary_sensor": mqtt_binary_sensor.DISCOVERY_SCHEMA}
    state = [json.loads(p) for p in messages.get("edgecensus/hall/state", []) if p]
    health = [json.loads(p) for p in messages.get("edgecensus/hall/health", []) if p]
    if not state or not health:
        failures.append(f"the agent published {len(state)} state and {len(health)} health documents; both are needed")
        return ha_version, failures, notes
    documents = {"edgecensus/hall/state": json.dumps(state[-1]), "edgecensus/hall/health": json.dumps(health[-1]),
                 "edgecensus/hall/status": "online"}
    configs = {t: p for t, ps in messages.items() if t.startswith("homeassistant/") and t.endswith("/config") for p in ps[-1:] if p}
    dropped_keys = {}
    for topic, payload in sorted(configs.items()):
        component = topic.split("/")[1]
        raw = json.loads(payload)
        config = json.loads(payload)
        mqtt_discovery._replace_all_abbreviations(config)
        findings.records.clear()
        try:
            MQTT_ORIGIN_INFO_SCHEMA(config["origin"])
            MQTT_ENTITY_DEVICE_INFO_SCHEMA(config["device"])
            validated = schemas[component](dict(config))
        except Exception as error:  # what HA would log and refuse
            failures.append(f"{topic}: Home Assistant refuses it: {error}")
            continue
        for record in findings.records:
            failures.append(f"{topic}: Home Assistant warns: {record}")
        for key in set(config) - set(validated):
            dropped_keys.setdefault(key, 0)
            dropped_keys[key] += 1
        # The templates, on the real documents.
        source = documents.get(raw.get("state_topic"))
        def render(template, payload):
            return Template(template, hass).async_render_with_possible_json_value(payload, "<no value>")
        if source is None:
            failures.append(f"{topic}: state_topic {raw.get('state_topic')} has no document to check with")
            continue
        value = render(raw["value_template"], source)
        numeric = component == "sensor" and ("unit_of_measurement" in raw or "state_class" in raw)
        if numeric and value not in ("None", ""):
            try:
                float(value)
            except ValueError:
                failures.append(f"{topic}: value_template gives {value!r}, not a number")
        if component == "binary_sensor" and value not in (raw.get("payload_on", "ON"), raw.get("payload_off", "OFF")):
            failures.append(f"{topic}: value_template gives {value!r}, neither payload_on nor payload_off")
        if "last_reset_value_template" in raw:
            reset = render(raw["last_reset_value_template"], source)
            if dt_util.parse_datetime(reset) is None:
                failures.append(f"{topic}: last_reset_value_template gives {reset!r}, which HA cannot parse")
        if "json_attributes_template" in raw:
            attributes = render(raw["json_attributes_template"], documents.get(raw["json_attributes_topic"], "{}"))
            try:
                if not isinstance(json.loads(attributes), dict):
                    raise ValueError
            except ValueError:
                failures.append(f"{topic}: json_attributes_template gives {attributes[:80]!r}, not a JSON object")
        for availability in raw.get("availability", []):
            template = availability.get("value_template")
            for status, expected in (("online", "online"), ("offline", "offline"), ("stopped", "offline")):
                shown = render(template, status) if template else status
                available = shown == availability.get("payload_available", "online")
                if available != (expected == "online"):
                    failures.append(f"{topic}: status {status!r} makes the entity {'available' if available else 'unavailable'}")
    notes.append(f"{len(configs)} discovery configs: "
                 + ", ".join(f"{sum(1 for t in configs if t.split('/')[1] == c)} {c}" for c in sorted(schemas)))
    for key, count in sorted(dropped_keys.items()):
        notes.append(f"Home Assistant {ha_version} does not know '{key}' (in {count} configs) and drops it, as it drops any key newer than itself")
    await hass.async_stop(force=True)
    return ha_version, failures, notes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edgecensus", default=os.path.join(REPO, ".build/debug/edgecensus"))
    parser.add_argument("--hourly", action="store_true", help="also check hourly totals in HA's long-term statistics")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        messages = collect(args.edgecensus, work)
        version, failures, notes = asyncio.run(check(messages))
        if args.hourly:
            saved = os.path.join(work, "messages.json")
            with open(saved, "w") as f:
                json.dump(messages, f)
            here = os.path.dirname(os.path.abspath(__file__))
            run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", os.path.join(here, "test_hourly_totals.py")],
                                 env=dict(os.environ, EDGECENSUS_MESSAGES=saved), cwd=here, capture_output=True, text=True)
            found = [line for line in run.stdout.splitlines() if "hourly statistics" in line]
            notes.extend(line.strip() for line in found)
            if run.returncode != 0 or " 1 passed" not in " " + run.stdout.splitlines()[-1]:
                failures.append("hourly totals: " + "\n".join(run.stdout.splitlines()[-30:]))
    report(f"Home Assistant {version} (Python {sys.version.split()[0]})", notes, failures, "discovery check")


if __name__ == "__main__":
    main()
