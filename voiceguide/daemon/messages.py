"""What ``voiceguide ctl``, the remote (and any other driver) send the daemon: one typed request, one wire form.

A request crosses the control socket as one JSON line; :class:`CtlRequest` is that line as a frozen
dataclass, made by ``ctl`` and the remote with :meth:`CtlRequest.to_dict` and read back by the daemon with
:meth:`CtlRequest.from_dict`, which says what is wrong with a bad one. Replies stay JSON objects with
``ok`` and either ``error`` or what was asked for (``state`` read from the runner, ``session`` ...).
This module imports nothing heavy, so ``ctl`` stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voiceguide.bounds import LEVEL, MINUTES

SESSION_COMMANDS = ("stop", "pause", "resume", "skip", "slower")
"""What can be asked of the session under way (``pause`` pauses, or resumes when paused)."""
COMMANDS = ("start", *SESSION_COMMANDS, "status", "reload", "volume")
"""Every command the daemon takes."""


@dataclass(frozen=True)
class CtlRequest:
    """One request to the daemon."""

    command: str
    """One of :data:`COMMANDS`."""
    session: str | None = None
    """For ``start``: the session's id or file."""
    minutes: float | None = None
    """For ``start``: fit the session to about this long (:data:`voiceguide.bounds.MINUTES`); None: as written."""
    level: float | None = None
    """For ``volume``: the master volume, 0..1."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object sent on the socket (fields left at None are left out)."""
        message: dict[str, Any] = {"command": self.command}
        for key in ("session", "minutes", "level"):
            value = getattr(self, key)
            if value is not None:
                message[key] = value
        return message

    @classmethod
    def from_dict(cls, message: Any) -> CtlRequest | str:
        """The request in ``message`` (a decoded JSON line), or what is wrong with it, for the sender."""
        if not isinstance(message, dict) or not isinstance(message.get("command"), str):
            return "a request is a JSON object with a 'command'"
        command = message["command"]
        if command not in COMMANDS:
            return f"unknown command {command!r}; known: {', '.join(COMMANDS)}"
        if command == "volume":
            level = message.get("level")
            if not isinstance(level, int | float) or level not in LEVEL:
                return f"volume needs a level {LEVEL}"
            return cls(command, level=float(level))
        if command == "start":
            session, minutes = message.get("session"), message.get("minutes")
            if not isinstance(session, str) or not session:
                return "start needs a session"
            if minutes is None:
                return cls(command, session)
            if not isinstance(minutes, int | float) or minutes not in MINUTES:
                return f"minutes must be a number {MINUTES}"
            return cls(command, session, float(minutes))
        return cls(command)


@dataclass(frozen=True)
class NextScheduled:
    """The next session the schedule will start."""

    session: str
    """Its id."""
    at: str
    """When, ISO date and time to the minute."""


@dataclass(frozen=True)
class LastSession:
    """The session that ended last (a watcher such as the MQTT bridge tells finished from stopped by it)."""

    session: str
    """Its id."""
    stopped: bool
    """Whether it was stopped early or failed, rather than played to its end."""


@dataclass(frozen=True)
class CtlReply:
    """The daemon's answer to one request; on the socket, a JSON object without the fields left at None."""

    ok: bool
    """Whether the request was done."""
    error: str | None = None
    """Why not, for a person (only when not ``ok``)."""
    state: str | None = None
    """What the session is doing, read from the runner (a ``RunState`` value; ``idle`` without one)."""
    session: str | None = None
    """The session under way (or just started)."""
    source: str | None = None
    """What started it: ``ctl``, ``schedule``, ``button``, ``wake`` ..."""
    seconds: float | None = None
    """Its length as prepared, in seconds."""
    position: float | None = None
    """Where the player is, in seconds."""
    step: int | None = None
    """The 1-based step playing."""
    steps: int | None = None
    """How many steps it has."""
    volume: float | None = None
    """The master volume, 0..1."""
    schedule: int | None = None
    """After ``reload``: how many scheduled entries were taken up."""
    next: NextScheduled | None = None
    """The next scheduled session, if any."""
    ended: int | None = None
    """How many sessions have ended since the daemon started (with ``last``: news for a watcher)."""
    last: LastSession | None = None
    """The session that ended last, if any."""

    @classmethod
    def refused(cls, error: str) -> CtlReply:
        """A request that was not done, and why."""
        return cls(False, error)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object sent back on the socket."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if value is not None:
                out[key] = dict(value.__dict__) if isinstance(value, NextScheduled | LastSession) else value
        return out

    @classmethod
    def from_dict(cls, reply: dict[str, Any]) -> CtlReply:
        """The reply in a decoded JSON object (fields this version does not know are left out)."""
        upcoming, last = reply.get("next"), reply.get("last")
        fields = {key: reply[key] for key in cls.__dataclass_fields__ if key in reply and key not in ("next", "last")}
        fields.setdefault("ok", False)
        if isinstance(upcoming, dict):
            fields["next"] = NextScheduled(str(upcoming.get("session")), str(upcoming.get("at")))
        if isinstance(last, dict):
            fields["last"] = LastSession(str(last.get("session")), bool(last.get("stopped")))
        return cls(**fields)
