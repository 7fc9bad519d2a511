"""What Home Assistant sends, read strictly: a command topic and payload -> one action, or a reason to ignore it.

Nothing here trusts a payload: it must be short UTF-8 text, a button's press word, a number in range, or a
session label from the catalog. The result is either a ``ctl`` request (the same JSON ``voiceguide ctl``
sends) or a change to the bridge's own choice of session or minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from voiceguide.daemon.mqtt.catalog import Catalog
from voiceguide.daemon.mqtt.discovery import BUTTONS, MINUTES_RANGE

MAX_PAYLOAD = 256
"""Longest command payload read, in bytes."""
PRESS = "PRESS"
CTL = {"pause": "pause", "skip": "skip", "slower": "slower", "stop": "stop"}
"""Buttons that are one ctl command each (``pause`` pauses, or resumes when paused)."""


@dataclass(frozen=True)
class Choice:
    """A new session or length for the start button."""

    session: str | None = None
    """The chosen session's id."""
    minutes: float | None = None
    """The chosen minutes (0: as written)."""


@dataclass(frozen=True)
class Request:
    """A request for the daemon, exactly as ``voiceguide ctl`` would send it."""

    message: dict[str, Any]
    """The ctl JSON."""


@dataclass(frozen=True)
class Ignored:
    """A message that does nothing, and why (for a rate-limited log line)."""

    reason: str


Action = Choice | Request | Ignored


def read_command(key: str, payload: bytes, catalog: Catalog, session: str | None, minutes: float) -> Action:
    """The action of ``payload`` on the command topic of ``key``, with the current choices."""
    if len(payload) > MAX_PAYLOAD:
        return Ignored(f"{key}: payload of {len(payload)} bytes is too long")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return Ignored(f"{key}: payload is not UTF-8 text")
    if key == "session":
        chosen = catalog.by_label.get(text)
        return Choice(session=chosen) if chosen is not None else Ignored("session: not one of the listed sessions")
    if key in ("volume", "minutes"):
        number = _number(text)
        low, high = (0.0, 100.0) if key == "volume" else (float(MINUTES_RANGE[0]), float(MINUTES_RANGE[1]))
        if number is None or not low <= number <= high:
            return Ignored(f"{key}: not a number from {low:g} to {high:g}")
        if key == "volume":
            return Request({"command": "volume", "level": round(number / 100, 3)})
        return Choice(minutes=number)
    if key not in BUTTONS:
        return Ignored("unknown command topic")
    if text != PRESS:
        return Ignored(f"{key}: a button's payload is {PRESS}")
    if key != "start":
        return Request({"command": CTL[key]})
    if session is None:
        return Ignored("start: no session chosen (choose one in the Session list)")
    message: dict[str, Any] = {"command": "start", "session": session}
    if minutes > 0:
        message["minutes"] = minutes
    return Request(message)


def _number(text: str) -> float | None:
    if len(text) > 20:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
