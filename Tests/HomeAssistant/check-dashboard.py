#!/usr/bin/env python3
"""Renders `edgecensus dashboard` in a real Home Assistant, in headless Chromium.

A real mosquitto, a real Home Assistant server (with its frontend, recorder and
history), and a real agent counting a sample video in real time:
  1. Home Assistant is onboarded over REST (the owner, core config, analytics,
     integrations) and its MQTT integration set up by its config flow, over REST;
  2. the agent runs on etc/samples/varied.mp4 as device `Hall-1` (capitals and a
     dash: the entity ids are Home Assistant's slugs), and the dashboard
     `edgecensus dashboard --device Hall-1` prints is installed as a YAML-mode dashboard;
  3. once Home Assistant shows the agent's counts and health, Chromium (Debian's,
     driven over the DevTools protocol) opens the dashboard logged in as the owner;
     the check fails if a card is missing or shows an error or a warning ("Entity
     not available", "Configuration error", …), and keeps a screenshot.
Exit 0 when nothing failed. Run by run-check.sh, with the Python of a virtual
environment that holds homeassistant and home-assistant-frontend.
"""
import argparse, asyncio, base64, json, os, re, shutil, signal, subprocess, sys, tempfile, time

import aiohttp

from check_common import free_port, report, start_broker, wait_for_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEVICE = "Hall-1"
SLUG = "hall_1"
CLIENT = None  # set once the HTTP port is known: Home Assistant's client id is the frontend's URL


