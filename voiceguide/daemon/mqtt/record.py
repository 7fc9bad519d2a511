"""What the device last announced, and where: so that removing the ``[mqtt]`` table also removes the entities.

When the bridge has announced the device it writes the broker settings to ``mqtt-announced.json`` in the
private data folder (mode 0600; it holds the broker password when the table had one). A daemon started
without the table finds the file, clears the device's retained configs on that broker (Home Assistant
then removes the entities) and deletes the file. ``voiceguide mqtt forget`` does the same at once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from voiceguide.daemon.mqtt import discovery
from voiceguide.daemon.mqtt.device import device_id
from voiceguide.daemon.mqtt.discovery import Device
from voiceguide.daemon.mqtt.settings import MqttSettings
from voiceguide.daemon.mqtt.wire import publish_once
from voiceguide.errors import InputFileError, VoiceguideError
from voiceguide.places import write_private
from voiceguide.safe_read import read_text

log = logging.getLogger(__name__)

RECORD_FILE = "mqtt-announced.json"


def save(settings: MqttSettings, folder: Path) -> None:
    """Keep the settings the device was announced with (OSError is logged, not raised)."""
    data = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(settings).items()}
    try:
        write_private(folder / RECORD_FILE, json.dumps(data) + "\n")
    except OSError as exc:
        log.warning("MQTT: cannot keep %s (%s): removing [mqtt] later will not remove the entities by itself",
                    folder / RECORD_FILE, exc.strerror or exc)


def load(folder: Path) -> MqttSettings | None:
    """The settings last announced with, or None."""
    try:
        data: Any = json.loads(read_text(folder / RECORD_FILE, 64_000))
    except InputFileError as exc:
        if not exc.missing:
            log.warning("MQTT: %s", exc)
        return None
    except ValueError:
        log.warning("MQTT: %s is damaged; ignored", folder / RECORD_FILE)
        return None
    known = {f.name for f in fields(MqttSettings)}
    if not isinstance(data, dict) or not isinstance(data.get("host"), str):
        return None
    values = {k: v for k, v in data.items() if k in known}
    if isinstance(values.get("tls_ca"), str):
        values["tls_ca"] = Path(values["tls_ca"])
    try:
        return MqttSettings(**values)
    except TypeError:
        return None


def clear(folder: Path) -> None:
    (folder / RECORD_FILE).unlink(missing_ok=True)


def forget(settings: MqttSettings, data_folder: Path, client_factory: Callable[..., Any] | None = None,
           timeout: float = 10.0) -> int:
    """Remove this device's entities from Home Assistant (empty retained configs); returns how many topics
    were cleared. Raises :class:`~voiceguide.errors.DaemonError` when the broker cannot be reached."""
    did = device_id(data_folder)
    device = Device(did, settings.name, settings.discovery_prefix, settings.topic_base(did), True)
    topics = [*discovery.config_topics(device), device.availability,
              *(device.state(k) for k in ("session", "minutes", "volume", "state", "playing", "playing_session",
                                          "step", "time_left", "next", "next_session", "mood"))]
    publish_once(settings, f"voiceguide-{did}-forget", [(t, b"") for t in topics], timeout, client_factory)
    return len(topics)


def forget_in_background(folder: Path) -> threading.Thread | None:
    """Without an ``[mqtt]`` table: remove the entities announced before, on a thread; None when none were."""
    settings = load(folder)
    if settings is None:
        return None

    def run() -> None:
        try:
            forget(settings, folder)
        except VoiceguideError as exc:
            log.warning("MQTT: [mqtt] was removed, but the entities announced on %s:%d could not be removed: %s "
                        "(voiceguide mqtt forget tries again)", settings.host, settings.port, exc)
            return
        clear(folder)
        log.info("MQTT: [mqtt] was removed: the device is gone from Home Assistant (%s:%d)",
                 settings.host, settings.port)

    thread = threading.Thread(target=run, name="voiceguide-mqtt-forget", daemon=True)
    thread.start()
    return thread
