"""Shared by the MQTT tests: Home Assistant's discovery schema (the keys and types each entity kind needs),
a fake paho client, and a private Mosquitto broker.

The schema is written from Home Assistant's MQTT integration pages (select, button, number, sensor,
binary_sensor, event): each kind's required keys, and the types of the keys voiceguide sends.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REQUIRED = {
    "select": {"command_topic": str, "options": list},
    "button": {"command_topic": str},
    "number": {"command_topic": str},
    "sensor": {"state_topic": str},
    "binary_sensor": {"state_topic": str},
    "event": {"state_topic": str, "event_types": list},
}
"""Per entity kind: the keys Home Assistant requires, and their types."""
TYPES: dict[str, type | tuple[type, ...]] = {
    "name": str, "unique_id": str, "availability_topic": str, "payload_available": str,
    "payload_not_available": str, "device": dict, "origin": dict, "state_topic": str, "command_topic": str,
    "options": list, "payload_press": str, "min": (int, float), "max": (int, float), "step": (int, float),
    "unit_of_measurement": str, "mode": str, "device_class": str, "state_class": str, "icon": str,
    "payload_on": str, "payload_off": str, "event_types": list,
}
"""The type of every key voiceguide may send; an unknown key fails the check (a typo Home Assistant rejects)."""
SENSOR_CLASSES = {"enum", "duration", "timestamp"}
BINARY_CLASSES = {"running"}
NUMBER_MODES = {"auto", "box", "slider"}


def check_config(component: str, config: dict[str, Any]) -> list[str]:
    """What is wrong with one discovery config for Home Assistant (empty: nothing)."""
    problems = []
    for key, kind in REQUIRED[component].items():
        if not isinstance(config.get(key), kind):
            problems.append(f"{component}: {key} is required ({kind.__name__})")
    for key, value in config.items():
        kind = TYPES.get(key)
        if kind is None:
            problems.append(f"{component}: unknown key {key}")
        elif isinstance(value, bool) or not isinstance(value, kind):
            problems.append(f"{component}: {key} has the wrong type ({type(value).__name__})")
    for key in ("options", "event_types"):
        if key in config and not (config[key] and all(isinstance(o, str) and o for o in config[key])):
            problems.append(f"{component}: {key} must be a list of non-empty strings")
    device = config.get("device", {})
    if not (isinstance(device.get("identifiers"), list) and device["identifiers"]):
        problems.append(f"{component}: device needs identifiers")
    if component == "number" and not config.get("min", 1) < config.get("max", 100):
        problems.append("number: min must be below max")
    if component == "number" and config.get("mode", "auto") not in NUMBER_MODES:
        problems.append("number: mode must be auto, box or slider")
    if component == "sensor" and config.get("device_class", "enum") not in SENSOR_CLASSES:
        problems.append("sensor: unexpected device_class")
    if component == "sensor" and config.get("device_class") == "enum" and not isinstance(config.get("options"), list):
        problems.append("sensor: an enum sensor lists its options")
    if component == "sensor" and config.get("device_class") == "duration" and "unit_of_measurement" not in config:
        problems.append("sensor: a duration sensor needs a unit")
    if component == "binary_sensor" and config.get("device_class", "running") not in BINARY_CLASSES:
        problems.append("binary_sensor: unexpected device_class")
    for topic_key in ("state_topic", "command_topic", "availability_topic"):
        if topic_key in config and any(c in config[topic_key] for c in "#+"):
            problems.append(f"{component}: {topic_key} has a wildcard")
    return problems


@dataclass
class FakeInfo:
    rc: int = 0

    def wait_for_publish(self, timeout: float | None = None) -> None:
        return None

    def is_published(self) -> bool:
        return True


@dataclass
class FakeMessage:
    topic: str
    payload: bytes


@dataclass
class FakeClient:
    """Records what a bridge publishes and subscribes; the test calls its callbacks as paho's thread would."""

    connected: bool = False
    published: list[tuple[str, bytes, int, bool]] = field(default_factory=list)
    subscribed: list[Any] = field(default_factory=list)
    will: tuple[str, str, int, bool] | None = None
    on_connect: Any = None
    on_connect_fail: Any = None
    on_disconnect: Any = None
    on_message: Any = None

    def will_set(self, topic: str, payload: str, qos: int = 0, retain: bool = False) -> None:
        self.will = (topic, payload, qos, retain)

    def reconnect_delay_set(self, min_delay: int, max_delay: int) -> None:
        self.delays = (min_delay, max_delay)

    def connect_async(self, host: str, port: int, keepalive: int) -> None:
        self.target = (host, port)

    def loop_start(self) -> None: ...

    def loop_stop(self) -> None: ...

    def disconnect(self) -> None:
        self.connected = False

    def is_connected(self) -> bool:
        return self.connected

    def subscribe(self, topics: Any) -> None:
        self.subscribed.append(topics)

    def publish(self, topic: str, payload: bytes | str, qos: int = 0, retain: bool = False) -> FakeInfo:
        data = payload.encode() if isinstance(payload, str) else payload
        self.published.append((topic, data, qos, retain))
        return FakeInfo()

    def accept(self) -> None:
        """The broker accepted the connection."""
        self.connected = True

        class Ok:
            is_failure = False

        self.on_connect(self, None, None, Ok(), None)

    def deliver(self, topic: str, payload: bytes) -> None:
        self.on_message(self, None, FakeMessage(topic, payload))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_missing() -> str | None:
    for tool in ("mosquitto", "mosquitto_passwd", "openssl"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed (apt-get install mosquitto mosquitto-clients openssl)"
    return None


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


class Broker:
    """A private Mosquitto on a loopback port with one user (``vg`` / ``secret``); can be killed and restarted."""

    USER, PASSWORD = "vg", "secret"

    def __init__(self, folder: Path, tls: tuple[Path, Path, Path] | None = None) -> None:
        """``tls``: (CA, certificate, key) PEM files to serve TLS with."""
        self.folder = folder
        self.port = free_port()
        self.passwords = folder / "passwd"
        done = subprocess.run([_tool("mosquitto_passwd"), "-c", "-b", str(self.passwords), self.USER, self.PASSWORD],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        self.passwords.chmod(0o600)
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous false\n"
                             f"password_file {self.passwords}\npersistence false\n"
                             # run as root (CI), mosquitto would switch to its own user, who cannot read here
                             f"user {getpass.getuser()}\n"
                             + (f"cafile {tls[0]}\ncertfile {tls[1]}\nkeyfile {tls[2]}\n" if tls else ""),
                             encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.folder / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen([_tool("mosquitto"), "-c", str(self.conf)], stdout=log, stderr=log)
        give_up = time.monotonic() + 10
        while time.monotonic() < give_up:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return
            assert self.proc.poll() is None, (self.folder / "mosquitto.log").read_text(errors="replace")
            time.sleep(0.05)
        pytest.fail("mosquitto did not listen within 10 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None


def make_certificates(folder: Path, name: str = "test") -> tuple[Path, Path, Path]:
    """A CA and a certificate for 127.0.0.1 signed by it (EC keys, valid a day): (CA, certificate, key)."""
    ca, ca_key = folder / f"{name}-ca.pem", folder / f"{name}-ca.key"
    cert, key, csr = folder / f"{name}-server.pem", folder / f"{name}-server.key", folder / f"{name}.csr"
    ext = folder / f"{name}.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for command in (["req", "-x509", *ec, "-days", "1", "-subj", f"/CN={name} CA", "-keyout", ca_key, "-out", ca],
                    ["req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", csr],
                    ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "1",
                     "-out", cert, "-extfile", ext]):
        done = subprocess.run(["openssl", *map(str, command)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    return ca, cert, key


@contextlib.contextmanager
def private_broker(folder: Path, tls: tuple[Path, Path, Path] | None = None) -> Iterator[Broker]:
    """A started :class:`Broker` (skipped without mosquitto, except under CI=true, where that fails)."""
    reason = mosquitto_missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true, so the MQTT tests must run, but: {reason}")
        pytest.skip(reason)
    broker = Broker(folder, tls)
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()
