"""Home Assistant's long-term statistics add EdgeCensus windows up into hourly totals.

Run by check-discovery.py (with pytest and pytest-homeassistant-custom-component,
the harness Home Assistant's own integration tests use), on what a real agent
published: its discovery configs and a state document from its run. Home
Assistant's MQTT integration discovers the sensors from those configs; then the
state document is re-published for two hours of 10-minute windows (people and
window times changed, everything else as the agent wrote it), each as the window
closes, the recorder compiles its 5-minute and hourly statistics, and each hour's
total must be the sum of its windows.

What Home Assistant does, and this checks: a `total` sensor's first value is its
zero point, not added (here the window retained from before, as after HA starts);
each later window is added in the hour its state arrives, that is the hour in
which the window ended (a 09:50-10:00 window counts in 10:00-11:00); the same
window delivered again (a retained state after HA reconnects) is not added twice,
since its last_reset has not changed.
"""
import copy
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
import homeassistant.components.mqtt.config_flow  # noqa: F401 (imported before time is frozen, as HA's own tests do)
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

MESSAGES = os.environ.get("EDGECENSUS_MESSAGES", "")
ZERO = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
# People per 10-minute window, two hours from 09:00 (equal neighbours and empty
# windows change nothing but last_reset).
PEOPLE = [3, 0, 5, 5, 2, 7, 1, 4, 4, 0, 6, 2]
# Windows ending in 09:00-10:00 (the first five), in 10:00-11:00 (the next six).
HOUR_9, HOUR_10 = sum(PEOPLE[0:5]), sum(PEOPLE[5:11])


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# The MQTT client's periodic housekeeping timer outlives the test (HA's harness then only warns).
@pytest.mark.parametrize("expected_lingering_timers", [True])
@pytest.mark.skipif(not MESSAGES, reason="run by check-discovery.py, which gives the agent's messages")
async def test_hourly_totals(recorder_mock, hass, mock_hass_config, mqtt_mock_entry, freezer):
    messages = json.load(open(MESSAGES))
    configs = {t: p[-1] for t, p in messages.items() if t.startswith("homeassistant/") and t.endswith("/config") and p[-1]}
    template = json.loads([p for p in messages["edgecensus/hall/state"] if p][-1])
    await mqtt_mock_entry()
    freezer.move_to(ZERO - timedelta(minutes=1))
    for topic, payload in configs.items():
        async_fire_mqtt_message(hass, topic, payload)
    await hass.async_block_till_done()
    async_fire_mqtt_message(hass, "edgecensus/hall/status", "online")
    await hass.async_block_till_done()

    registry = er.async_get(hass)
    people_config = json.loads(configs["homeassistant/sensor/edgecensus_hall/people/config"])
    people = registry.async_get_entity_id("sensor", "mqtt", people_config["unique_id"])
    assert people, "Home Assistant did not create the people sensor from its discovery config"

    # The window retained from before HA started: the zero point.
    before = copy.deepcopy(template)
    before.update(window_start=iso(ZERO - timedelta(minutes=10)), window_end=iso(ZERO), people=9, partial=False)
    async_fire_mqtt_message(hass, "edgecensus/hall/state", json.dumps(before), retain=True)
    await hass.async_block_till_done()
    seq = template["seq"]
    for index, count in enumerate(PEOPLE):
        start = ZERO + timedelta(minutes=10 * index)
        end = start + timedelta(minutes=10)
        freezer.move_to(end + timedelta(seconds=1))
        document = copy.deepcopy(template)
        document.update(seq=seq + index + 1, window_start=iso(start), window_end=iso(end), people=count, partial=False)
        async_fire_mqtt_message(hass, "edgecensus/hall/state", json.dumps(document))
        await hass.async_block_till_done()
        assert hass.states.get(people).state == str(count)
        assert hass.states.get(people).attributes.get("window_start") == iso(start)
        if index == 5:
            # HA reconnects to the broker: the retained state again, three minutes later.
            freezer.move_to(end + timedelta(minutes=3))
            async_fire_mqtt_message(hass, "edgecensus/hall/state", json.dumps(document), retain=True)
            await hass.async_block_till_done()
    freezer.move_to(ZERO + timedelta(hours=2, minutes=6))
    await async_wait_recording_done(hass)
    for minutes in range(-5, 120, 5):
        do_adhoc_statistics(hass, start=ZERO + timedelta(minutes=minutes))
        await async_wait_recording_done(hass)

    hourly = statistics_during_period(hass, ZERO - timedelta(hours=1), ZERO + timedelta(hours=3), {people}, "hour", None,
                                      {"sum", "change", "last_reset"})[people]
    changes = {datetime.fromtimestamp(row["start"], timezone.utc).strftime("%H:%M"): row["change"] for row in hourly}
    print(f"\nHome Assistant hourly statistics of {people}: {changes}")
    assert changes.get("09:00") == HOUR_9 == 15
    assert changes.get("10:00") == HOUR_10 == 22
    for entry in hass.config_entries.async_entries("mqtt"):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
