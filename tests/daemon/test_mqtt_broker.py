"""The bridge against a real, private Mosquitto (no sound): removing the entities (``forget``, and a daemon
started without the table), the doctor's broker check, and a broker that floods the bridge."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mqtt_helpers import Broker, free_port, make_certificates, private_broker
from voiceguide.cli.main import main as cli_main
from voiceguide.daemon.mqtt import record
from voiceguide.daemon.mqtt.bridge import MqttBridge
from voiceguide.daemon.mqtt.catalog import Catalog
from voiceguide.daemon.mqtt.check import check_broker
from voiceguide.daemon.mqtt.settings import MqttSettings

CATALOG = Catalog({"A one-minute pause": "demo"})


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    folder = tmp_path / "broker"
    folder.mkdir()
    with private_broker(folder) as b:
        yield b


def _settings(broker: Broker, password: str = Broker.PASSWORD, port: int | None = None) -> MqttSettings:
    return MqttSettings("127.0.0.1", port or broker.port, Broker.USER, password, name="Test bedroom")


def _retained(broker: Broker, prefix: str = "homeassistant/#", quiet: float = 0.5) -> dict[str, bytes]:
    """What a client that subscribes now is given (retained messages only): everything that arrives after the
    broker confirms the subscription until ``quiet`` s pass without a message (a busy machine only makes this
    take longer; it never cuts the list short)."""
    from paho.mqtt import client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    found: dict[str, bytes] = {}
    subscribed = threading.Event()
    last = [time.monotonic()]

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        last[0] = time.monotonic()
        if message.retain:
            found[message.topic] = bytes(message.payload)

    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set(Broker.USER, Broker.PASSWORD)
    client.on_message = on_message
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(prefix)
    client.on_subscribe = lambda c, u, mid, rcs, p: (last.__setitem__(0, time.monotonic()), subscribed.set())
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        assert subscribed.wait(30), "the broker did not confirm the subscription"
        give_up = time.monotonic() + 30
        while time.monotonic() - last[0] < quiet and time.monotonic() < give_up:
            time.sleep(0.05)
    finally:
        client.disconnect()
        client.loop_stop()
    return found


def _retained_becomes(broker: Broker, topic: str, value: bytes, seconds: float = 30.0) -> bytes | None:
    """The retained value of ``topic`` once it is ``value`` (or the last one seen after ``seconds``)."""
    give_up = time.monotonic() + seconds
    while True:
        seen = _retained(broker, topic).get(topic)
        if seen == value or time.monotonic() > give_up:
            return seen


def _idle(message: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "state": "idle", "ended": 0}


def _announce(broker: Broker, folder: Path) -> MqttBridge:
    bridge = MqttBridge(_settings(broker), folder, ask=_idle, catalog=CATALOG)
    bridge.start(lambda event: None)
    give_up = time.monotonic() + 20
    while not (folder / record.RECORD_FILE).exists():
        assert time.monotonic() < give_up, "the bridge did not announce"
        time.sleep(0.05)
    return bridge


def test_forget_removes_every_entity(broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    from voiceguide.daemon.config import default_journal

    data = default_journal()
    bridge = _announce(broker, data)
    bridge.close()
    configs = [t for t in _retained(broker) if t.endswith("/config")]
    assert len(configs) == 16
    assert (data / record.RECORD_FILE).stat().st_mode & 0o777 == 0o600
    # the table is gone from the config: 'voiceguide mqtt forget' uses the record
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    assert cli_main(["mqtt", "forget", "--config", str(config)]) == 0
    assert "Home Assistant removes the device" in capsys.readouterr().out
    assert [t for t in _retained(broker) if t.endswith("/config")] == []
    assert not (data / record.RECORD_FILE).exists()


def test_a_daemon_started_without_the_table_removes_the_entities(broker: Broker, tmp_path: Path) -> None:
    bridge = _announce(broker, tmp_path)
    bridge.close()
    assert len([t for t in _retained(broker) if t.endswith("/config")]) == 16
    thread = record.forget_in_background(tmp_path)  # what app.build does when config.mqtt is None
    assert thread is not None
    thread.join(20)
    assert [t for t in _retained(broker) if t.endswith("/config")] == []
    assert not (tmp_path / record.RECORD_FILE).exists()
    assert record.forget_in_background(tmp_path) is None, "nothing more to do"


def test_close_says_offline_and_the_will_does_too(broker: Broker, tmp_path: Path) -> None:
    bridge = _announce(broker, tmp_path)
    availability = f"{bridge.device.base}/availability"
    assert _retained_becomes(broker, availability, b"online") == b"online"
    bridge.close()
    assert _retained_becomes(broker, availability, b"offline") == b"offline"


def test_doctor_says_what_home_assistant_should_show(broker: Broker, tmp_path: Path) -> None:
    works, detail, _ = check_broker(_settings(broker), tmp_path)
    assert works and "one device 'Test bedroom'" in detail and "5 button" in detail and "1 select" in detail
    works, detail, fix = check_broker(_settings(broker, password="wrong"), tmp_path)
    assert not works and "refused user 'vg'" in detail and "wrong user name or password" in detail
    assert "password" in fix
    works, detail, fix = check_broker(_settings(broker, port=free_port()), tmp_path)
    assert not works and "cannot reach the MQTT broker" in detail and "host and port" in fix
    assert _retained(broker) == {}, "the check publishes nothing"


def test_a_flood_from_the_broker_is_bounded(broker: Broker, tmp_path: Path) -> None:
    asked: list[dict[str, Any]] = []
    slow = threading.Event()

    def ask(message: dict[str, Any]) -> dict[str, Any]:
        asked.append(message)
        slow.wait(0.05)  # a daemon that answers slowly
        return _idle(message)

    bridge = MqttBridge(_settings(broker), tmp_path, ask=ask, catalog=CATALOG)
    bridge.start(lambda event: None)
    try:
        give_up = time.monotonic() + 20
        while bridge.connections == 0:
            assert time.monotonic() < give_up
            time.sleep(0.05)
        from paho.mqtt import client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        flood = mqtt.Client(CallbackAPIVersion.VERSION2)
        flood.username_pw_set(Broker.USER, Broker.PASSWORD)
        flood.connect("127.0.0.1", broker.port)
        flood.loop_start()
        for n in range(5000):
            flood.publish(f"{bridge.device.base}/volume/set", json.dumps({"n": n}), qos=0)
        flood.publish(f"{bridge.device.base}/volume/set", "50", qos=1).wait_for_publish(20)
        time.sleep(1.0)
        flood.disconnect()
        flood.loop_stop()
        assert bridge._inbox.qsize() <= 64  # bounded while it floods
    finally:
        bridge.close()
    assert all(m["command"] in ("status", "volume") for m in asked)


def test_tls_with_the_brokers_ca_and_not_without_it(tmp_path: Path) -> None:
    ca, cert, key = make_certificates(tmp_path)
    other_ca, _, _ = make_certificates(tmp_path, "other")
    folder = tmp_path / "tls-broker"
    folder.mkdir()
    with private_broker(folder, tls=(ca, cert, key)) as broker:
        settings = MqttSettings("127.0.0.1", broker.port, Broker.USER, Broker.PASSWORD, tls_ca=ca, name="TLS")
        works, detail, _ = check_broker(settings, tmp_path)
        assert works and "(TLS)" in detail, detail
        wrong = MqttSettings("127.0.0.1", broker.port, Broker.USER, Broker.PASSWORD, tls_ca=other_ca)
        works, detail, fix = check_broker(wrong, tmp_path)
        assert not works and "certificate verify failed" in detail and "tls_ca" in fix, detail
        plain = MqttSettings("127.0.0.1", broker.port, Broker.USER, Broker.PASSWORD)
        works, _, _ = check_broker(plain, tmp_path)
        assert not works, "plain TCP to a TLS listener"
