"""``voiceguide doctor``'s MQTT check: can the broker be reached and does it take our login; what should
Home Assistant show."""

from __future__ import annotations

from pathlib import Path

from voiceguide.daemon.mqtt.catalog import load_catalog
from voiceguide.daemon.mqtt.device import device_id
from voiceguide.daemon.mqtt.discovery import BUTTONS, Device, entities
from voiceguide.daemon.mqtt.settings import MqttSettings
from voiceguide.errors import VoiceguideError

TIMEOUT = 5.0
"""Seconds the check waits for the broker."""


def check_broker(settings: MqttSettings, folder: Path) -> tuple[bool, str, str]:
    """(works, what was found, how to fix it): connects once, publishes nothing."""
    from voiceguide.daemon.mqtt.wire import publish_once

    did = device_id(folder)
    where = f"{settings.host}:{settings.port}" + (" (TLS)" if settings.tls_ca is not None else "")
    try:
        publish_once(settings, f"voiceguide-{did}-doctor", [], TIMEOUT)
    except VoiceguideError as exc:
        text = str(exc)
        if "wrong user name or password" in text or "not authori" in text.lower():
            fix = "check username and password (or password_file) under [mqtt], and the broker's user list"
        elif "certificate" in text.lower():
            fix = ("tls_ca under [mqtt] must be the CA that signed the broker's certificate, and that certificate "
                   f"must name {settings.host}")
        elif "extra" in text:
            fix = "pip install 'voiceguide[mqtt]'"
        else:
            fix = "check host and port under [mqtt]; is the broker running, and reachable from this device?"
        return False, text, fix
    device = Device(did, settings.name, settings.discovery_prefix, settings.topic_base(did), settings.mood)
    found = entities(device, load_catalog().options)
    kinds: dict[str, int] = {}
    for topic, _ in found:
        kind = topic.split("/")[-4]
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in kinds.items())
    return True, (f"broker {where} takes the login. Home Assistant (MQTT integration, discovery prefix "
                  f"'{settings.discovery_prefix}') should show one device '{settings.name}' with {len(found)} "
                  f"entities: {summary} (buttons: {', '.join(BUTTONS.values())}); its state lives under "
                  f"{device.base}/"), ""
