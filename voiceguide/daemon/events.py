"""What goes on the daemon's one queue: requests from triggers, and news from the session worker.

Triggers (schedule, button, wake phrase, the control socket, signals) only ever put one of these on the
queue; the daemon loop is the one place that acts on them, so there is one session at a time by design.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from voiceguide.playback.control import Command

if TYPE_CHECKING:  # only named: the MQTT bridge imports these events, and the config imports its settings
    from voiceguide.daemon.config import Ramp

Reply = dict[str, Any]
"""A JSON-able answer for ``voiceguide ctl``."""


@dataclass(frozen=True)
class StartRequest:
    """A session someone (or something) asked for."""

    session: str
    """Session id or script path."""
    source: str
    """Who asked: ``schedule``, ``button``, ``wake`` or ``ctl``."""
    minutes: float | None = None
    """Fit it to about this many minutes; None plays it as written."""
    ramp: Ramp | None = None
    """A volume ramp at the start (scheduled sessions); None starts at full volume."""


@dataclass(frozen=True)
class Start:
    """Start a session (ignored, with a reply saying so, while one is playing)."""

    request: StartRequest
    """What to play."""
    reply: Callable[[Reply], None] | None = None
    """Called once with the outcome (ctl waits for it)."""


@dataclass(frozen=True)
class Control:
    """Stop, pause, resume or toggle the current session, or (by voice) skip, repeat or slow it."""

    command: Command
    """``STOP``, ``PAUSE``, ``RESUME``, ``TOGGLE``, ``SKIP``, ``REPEAT`` or ``SLOWER``."""
    source: str
    """Who asked."""
    reply: Callable[[Reply], None] | None = None
    """Called once with the outcome."""


@dataclass(frozen=True)
class Status:
    """Report what the daemon is doing."""

    reply: Callable[[Reply], None]
    """Called once with the status."""


@dataclass(frozen=True)
class Prepared:
    """The worker finished preparing a session and is about to play it."""

    request: StartRequest
    """The session it prepared."""
    seconds: float
    """Its length."""


@dataclass(frozen=True)
class Ended:
    """The worker finished with a session (played out, stopped, or failed)."""

    request: StartRequest
    """The session it was playing."""
    stopped_early: bool = False
    """True if it was stopped before the end."""
    played: float = 0.0
    """Seconds of stream played, pauses included."""
    error: str | None = None
    """Why it could not play, if it could not."""


@dataclass(frozen=True)
class Shutdown:
    """Stop any session with a fade and exit (SIGTERM, SIGINT)."""

    reason: str
    """For the log."""


@dataclass(frozen=True)
class Reload:
    """Read the config file again and take up its schedule and quiet hours (the phone remote changed them)."""

    reply: Callable[[Reply], None] | None = None
    """Called once with the outcome."""


@dataclass(frozen=True)
class SetVolume:
    """Set the master volume (0..1) for this and every later session while the daemon runs."""

    level: float
    """The new level."""
    reply: Callable[[Reply], None] | None = None
    """Called once with the outcome."""


Event = Start | Control | Status | Prepared | Ended | Shutdown | Reload | SetVolume
"""Anything the daemon loop handles."""

EventQueue = queue.SimpleQueue[Event]
"""``SimpleQueue``: its ``put`` is safe from signal handlers and other threads."""


class Trigger(Protocol):
    """A source of requests (a button, the wake phrase): puts events on the queue from its own thread."""

    name: str
    """For the log."""

    def start(self, post: Callable[[Event], None]) -> None:
        """Begin listening; call ``post`` for every request."""
        ...

    def close(self) -> None:
        """Stop listening and free the hardware."""
        ...


@dataclass
class ReplySlot:
    """A one-shot mailbox for a reply, waited on by the control socket's thread."""

    box: queue.SimpleQueue[Reply] = field(default_factory=queue.SimpleQueue)
    """Holds the reply once given."""

    def __call__(self, reply: Reply) -> None:
        self.box.put(reply)

    def wait(self, timeout: float) -> Reply | None:
        """The reply, or None if none came within ``timeout`` seconds."""
        try:
            return self.box.get(timeout=timeout)
        except queue.Empty:
            return None
