"""The MQTT bridge's pure parts and its thread, with a fake paho client and a fake daemon: the [mqtt] table,
discovery configs against Home Assistant's schema, commands read strictly, state and events from status."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.mqtt_helpers import REQUIRED, FakeClient, check_config
from voiceguide.daemon.config_read import loads_config
from voiceguide.daemon.mqtt import record
from voiceguide.daemon.mqtt.bridge import MqttBridge
from voiceguide.daemon.mqtt.catalog import Catalog, load_catalog
from voiceguide.daemon.mqtt.commands import Choice, Ignored, Request, read_command
from voiceguide.daemon.mqtt.device import device_id
from voiceguide.daemon.mqtt.discovery import Device, entities
from voiceguide.daemon.mqtt.settings import MqttSettings
from voiceguide.daemon.mqtt.states import EventTracker, messages
from voiceguide.daemon.mqtt.wire import Bucket, RateLimited
from voiceguide.errors import ConfigError

CATALOG = Catalog({"A one-minute pause": "demo", "Bedtime": "bedtime", "Slapengaan": "nl-bedtime"})


def _config(text: str, tmp_path: Path) -> Any:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return loads_config(text, path=path, check_sessions=False)


# --- the [mqtt] table --------------------------------------------------------------------------------------
def test_the_table_is_off_unless_set_and_has_defaults(tmp_path: Path) -> None:
    assert _config("", tmp_path).mqtt is None
    mqtt = _config('[mqtt]\nhost = "192.168.1.10"\n', tmp_path).mqtt
    assert (mqtt.host, mqtt.port, mqtt.username, mqtt.password, mqtt.tls_ca) == ("192.168.1.10", 1883, None, None, None)
    assert mqtt.discovery_prefix == "homeassistant" and mqtt.mood is False
    assert mqtt.topic_base("abc") == "voiceguide/abc" and mqtt.name


def test_a_password_file_must_be_private(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt-password"
    secret.write_text("hunter2\n", encoding="utf-8")
    secret.chmod(0o644)
    table = '[mqtt]\nhost = "hub"\nusername = "vg"\npassword_file = "mqtt-password"\n'
    with pytest.raises(ConfigError) as caught:
        _config(table, tmp_path)
    text = str(caught.value)
    assert "[mqtt]" in text and "can be read by others (mode 644)" in text and "chmod 600" in text
    secret.chmod(0o600)
    mqtt = _config(table, tmp_path).mqtt
    assert mqtt.password == "hunter2" and "hunter2" not in repr(mqtt)


@pytest.mark.parametrize(("table", "message"), [
    ('port = 1883', "host is required"),
    ('host = "h"\nport = 70000', "port must be from 1 to 65535"),
    ('host = "h"\npassword = "x"', "a password needs a username"),
    ('host = "h"\nusername = "u"\npassword = "x"\npassword_file = "f"', "not both"),
    ('host = "h"\nbase_topic = "voiceguide/#"', "base_topic must be a plain MQTT topic"),
    ('host = "h"\ntls_ca = "missing.pem"', "tls_ca: no such file"),
    ('host = "h"\nmood = "yes"', "mood must be true or false"),
    ('host = "h"\nhots = 1', "hots"),
])
def test_table_problems_are_located(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(f"[mqtt]\n{table}\n", tmp_path)
    assert message in str(caught.value) and "[mqtt]" in str(caught.value)


def test_the_device_id_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = device_id(tmp_path)
    assert len(first) == 12 and device_id(tmp_path) == first
    assert (tmp_path / "device-id").stat().st_mode & 0o777 == 0o600
    (tmp_path / "device-id").write_text("../../etc\n")
    assert device_id(tmp_path) != first


# --- discovery -------------------------------------------------------------------------------------------
def _device(mood: bool = False) -> Device:
    return Device("0123456789ab", "Bedroom", "homeassistant", "voiceguide/0123456789ab", mood)


def test_every_discovery_config_fits_home_assistants_schema() -> None:
    found = entities(_device(mood=True), CATALOG.options)
    kinds = [topic.split("/")[1] for topic, _ in found]
    assert set(kinds) == set(REQUIRED)
    assert kinds.count("button") == 5 and kinds.count("number") == 2 and kinds.count("sensor") == 7
    for topic, config in found:
        component = topic.split("/")[1]
        assert topic.startswith("homeassistant/") and topic.endswith("/config")
        assert check_config(component, config) == [], (topic, config)
        assert config["device"]["identifiers"] == ["voiceguide_0123456789ab"]
    unique = [config["unique_id"] for _, config in found]
    assert len(set(unique)) == len(unique)
    select = next(config for topic, config in found if "/select/" in topic)
    assert select["options"] == ["A one-minute pause", "Bedtime", "Slapengaan"]


def test_the_schema_check_catches_what_home_assistant_rejects() -> None:
    assert check_config("select", {"command_topic": "a", "device": {"identifiers": ["x"]}})
    assert check_config("event", {"state_topic": "a", "event_types": [], "device": {"identifiers": ["x"]}})
    assert check_config("number", {"command_topic": "a", "min": 5, "max": 1, "device": {"identifiers": ["x"]}})


def test_the_catalog_lists_bundled_sessions_in_both_languages() -> None:
    catalog = load_catalog()
    assert "demo" in catalog.by_label.values() and "nl-demo" in catalog.by_label.values()
    assert len(set(catalog.options)) == len(catalog.options)
    assert catalog.label_of("demo") != "demo"


# --- commands --------------------------------------------------------------------------------------------
def test_commands_map_to_ctl_requests() -> None:
    assert read_command("start", b"PRESS", CATALOG, "bedtime", 0) == Request({"command": "start", "session": "bedtime"})
    assert read_command("start", b"PRESS", CATALOG, "bedtime", 20) == \
        Request({"command": "start", "session": "bedtime", "minutes": 20})
    assert read_command("pause", b"PRESS", CATALOG, None, 0) == Request({"command": "pause"})
    assert read_command("stop", b"PRESS", CATALOG, None, 0) == Request({"command": "stop"})
    assert read_command("volume", b"40", CATALOG, None, 0) == Request({"command": "volume", "level": 0.4})
    assert read_command("session", b"Slapengaan", CATALOG, None, 0) == Choice(session="nl-bedtime")
    assert read_command("minutes", b"15", CATALOG, None, 0) == Choice(minutes=15.0)


@pytest.mark.parametrize(("key", "payload"), [
    ("session", b"/etc/passwd"), ("session", b"../../secret.toml"), ("session", b"demo"),
    ("start", b"/etc/passwd"), ("start", b""), ("volume", b"nan"), ("volume", b"101"), ("volume", b"1e999"),
    ("minutes", b"-1"), ("minutes", b"abc"), ("stop", b"\xff\xfe"), ("stop", b"PRESS" * 100), ("reboot", b"PRESS"),
])
def test_junk_and_paths_are_ignored(key: str, payload: bytes) -> None:
    assert isinstance(read_command(key, payload, CATALOG, "demo", 0), Ignored)


def test_start_without_a_chosen_session_is_ignored() -> None:
    assert isinstance(read_command("start", b"PRESS", Catalog({}), None, 0), Ignored)


# --- state and events ------------------------------------------------------------------------------------
def test_state_messages_follow_status() -> None:
    idle = messages({"ok": True, "state": "idle", "volume": 0.6, "ended": 0,
                     "next": {"session": "bedtime", "at": "2026-12-07T22:00"}}, CATALOG)
    assert idle["state"] == "idle" and idle["playing"] == "OFF" and idle["playing_session"] == "None"
    assert idle["volume"] == "60" and idle["next_session"] == "Bedtime" and idle["next"].startswith("2026-12-07T22:00")
    assert idle["next"][16:] != ""  # with its offset
    playing = messages({"state": "playing", "session": "demo", "seconds": 62.0, "position": 12.4, "step": 3,
                        "steps": 10}, CATALOG)
    assert playing["playing"] == "ON" and playing["time_left"] == "50" and playing["step"] == "3/10"
    assert playing["playing_session"] == "A one-minute pause"
    assert messages({"state": "listening", "session": "demo"}, CATALOG)["state"] == "holding"
    assert messages({"state": "weird"}, CATALOG)["state"] == "idle"


def test_events_started_finished_stopped() -> None:
    tracker = EventTracker()
    assert tracker.events({"state": "idle", "ended": 0}, CATALOG) == []
    assert tracker.events({"state": "preparing", "session": "demo", "ended": 0}, CATALOG) == []
    started = tracker.events({"state": "playing", "session": "demo", "ended": 0}, CATALOG)
    assert started == [{"event_type": "started", "session": "A one-minute pause"}]
    assert tracker.events({"state": "paused", "session": "demo", "ended": 0}, CATALOG) == []
    done = tracker.events({"state": "idle", "ended": 1, "last": {"session": "demo", "stopped": False}}, CATALOG)
    assert done == [{"event_type": "finished", "session": "A one-minute pause"}]
    tracker.events({"state": "playing", "session": "bedtime", "ended": 1}, CATALOG)
    stopped = tracker.events({"state": "idle", "ended": 2, "last": {"session": "bedtime", "stopped": True}}, CATALOG)
    assert stopped == [{"event_type": "stopped", "session": "Bedtime"}]


def test_rate_limited_logging_holds_back_repeats(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    now = [0.0]
    limited = RateLimited(logging.getLogger("t"), 10.0, clock=lambda: now[0])
    assert [limited.say("k", "junk") for _ in range(1000)].count(True) == 1
    now[0] = 11.0
    assert limited.say("k", "junk")
    assert "and 999 more like it" in caplog.text


# --- the bridge's thread with a fake client and a fake daemon --------------------------------------------
class FakeDaemon:
    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.status: dict[str, Any] = {"ok": True, "state": "idle", "volume": 1.0, "ended": 0}

    def __call__(self, message: dict[str, Any]) -> dict[str, Any]:
        self.asked.append(message)
        if message["command"] == "status":
            return dict(self.status)
        if message["command"] == "start":
            self.status.update(state="playing", session=message["session"])
        return {"ok": True}

    def requests(self) -> list[dict[str, Any]]:
        return [m for m in list(self.asked) if m["command"] != "status"]


def _wait(condition: Any, timeout: float = 10.0) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < give_up, "timed out"
        time.sleep(0.01)


@pytest.fixture
def wired(tmp_path: Path) -> Any:
    client = FakeClient()
    fake = FakeDaemon()
    settings = MqttSettings("hub", name="Bedroom")
    bridge = MqttBridge(settings, tmp_path, ask=fake, client_factory=lambda s, cid: client, catalog=CATALOG)
    bridge.start(lambda event: None)
    yield bridge, client, fake
    bridge.close()


def _retained(client: FakeClient) -> dict[str, bytes]:
    return {topic: payload for topic, payload, _, retain in client.published if retain}


def test_connecting_announces_every_entity_and_availability(wired: Any) -> None:
    bridge, client, _fake = wired
    assert client.will == (f"{bridge.device.base}/availability", "offline", 1, True)
    assert client.delays == (1, 60), "reconnects with back-off from 1 s to a minute"
    client.accept()
    _wait(lambda: f"{bridge.device.base}/state" in _retained(client))
    retained = _retained(client)
    configs = [t for t in retained if t.endswith("/config")]
    assert len(configs) == len(entities(bridge.device, CATALOG.options))
    assert retained[f"{bridge.device.base}/availability"] == b"online"
    assert retained[f"{bridge.device.base}/state"] == b"idle"
    assert client.subscribed == [[(f"{bridge.device.base}/+/set", 0), ("homeassistant/status", 0)]]
    client.published.clear()
    client.deliver("homeassistant/status", b"online")  # Home Assistant restarted
    _wait(lambda: len([t for t in _retained(client) if t.endswith("/config")]) == len(configs))


def test_commands_reach_the_daemon_as_ctl_requests(wired: Any) -> None:
    bridge, client, fake = wired
    client.accept()
    base = bridge.device.base
    client.deliver(f"{base}/session/set", b"Bedtime")
    client.deliver(f"{base}/minutes/set", b"20")
    client.deliver(f"{base}/start/set", b"PRESS")
    _wait(lambda: _retained(client).get(f"{base}/playing_session") == b"Bedtime")
    assert _retained(client)[f"{base}/state"] == b"playing"
    assert _retained(client)[f"{base}/session"] == b"Bedtime" and _retained(client)[f"{base}/minutes"] == b"20"
    client.deliver(f"{base}/pause/set", b"PRESS")
    client.deliver(f"{base}/stop/set", b"PRESS")
    _wait(lambda: len(fake.requests()) == 3)
    assert fake.requests() == [{"command": "start", "session": "bedtime", "minutes": 20.0}, {"command": "pause"},
                               {"command": "stop"}]


def test_ten_thousand_junk_messages_change_nothing(wired: Any, caplog: pytest.LogCaptureFixture) -> None:
    bridge, client, fake = wired
    bridge._inbox.reads.rate = 1e9  # the logic, not the pace (test_a_flood_is_read_at_a_bounded_rate)
    client.accept()
    base = bridge.device.base
    junk = [b"", b"PRESSED", b"/etc/passwd", b"\x00" * 300, b"{\"command\": \"start\"}", b"nan", b"-5"]
    topics = [f"{base}/{k}/set" for k in ("start", "stop", "pause", "volume", "minutes", "session", "nope")]
    for n in range(10_000):
        client.deliver(topics[n % len(topics)], junk[n % len(junk)])
    time.sleep(0.5)
    assert fake.requests() == []
    assert fake.status["state"] == "idle"
    assert caplog.text.count("ignored a message") <= 2


def test_forget_clears_every_retained_topic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient()

    def publish_once(settings: Any, cid: str, messages: list[tuple[str, bytes]], timeout: float,
                     factory: Any = None) -> None:
        for topic, payload in messages:
            client.publish(topic, payload, 1, True)

    monkeypatch.setattr(record, "publish_once", publish_once)
    count = record.forget(MqttSettings("hub"), tmp_path)
    did = device_id(tmp_path)
    assert count == len(client.published)
    assert all(payload == b"" and retain for _, payload, _, retain in client.published)
    configs = {topic for topic, *_ in client.published if topic.endswith("/config")}
    assert configs == {topic for topic, _ in entities(Device(did, "x", "homeassistant", f"voiceguide/{did}", True), [])}


def test_nothing_from_the_journal_is_in_a_state_message() -> None:
    status = {"state": "playing", "session": "diary", "answer": "private words", "transcript": "private words"}
    assert "private" not in json.dumps(messages(status, CATALOG))


def _journal_with_words(folder: Path) -> None:
    from voiceguide.journal.db import JOURNAL_FILE, Journal

    journal = Journal(folder / JOURNAL_FILE)
    journal.add("How was today?", "reflection", "my private words")
    journal.add("How do you feel, 0 to 10?", "rating", "seven", rating=7)
    journal.add("Anything else?", "reflection", "more private words")
    journal.close()


@pytest.mark.parametrize("mood", [False, True])
def test_only_the_mood_number_and_only_when_turned_on(tmp_path: Path, mood: bool) -> None:
    _journal_with_words(tmp_path)
    client, fake = FakeClient(), FakeDaemon()
    settings = MqttSettings("hub", name="Bedroom", mood=mood)
    bridge = MqttBridge(settings, tmp_path / "data", ask=fake, client_factory=lambda s, cid: client,
                        catalog=CATALOG, journal=tmp_path)
    bridge.start(lambda event: None)
    try:
        client.accept()
        _wait(lambda: f"{bridge.device.base}/state" in _retained(client))
        time.sleep(0.2)
    finally:
        bridge.close()
    everything = b" ".join(topic.encode() + b" " + payload for topic, payload, _, _ in client.published)
    assert b"private" not in everything and b"seven" not in everything and b"How" not in everything
    mood_topic = f"{bridge.device.base}/mood"
    assert (_retained(client).get(mood_topic) == b"7") is mood
    assert any("/sensor/" in t and t.endswith("/mood/config") for t in _retained(client)) is mood


def test_a_flood_is_read_at_a_bounded_rate(wired: Any) -> None:
    bridge, client, _ = wired
    bridge._inbox.reads.rate = 1000.0
    client.accept()
    began = time.monotonic()
    for _ in range(400):  # the first 100 (the burst) pass at once, the other 300 at 1000 a second
        client.deliver(f"{bridge.device.base}/stop/set", b"junk")
    assert time.monotonic() - began >= 0.25, "paho's thread is slowed down, not the daemon"


def test_the_readme_automation_is_valid_yaml_and_names_our_entities() -> None:
    import re

    import yaml  # PyYAML (installed with the dev extras, through faster-whisper)

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(automation:.*?)```", readme, re.S)
    assert block is not None
    automations = yaml.safe_load(block[1])["automation"]
    assert len(automations) == 2 and all({"alias", "triggers", "actions"} <= set(a) for a in automations)

    def slug(text: str) -> str:  # how Home Assistant makes an entity id from device name + entity name
        return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")

    ours = {f"{topic.split('/')[1]}.{slug('Bedroom ' + config['name'])}"
            for topic, config in entities(_device(), CATALOG.options)}
    named = set(re.findall(r"entity_id: ((?:select|button|sensor|binary_sensor)\.bedroom_\w+)", block[1]))
    assert named and named <= ours, named - ours
    options = re.findall(r'option: "([^"]+)"', block[1])
    assert options and set(options) <= set(load_catalog().options)


def test_a_burst_of_real_commands_is_cut_to_the_action_budget(wired: Any, caplog: pytest.LogCaptureFixture) -> None:
    bridge, client, fake = wired
    bridge._inbox.reads.rate = 1e9
    bridge._actions = Bucket(2.0, 10.0, clock=lambda: 0.0)  # time stands still: no refill
    client.accept()
    for _ in range(200):  # a script gone wrong: pause/resume as fast as it can
        client.deliver(f"{bridge.device.base}/pause/set", b"PRESS")
    _wait(lambda: len(fake.requests()) >= 10)
    time.sleep(0.3)  # room for more, were the budget not kept
    pauses = [m for m in fake.requests() if m["command"] == "pause"]
    assert len(pauses) == 10, len(pauses)  # the burst, and nothing more until time passes
    assert "more than 2 commands a second" in caplog.text
