"""Local wall time for the daemon, and the one place its loop blocks: real and fake.

The session's own timing stays on :class:`voiceguide.seams.Clock`; the daemon needs the time of day
(schedules, quiet hours) and a blocking wait on its event queue that a test can make instant.
"""

from __future__ import annotations

import datetime as dt
import queue
from typing import Protocol

from voiceguide.daemon.events import Event, EventQueue


class WallClock(Protocol):
    """Local time of day and a wait for the next event."""

    def now(self) -> dt.datetime:
        """The local time, naive (as a person reads the clock on the wall)."""
        ...

    def next_event(self, events: EventQueue, timeout: float) -> Event | None:
        """The next event, waiting up to ``timeout`` seconds; None if none came."""
        ...


class SystemWallClock:
    """The real clock: blocks on the queue (no polling)."""

    def now(self) -> dt.datetime:
        """``datetime.now()``."""
        return dt.datetime.now()

    def next_event(self, events: EventQueue, timeout: float) -> Event | None:
        """``events.get(timeout=...)``."""
        try:
            return events.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None


class FakeWallClock:
    """A wall clock for tests: waiting for an empty queue moves time forward at once by ``timeout``."""

    def __init__(self, start: dt.datetime) -> None:
        self.time = start
        self.waits: list[float] = []
        """Every timeout the daemon waited with (to check it never polls)."""

    def now(self) -> dt.datetime:
        """The fake time."""
        return self.time

    def next_event(self, events: EventQueue, timeout: float) -> Event | None:
        """A queued event at once, or else time moves on by ``timeout`` and None is returned."""
        try:
            return events.get_nowait()
        except queue.Empty:
            pass
        self.waits.append(timeout)
        self.time += dt.timedelta(seconds=timeout)
        return None
