"""A ``voiceguide ctl status`` reply -> the retained state messages, and the session events between two replies.

Only what ``status`` says is published: state, session title, step, time left, next scheduled session and
volume. Nothing from the journal (no answer, no transcript, no recording) is in a status reply, so none
of it can reach the broker from here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from voiceguide.daemon.mqtt.catalog import Catalog
from voiceguide.daemon.mqtt.discovery import STATES

NONE = "None"
"""The payload Home Assistant's MQTT sensors read as "unknown"."""
ACTIVE = ("playing", "holding", "paused", "stopping")


def state_of(status: dict[str, Any]) -> str:
    """One of :data:`STATES`: the runner's state, ``holding`` while the player waits for an answer."""
    state = status.get("state")
    if state == "listening":
        return "holding"
    return state if isinstance(state, str) and state in STATES else "idle"


def messages(status: dict[str, Any], catalog: Catalog) -> dict[str, str]:
    """State topic key -> payload, for every state entity."""
    state = state_of(status)
    session = status.get("session") if state != "idle" else None
    out = {"state": state, "playing": "ON" if state in ("playing", "holding") else "OFF",
           "playing_session": catalog.label_of(session) if isinstance(session, str) else NONE,
           "step": NONE, "time_left": NONE, "next": NONE, "next_session": NONE}
    step, steps = status.get("step"), status.get("steps")
    if session is not None and isinstance(step, int) and isinstance(steps, int):
        out["step"] = f"{step}/{steps}"
    seconds, position = status.get("seconds"), status.get("position")
    if session is not None and isinstance(seconds, int | float) and isinstance(position, int | float) and seconds:
        out["time_left"] = str(max(0, round(seconds - position)))
    upcoming = status.get("next")
    if isinstance(upcoming, dict):
        when = _timestamp(upcoming.get("at"))
        if when is not None:
            out["next"] = when
        if isinstance(upcoming.get("session"), str):
            out["next_session"] = catalog.label_of(upcoming["session"])
    volume = status.get("volume")
    if isinstance(volume, int | float) and not isinstance(volume, bool):
        out["volume"] = str(round(volume * 100))
    return out


def _timestamp(value: object) -> str | None:
    """The daemon's local ``2026-12-07T22:00`` as an ISO time with its offset (Home Assistant needs one)."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.astimezone()
    return when.isoformat()


@dataclass
class EventTracker:
    """Says which session events happened between two status replies."""

    ended: int | None = None
    """The daemon's count of ended sessions last seen; None before the first reply."""
    started: tuple[int, str] | None = None
    """The (ended count, session) last reported as started."""

    def events(self, status: dict[str, Any], catalog: Catalog) -> list[dict[str, str]]:
        """The event payloads (``{"event_type": ..., "session": ...}``) that ``status`` shows."""
        out: list[dict[str, str]] = []
        first = self.ended is None  # a session already playing when the bridge started is not news
        ended = status.get("ended")
        last = status.get("last")
        if isinstance(ended, int):
            if self.ended is not None and ended > self.ended and isinstance(last, dict):
                kind = "stopped" if last.get("stopped") else "finished"
                out.append({"event_type": kind, "session": catalog.label_of(str(last.get("session", "")))})
            self.ended = ended
        session = status.get("session")
        if state_of(status) in ACTIVE and isinstance(session, str):
            key = (ended if isinstance(ended, int) else 0, session)
            if key != self.started:
                self.started = key
                if not first:
                    out.append({"event_type": "started", "session": catalog.label_of(session)})
        return out


def event_payload(event: dict[str, str]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()
