"""Home Assistant's MQTT discovery messages for one voiceguide device (pure: topics and JSON payloads).

One device, whose entities are: a ``select`` of sessions, ``button``s (start, pause/resume, skip, slower,
stop), two ``number``s (volume, minutes), ``sensor``s (state, session, step, time left, next scheduled), a
``binary_sensor`` (playing) and an ``event`` (started, finished, stopped). Each config is published
retained under ``<prefix>/<component>/voiceguide_<id>/<key>/config``; an empty retained message there
removes the entity. Every entity shares the device's availability topic (``online``/``offline``, the
offline one left as the client's last will).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from voiceguide import __version__

STATES = ("idle", "preparing", "playing", "holding", "paused", "stopping")
"""The values of the state sensor (``holding``: held at a listen step while the person answers)."""
EVENT_TYPES = ("started", "finished", "stopped")
"""The event entity's types."""
BUTTONS = {"start": "Start", "pause": "Pause / resume", "skip": "Skip", "slower": "Slower", "stop": "Stop"}
"""Button key -> its name in Home Assistant (each key is also its command topic's last part)."""
MINUTES_RANGE = (0, 120)
"""The minutes number: 0 plays a session as written."""
ONLINE, OFFLINE = "online", "offline"


@dataclass(frozen=True)
class Device:
    """What discovery needs to know about this device."""

    id: str
    """Its stable id (see :mod:`.device`)."""
    name: str
    """Its name in Home Assistant."""
    prefix: str
    """The discovery prefix."""
    base: str
    """The base topic of its state and commands."""
    mood: bool = False
    """Whether the mood sensor exists."""

    @property
    def node(self) -> str:
        """The node id in discovery topics, and the stem of every unique id."""
        return f"voiceguide_{self.id}"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    def state(self, key: str) -> str:
        """The state topic of ``key``."""
        return f"{self.base}/{key}"

    def command(self, key: str) -> str:
        """The command topic of ``key``."""
        return f"{self.base}/{key}/set"

    def config_topic(self, component: str, key: str) -> str:
        return f"{self.prefix}/{component}/{self.node}/{key}/config"


def entities(device: Device, options: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Every entity as (discovery topic, config), given the select's session options."""
    out: list[tuple[str, dict[str, Any]]] = []

    def add(component: str, key: str, name: str, **extra: Any) -> None:
        config: dict[str, Any] = {
            "name": name,
            "unique_id": f"{device.node}_{key}",
            "availability_topic": device.availability,
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "device": {"identifiers": [device.node], "name": device.name, "model": "voiceguide bedside speaker",
                       "manufacturer": "voiceguide", "sw_version": __version__},
            "origin": {"name": "voiceguide", "sw_version": __version__},
        }
        config.update(extra)
        out.append((device.config_topic(component, key), config))

    add("select", "session", "Session", command_topic=device.command("session"), state_topic=device.state("session"),
        options=list(options), icon="mdi:meditation")
    for key, name in BUTTONS.items():
        add("button", key, name, command_topic=device.command(key), payload_press="PRESS")
    add("number", "volume", "Volume", command_topic=device.command("volume"), state_topic=device.state("volume"),
        min=0, max=100, step=5, unit_of_measurement="%", mode="slider", icon="mdi:volume-medium")
    add("number", "minutes", "Minutes", command_topic=device.command("minutes"),
        state_topic=device.state("minutes"), min=MINUTES_RANGE[0], max=MINUTES_RANGE[1], step=1,
        unit_of_measurement="min", mode="box", icon="mdi:timer-outline")
    add("sensor", "state", "State", state_topic=device.state("state"), device_class="enum", options=list(STATES))
    add("sensor", "playing_session", "Playing", state_topic=device.state("playing_session"),
        icon="mdi:play-circle-outline")
    add("sensor", "step", "Step", state_topic=device.state("step"), icon="mdi:format-list-numbered")
    add("sensor", "time_left", "Time left", state_topic=device.state("time_left"), device_class="duration",
        unit_of_measurement="s", state_class="measurement")
    add("sensor", "next", "Next scheduled", state_topic=device.state("next"), device_class="timestamp")
    add("sensor", "next_session", "Next scheduled session", state_topic=device.state("next_session"),
        icon="mdi:calendar-clock")
    add("binary_sensor", "playing", "Playing now", state_topic=device.state("playing"), payload_on="ON",
        payload_off="OFF", device_class="running")
    add("event", "session_event", "Session", state_topic=device.state("event"), event_types=list(EVENT_TYPES))
    if device.mood:
        add("sensor", "mood", "Mood after the last session", state_topic=device.state("mood"),
            state_class="measurement", icon="mdi:emoticon-outline")
    return out


def config_topics(device: Device) -> list[str]:
    """Every discovery topic this device may have published (mood included), to remove them."""
    return [topic for topic, _ in entities(Device(device.id, device.name, device.prefix, device.base, True), [])]


def payload(config: dict[str, Any]) -> bytes:
    """A config as compact JSON."""
    return json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode()


COMMAND_KEYS = ("session", "volume", "minutes", *BUTTONS)
"""Every key that has a command topic."""