class HomeAssistant:
    """A Home Assistant server of the virtual environment this script runs in."""

    def __init__(self, work, http_port, dashboard):
        self.config = os.path.join(work, "config")
        self.port = http_port
        self.url = f"http://127.0.0.1:{http_port}"
        os.makedirs(self.config)
        with open(os.path.join(self.config, "edgecensus-dashboard.yaml"), "w") as f:
            f.write(dashboard)
        with open(os.path.join(self.config, "configuration.yaml"), "w") as f:
            f.write(f"""homeassistant:
  name: EdgeCensus check
  latitude: 51.5
  longitude: 0
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: GB
  currency: EUR
http:
  server_host: 127.0.0.1
  server_port: {http_port}
frontend:
config:
recorder:
  commit_interval: 1
history:
logger:
  default: warning
lovelace:
  dashboards:
    edgecensus-devices:
      mode: yaml
      filename: edgecensus-dashboard.yaml
      title: EdgeCensus
      icon: mdi:account-group
      show_in_sidebar: true
""")
        self.log = open(os.path.join(work, "home-assistant.log"), "w")
        launcher = os.path.join(os.path.dirname(os.path.abspath(__file__)), "launch-home-assistant.py")
        self.process = subprocess.Popen([sys.executable, launcher, "-c", self.config, "--skip-pip", "--log-no-color"],
                                        stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def warnings(self):
        """The lines Home Assistant logged at WARNING or above about EdgeCensus, MQTT or the dashboard."""
        lines = open(self.log.name, encoding="utf-8", errors="replace").read().splitlines()
        return [l for l in lines if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", l)
                and re.search(r"mqtt|edgecensus|lovelace|frontend|recorder", l, re.I)]


async def onboard(session, ha):
    """The owner, then the other onboarding steps, as the frontend does them; returns tokens."""
    client_id = ha.url + "/"
    async with session.post(ha.url + "/api/onboarding/users", json={
            "client_id": client_id, "name": "Owner", "username": "owner", "password": "edgecensus-check", "language": "en"}) as r:
        if r.status != 200:
            sys.exit(f"onboarding the owner failed: {r.status} {await r.text()}")
        code = (await r.json())["auth_code"]
    async with session.post(ha.url + "/auth/token", data={"grant_type": "authorization_code", "code": code, "client_id": client_id}) as r:
        tokens = await r.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    for step, body in (("core_config", {}), ("analytics", {}), ("integration", {"client_id": client_id, "redirect_uri": client_id})):
        async with session.post(f"{ha.url}/api/onboarding/{step}", json=body, headers=headers) as r:
            if r.status not in (200, 403):  # 403: a step this release had already marked done
                sys.exit(f"onboarding step {step} failed: {r.status} {await r.text()}")
    return tokens, headers


async def set_up_mqtt(session, ha, headers, broker_port):
    """The MQTT integration, by its config flow (what Settings > Add integration does)."""
    async with session.post(ha.url + "/api/config/config_entries/flow", json={"handler": "mqtt", "show_advanced_options": False},
                            headers=headers) as r:
        flow = await r.json()
    for _ in range(4):
        if flow.get("type") == "create_entry":
            return
        if flow.get("type") == "menu":  # some releases ask first how to set it up
            answer = {"next_step_id": "broker" if "broker" in flow.get("menu_options", []) else flow["menu_options"][0]}
        elif flow.get("type") == "form":
            answer = {"broker": "127.0.0.1", "port": broker_port} if flow.get("step_id") == "broker" else {}
        else:
            sys.exit(f"the MQTT config flow answered {flow}")
        async with session.post(f"{ha.url}/api/config/config_entries/flow/{flow['flow_id']}", json=answer, headers=headers) as r:
            flow = await r.json()
    if flow.get("type") != "create_entry":
        sys.exit(f"the MQTT config flow did not finish: {flow}")


async def wait_for_entities(session, ha, headers, seconds):
    """Until the agent's counts and health show in Home Assistant; returns the states."""
    deadline = time.time() + seconds
    wanted = [f"sensor.edgecensus_{SLUG}_people", f"sensor.edgecensus_{SLUG}_cpu", f"binary_sensor.edgecensus_{SLUG}_connected",
              f"sensor.edgecensus_{SLUG}_people_last_hour"]
    states = {}
    while time.time() < deadline:
        async with session.get(ha.url + "/api/states", headers=headers) as r:
            states = {s["entity_id"]: s for s in await r.json()}
        shown = [states.get(e, {}).get("state") for e in wanted]
        if all(s not in (None, "unavailable", "unknown") for s in shown) and states[wanted[2]]["state"] == "on":
            return states
        await asyncio.sleep(0.5)
    sys.exit(f"Home Assistant did not show the agent's entities within {seconds} s: "
             + ", ".join(f"{e}={states.get(e, {}).get('state')}" for e in wanted))


# Runs in the page: every element below the document, through shadow roots, that is
# a card, an error card or a warning, with the text a user sees in it.
INSPECT = r"""
(() => {
  const found = {cards: [], errors: [], warnings: [], texts: []};
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (/^hui-.*-card$/.test(tag)) found.cards.push(tag);
      if (tag === 'hui-error-card') found.errors.push((el.shadowRoot ? el.shadowRoot.textContent : el.textContent).trim().slice(0, 300));
      if (tag === 'hui-warning' || tag === 'hui-warning-element') found.warnings.push(el.textContent.trim().slice(0, 300));
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const text = [];
  const collect = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) collect(el.shadowRoot);
      if (['STYLE', 'SCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
      for (const n of el.childNodes) if (n.nodeType === 3 && n.textContent.trim()) text.push(n.textContent.trim().slice(0, 200));
    }
  };
  collect(document);
  found.texts = text;
  return JSON.stringify(found);
})()
"""


class Chromium:
    """Debian's chromium, headless, driven over the DevTools protocol."""

    def __init__(self, work, width, height):
        self.profile = os.path.join(work, "chromium")
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            sys.exit("chromium is not installed (apt-get install chromium)")
        self.process = subprocess.Popen([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                         "--disable-dev-shm-usage", "--hide-scrollbars", f"--window-size={width},{height}",
                                         "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                                         f"--user-data-dir={self.profile}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        self.endpoint = None
        while time.time() < deadline and self.endpoint is None:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                sys.exit("chromium exited before it listened")
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            if match:
                self.endpoint = match.group(1)
        if self.endpoint is None:
            sys.exit("chromium did not say where it listens within 60 s")
        self.next_id = 0

    async def open_page(self, session):
        http = self.endpoint.replace("ws://", "http://").split("/devtools/")[0]
        async with session.get(http + "/json/list") as r:
            pages = [t for t in await r.json() if t["type"] == "page"]
        self.ws = await session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)

    async def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=120)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def evaluate(self, expression):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def render(ha, tokens, screenshot, expected_cards):
    """Opens the dashboard logged in; returns (failures, notes)."""
    failures, notes = [], []
    work = os.path.dirname(screenshot)
    browser = Chromium(tempfile.mkdtemp(dir=work), 1280, 960)
    try:
        async with aiohttp.ClientSession() as session:
            await browser.open_page(session)
            await browser.call("Page.enable")
            await browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=960, deviceScaleFactor=1, mobile=False)
            # The frontend keeps its tokens in localStorage under hassTokens: set them on its origin, then open the dashboard.
            await browser.call("Page.navigate", url=ha.url + "/manifest.json")
            await asyncio.sleep(1)
            stored = {"hassUrl": ha.url, "clientId": ha.url + "/", "access_token": tokens["access_token"],
                      "refresh_token": tokens["refresh_token"], "token_type": "Bearer", "expires_in": tokens["expires_in"],
                      "expires": int(time.time() * 1000) + tokens["expires_in"] * 1000}
            await browser.evaluate(f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(stored))}); true")
            path = "/edgecensus-devices/edgecensus-" + SLUG.replace("_", "-")
            await browser.call("Page.navigate", url=ha.url + path)
            # Until every card has rendered and the graphs have drawn (or 90 s).
            found = {}
            deadline = time.time() + 90
            while time.time() < deadline:
                await asyncio.sleep(2)
                found = json.loads(await browser.evaluate(INSPECT) or "{}")
                cards = [c for c in found.get("cards", []) if c != "hui-error-card"]
                loading = any(re.match(r"loading", t, re.I) for t in found.get("texts", []))
                if len(cards) >= expected_cards and not loading:
                    await asyncio.sleep(3)  # the charts' drawing settles
                    found = json.loads(await browser.evaluate(INSPECT) or "{}")
                    break
            shot = await browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
    finally:
        browser.stop()
    cards = [c for c in found.get("cards", []) if c != "hui-error-card"]
    notes.append(f"{len(cards)} cards rendered: " + ", ".join(sorted(set(cards))))
    if len(cards) < expected_cards:
        failures.append(f"{len(cards)} cards rendered, {expected_cards} expected; the page said: {found.get('texts', [])[:40]}")
    for error in found.get("errors", []):
        failures.append(f"a card shows an error: {error}")
    for warning in found.get("warnings", []):
        failures.append(f"a card shows a warning: {warning}")
    for text in found.get("texts", []):
        if re.search(r"entity not available|configuration error|unknown card type|no card type", text, re.I):
            failures.append(f"the page says: {text}")
    # The agent is running: its entities must show values, not "Unavailable", and Connected must say so.
    unavailable = sum(1 for t in found.get("texts", []) if t.lower() in ("unavailable", "disconnected"))
    if unavailable:
        failures.append(f"{unavailable} entities show Unavailable or Disconnected while the agent runs")
    return failures, notes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edgecensus", default=os.path.join(REPO, ".build/debug/edgecensus"))
    parser.add_argument("--screenshot", required=True, help="where to keep the screenshot (PNG)")
    args = parser.parse_args()
    from homeassistant.const import __version__ as ha_version
    failures, notes = [], []
    with tempfile.TemporaryDirectory() as work:
        broker, broker_port = start_broker(work)
        http_port = free_port()
        agent = ha = None
        try:
            dashboard = subprocess.run([args.edgecensus, "dashboard", "--device", DEVICE], capture_output=True, text=True, check=True).stdout
            expected_cards = dashboard.count("- type: entities") + dashboard.count("- type: statistics-graph") + dashboard.count("- type: glance")
            ha = HomeAssistant(work, http_port, dashboard)
            wait_for_port(http_port, 300, ha.process, "Home Assistant")

            async def set_up():
                async with aiohttp.ClientSession() as session:
                    # The HTTP server answers before the frontend is set up: wait for onboarding to answer.
                    for _ in range(600):
                        try:
                            async with session.get(ha.url + "/api/onboarding") as r:
                                if r.status == 200:
                                    break
                        except aiohttp.ClientError:
                            pass
                        await asyncio.sleep(0.5)
                    tokens, headers = await onboard(session, ha)
                    await set_up_mqtt(session, ha, headers, broker_port)
                    return tokens, headers
            tokens, headers = asyncio.run(set_up())

            config = os.path.join(work, "edgecensus.yaml")
            with open(config, "w") as f:
                f.write(f"""device: {{id: {DEVICE}}}
source: {{kind: video, path: {REPO}/etc/samples/varied.mp4, realtime: true}}
windows: {{length: 5}}
state: {{directory: {work}/state}}
mqtt: {{host: 127.0.0.1, port: {broker_port}, health_interval: 2, discovery: true}}
""")
            agent_log = open(os.path.join(work, "agent.log"), "w")
            agent = subprocess.Popen([args.edgecensus, "run", "--models", f"{REPO}/Models", "--config", config],
                                     stdout=subprocess.DEVNULL, stderr=agent_log)

            async def check():
                async with aiohttp.ClientSession() as session:
                    states = await wait_for_entities(session, ha, headers, 120)
                    # Two more windows, so that the last window has people in it.
                    await asyncio.sleep(10)
                notes.append(f"Home Assistant has {sum(1 for e in states if 'edgecensus_' + SLUG in e)} entities of {DEVICE}")
                return await render(ha, tokens, args.screenshot, expected_cards)
            started = time.time()
            found, seen = asyncio.run(check())
            notes.append(f"Home Assistant showed the agent's entities and Chromium rendered the dashboard in {time.time() - started:.0f} s")
            failures += found
            notes += seen
            if agent.poll() is not None:
                failures.append(f"the agent stopped before the dashboard was read ({agent.returncode}): "
                                + open(agent_log.name).read()[-1500:])
            for line in ha.warnings():
                failures.append(f"Home Assistant logged: {line[:400]}")
        finally:
            if agent is not None and agent.poll() is None:
                agent.terminate()
                agent.wait(60)
            if ha is not None:
                ha.stop()
            broker.terminate()
            broker.wait()
            if ha is not None:
                shutil.copy(ha.log.name, os.path.splitext(args.screenshot)[0] + ".home-assistant.log")
            if failures and ha is not None:
                print("--- the end of Home Assistant's log ---")
                print("\n".join(open(ha.log.name, errors="replace").read().splitlines()[-40:]))
    notes.append(f"screenshot: {args.screenshot}")
    report(f"Home Assistant {ha_version} dashboard, in headless Chromium (Python {sys.version.split()[0]})", notes, failures,
           "dashboard check")


if __name__ == "__main__":
    main()
