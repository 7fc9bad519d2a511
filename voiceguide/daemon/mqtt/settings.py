"""The ``[mqtt]`` table: read and checked once, when the config is loaded, into :class:`MqttSettings`.

A password comes inline (``password``) or from a file (``password_file``) that only its owner may read
(mode 0600, like ssh's keys): a file others can read is refused with a message that says so.
"""

from __future__ import annotations

import os
import re
import socket
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceguide.errors import InputFileError
from voiceguide.script.checks import Checker, describe

DEFAULT_PORT = 1883
"""MQTT's plain TCP port."""
DEFAULT_PREFIX = "homeassistant"
"""Home Assistant's discovery prefix unless its MQTT settings changed it."""
PASSWORD_LIMIT = 4096
"""Largest password file read, in bytes."""
KEYS = {"host", "port", "username", "password", "password_file", "tls_ca", "discovery_prefix", "base_topic",
        "name", "mood"}
_TOPIC = re.compile(r"[^\x00-\x1f#+\x7f]+")
"""A topic (or prefix) we publish under: no wildcards, no control characters."""


@dataclass(frozen=True)
class MqttSettings:
    """Where the broker is and how the device is named in Home Assistant."""

    host: str
    """The broker's host name or address."""
    port: int = DEFAULT_PORT
    """Its TCP port (8883 is the usual one with TLS)."""
    username: str | None = None
    """The user name to log in with; None logs in without one."""
    password: str | None = field(default=None, repr=False)
    """The password (read from ``password_file`` when that was given); never logged."""
    tls_ca: Path | None = None
    """A CA certificate (PEM) to check the broker's TLS certificate against; None: plain TCP."""
    discovery_prefix: str = DEFAULT_PREFIX
    """Where Home Assistant listens for discovery messages."""
    base_topic: str | None = None
    """Where state and commands live; None: ``voiceguide/<device id>``."""
    name: str = field(default_factory=socket.gethostname)
    """The device's name in Home Assistant."""
    mood: bool = False
    """Publish the mood figures of the last session (numbers only); off unless turned on."""

    def topic_base(self, device_id: str) -> str:
        """The base topic for this device."""
        return self.base_topic if self.base_topic is not None else f"voiceguide/{device_id}"


def read_mqtt(check: Checker, t: object, path: Path | None) -> MqttSettings | None:
    """The table's settings, or None (with problems added to ``check``) when it is unusable."""
    where = "[mqtt]"
    if not isinstance(t, dict):
        check.add("file", f"mqtt must be a table ([mqtt]), not {describe(t)}")
        return None
    check.unknown(where, set(t), KEYS)
    host = check.text(where, "host", t["host"]) if "host" in t else None
    if "host" not in t:
        check.add(where, "host is required (the broker's name or address, e.g. \"192.168.1.10\")")
    port = check.number(where, "port", t["port"], 1, 65535, integer=True) if "port" in t else DEFAULT_PORT
    username = _text(check, where, t, "username")
    base = path.parent if path is not None else Path.cwd()
    password = _password(check, where, t, base)
    if password is not None and username is None:
        check.add(where, "a password needs a username")
    tls_ca = _file(check, where, t, "tls_ca", base)
    prefix = _topic(check, where, t, "discovery_prefix") or DEFAULT_PREFIX
    base_topic = _topic(check, where, t, "base_topic")
    name = _text(check, where, t, "name") or socket.gethostname()
    mood = t.get("mood", False)
    if not isinstance(mood, bool):
        check.add(where, f"mood must be true or false, not {describe(mood)}")
    if host is None or port is None:
        return None
    return MqttSettings(host, int(port), username, password, tls_ca, prefix, base_topic, name, mood is True)


def _text(check: Checker, where: str, t: dict[str, Any], key: str) -> str | None:
    if key not in t:
        return None
    return check.text(where, key, t[key])


def _topic(check: Checker, where: str, t: dict[str, Any], key: str) -> str | None:
    text = _text(check, where, t, key)
    if text is None:
        return None
    text = text.strip("/")
    if not text or not _TOPIC.fullmatch(text) or len(text) > 200:
        check.add(where, f"{key} must be a plain MQTT topic like \"voiceguide/bedroom\" (no # or +), "
                         f"not {describe(t[key])}")
        return None
    return text


def _file(check: Checker, where: str, t: dict[str, Any], key: str, base: Path) -> Path | None:
    text = _text(check, where, t, key)
    if text is None:
        return None
    path = base / Path(text).expanduser()
    if not path.is_file():
        check.add(where, f"{key}: no such file: {path}")
        return None
    return path


def _password(check: Checker, where: str, t: dict[str, Any], base: Path) -> str | None:
    if "password" in t and "password_file" in t:
        check.add(where, "give password or password_file, not both")
        return None
    if "password" in t:
        value = t["password"]
        if not isinstance(value, str) or not value:
            check.add(where, f"password must be text in quotes, not {describe(value)}")
            return None
        return value
    path = _file(check, where, t, "password_file", base)
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError as exc:
        check.add(where, f"password_file: cannot read {path}: {exc.strerror or exc}")
        return None
    if stat.S_IMODE(info.st_mode) & 0o077:
        check.add(where, f"password_file: {path} can be read by others (mode {stat.S_IMODE(info.st_mode):o}); "
                         f"make it private with: chmod 600 {path}")
        return None
    from voiceguide import safe_read  # here: the config module (which ctl imports) stays light

    try:
        text = safe_read.read_text(path, PASSWORD_LIMIT)
    except InputFileError as exc:
        check.add(where, f"password_file: {exc.reason}")
        return None
    password = text.strip("\r\n")
    if not password:
        check.add(where, f"password_file: {path} is empty")
        return None
    return password
