"""When scheduled sessions are due: pure functions of the entries and the local time.

Nothing here waits or reads the clock; the daemon passes ``now`` in. It holds no countdown either: at
every check the latest occurrence at or before ``now`` is worked out afresh, so a clock that jumps (a Pi
without a real-time clock sets its time from the network after boot) neither double-starts a session
nor plays one hours late.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from voiceguide.daemon.config import ScheduleEntry

LATE_LIMIT = dt.timedelta(minutes=5)
"""A session found due later than this (suspend, a clock jump, a slow boot) is skipped, not started late."""
PRERENDER_AHEAD = dt.timedelta(minutes=5)
"""How long before its start a scheduled session's speech is rendered into the cache."""


def occurrence_on(entry: ScheduleEntry, day: dt.date) -> dt.datetime | None:
    """When ``entry`` runs on ``day``, or None if it does not run that weekday."""
    if day.weekday() not in entry.days:
        return None
    return dt.datetime.combine(day, entry.at)


def next_after(entry: ScheduleEntry, moment: dt.datetime) -> dt.datetime | None:
    """The first occurrence strictly after ``moment`` (None only if the entry has no days)."""
    for offset in range(8):
        when = occurrence_on(entry, moment.date() + dt.timedelta(days=offset))
        if when is not None and when > moment:
            return when
    return None


def latest_at_or_before(entry: ScheduleEntry, moment: dt.datetime) -> dt.datetime | None:
    """The last occurrence at or before ``moment`` within the past week."""
    for offset in range(8):
        when = occurrence_on(entry, moment.date() - dt.timedelta(days=offset))
        if when is not None and when <= moment:
            return when
    return None


@dataclass(frozen=True)
class Due:
    """One occurrence of a scheduled entry."""

    entry: ScheduleEntry
    """The ``[[schedule]]`` entry."""
    when: dt.datetime
    """The local time it is (or was) due."""


class Scheduler:
    """Which entries are due to start or to be prepared; remembers which occurrences it handed out."""

    def __init__(self, entries: tuple[ScheduleEntry, ...], started: dt.datetime,
                 late: dt.timedelta = LATE_LIMIT, ahead: dt.timedelta = PRERENDER_AHEAD) -> None:
        self.entries = entries
        self.started = started
        """Occurrences before this (the daemon's start) are never started."""
        self.late = late
        self.ahead = ahead
        self._started: set[tuple[int, dt.datetime]] = set()
        self._prepared: set[tuple[int, dt.datetime]] = set()

    def due(self, now: dt.datetime) -> list[Due]:
        """Occurrences to start now; each is returned once. Missed ones (too late) are returned as well,
        so the caller can log them: check ``now - due.when`` against :attr:`late` with :meth:`is_late`."""
        found = []
        for entry in self.entries:
            when = latest_at_or_before(entry, now)
            key = (entry.number, when) if when is not None else None
            if when is None or key in self._started or when < self.started:
                continue
            assert key is not None
            self._started.add(key)
            found.append(Due(entry, when))
        self._forget(now)
        return found

    def is_late(self, due: Due, now: dt.datetime) -> bool:
        """True if ``due`` is too far in the past to start now."""
        return now - due.when > self.late

    def to_prepare(self, now: dt.datetime) -> list[Due]:
        """Occurrences starting within :attr:`ahead` whose speech should be rendered now; each returned once."""
        found = []
        for entry in self.entries:
            when = next_after(entry, now)
            if when is None or when - now > self.ahead or (entry.number, when) in self._prepared:
                continue
            self._prepared.add((entry.number, when))
            found.append(Due(entry, when))
        return found

    def seconds_to_next(self, now: dt.datetime) -> float | None:
        """Seconds until the next start or preparation moment; None with no entries."""
        moments = []
        for entry in self.entries:
            when = next_after(entry, now)
            if when is None:
                continue
            moments.append(when)
            if (entry.number, when) not in self._prepared:
                moments.append(max(now, when - self.ahead))
        if not moments:
            return None
        return max(0.0, (min(moments) - now).total_seconds())

    def upcoming(self, now: dt.datetime) -> Due | None:
        """The next occurrence of any entry (for status)."""
        pending = [Due(e, w) for e in self.entries if (w := next_after(e, now)) is not None]
        return min(pending, key=lambda d: d.when) if pending else None

    def _forget(self, now: dt.datetime) -> None:
        horizon = now - dt.timedelta(days=8)
        self._started = {k for k in self._started if k[1] >= horizon}
        self._prepared = {k for k in self._prepared if k[1] >= horizon}
