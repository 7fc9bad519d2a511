"""Whether the session itself is making sound right now: the gate that keeps its own voice from being
taken for a spoken command.

The control loop hands over each :class:`~voiceguide.playback.control.Snapshot`; the voice-command worker asks
:meth:`SpeakingGate.__call__` once per microphone block. Speech (and chimes) within ``margin`` seconds
of the position count as speaking; so does a listen window, where the person's words are an answer,
not a command.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from voiceguide.engine.timeline import SOUNDING, Timeline, index_at
from voiceguide.playback.control import Snapshot, State


class SpeakingGate:
    """True while the session's own voice may be in the microphone."""

    def __init__(self, margin: float = 0.75, now: Callable[[], float] = time.monotonic) -> None:
        self.margin = margin
        self._now = now
        self._snap: Snapshot | None = None
        self._at = 0.0
        self._timeline: Timeline | None = None
        self._starts: list[int] = []
        self._ends: list[int] = []

    def update(self, snap: Snapshot) -> None:
        """Remember where the player is (called from the control loop a few times a second)."""
        if snap.timeline is not self._timeline:
            events = sorted((e for e in snap.timeline.events if e.kind in SOUNDING), key=lambda e: e.start)
            self._starts = [e.start for e in events]
            self._ends = [e.end for e in events]
            self._timeline = snap.timeline
        self._snap, self._at = snap, self._now()

    def __call__(self) -> bool:
        snap, timeline = self._snap, self._timeline
        if snap is None or timeline is None:
            return True  # not playing yet: be safe
        if snap.state in (State.HOLDING, State.GATING):
            return True  # a listen window: words are an answer
        if snap.state in (State.PAUSED, State.FINISHED):
            return False
        rate = timeline.sample_rate
        position = snap.position + int((self._now() - self._at) * rate)  # it moved on since the snapshot
        pad = int(self.margin * rate)
        i = index_at(self._starts, position + pad) + 1
        # any sound starting before position+pad whose end is after position-pad
        return any(self._ends[j] > position - pad for j in range(max(0, i - 64), i))
