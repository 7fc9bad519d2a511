"""Getting back on the plan after an underrun: where a timeline is quiet enough to take lost time out of.

When the audio callback comes too late, the device plays silence (or drops what it had) and every later
sound would stay late by that much. The player keeps the difference as a *debt* and pays it in the next
quiet stretch: a stretch where no speech, chime or tone sounds (a pause, a breathing rest, the gap
between two lines). It skips ahead there, or waits, if the device dropped more than it lost. Never more
than half of any stretch goes, so a rest stays a rest; a larger debt is paid over several stretches.
Only an ambient bed may sound in a quiet stretch: then the jump is made under a short fade.

:class:`QuietIndex` is built off the audio thread (when a timeline is swapped in); the player only looks
things up in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.engine.timeline import CUES, Timeline, index_at

MIN_QUIET_SECONDS = 0.3
"""Shorter quiet stretches are left alone (a breath between two sounds)."""
CATCH_UP_FADE_SECONDS = 0.01
"""Fade out and in around a jump made while an ambient bed sounds."""


@dataclass(frozen=True)
class QuietIndex:
    """The quiet stretches of one timeline, sorted."""

    starts: tuple[int, ...]
    """First sample of each stretch."""
    ends: tuple[int, ...]
    """One past its last sample (a gate ends a stretch a fade before it)."""
    bed: tuple[bool, ...]
    """Whether anything (an ambient bed) sounds during it: then a jump needs a fade."""

    @classmethod
    def of(cls, timeline: Timeline, gate_fade: int = 0) -> QuietIndex:
        """The stretches of at least :data:`MIN_QUIET_SECONDS` where no cue sounds; ``gate_fade``: how long
        before a gate the player starts fading out to it (no catch-up there)."""
        rate = timeline.sample_rate
        shortest = int(MIN_QUIET_SECONDS * rate)
        cues = sorted((e.start, e.end) for e in timeline.events if e.kind in CUES and e.clip is not None)
        beds = sorted((e.start, e.end) for e in timeline.audible() if e.kind not in CUES)
        gaps: list[tuple[int, int]] = []
        end = 0
        for start, stop in cues:
            if start > end:
                gaps.append((end, start))
            end = max(end, stop)
        if end < timeline.length:
            gaps.append((end, timeline.length))
        pieces: list[tuple[int, int]] = []
        gates = sorted(timeline.gates)
        for start, stop in gaps:  # a stretch never runs into the fade before a gate
            for gate in gates:
                if start < gate <= stop:
                    pieces.append((start, gate - gate_fade))
                    start = gate
            pieces.append((start, stop))
        kept = [(a, b) for a, b in pieces if b - a >= shortest]
        bed = tuple(any(s < b and a < e for s, e in beds) for a, b in kept)
        return cls(tuple(a for a, _ in kept), tuple(b for _, b in kept), bed)

    def find(self, position: int) -> int:
        """The index of the stretch holding ``position``, or -1."""
        i = index_at(self.starts, position)
        return i if i >= 0 and position < self.ends[i] else -1


def payment(debt: int, index: QuietIndex, stretch: int, position: int, fade: int) -> int:
    """How much of ``debt`` to pay at ``position`` in ``stretch``: positive skips ahead, negative waits.

    At most half of the stretch as it was planned, and never past its end (with room for the fades)."""
    start, end = index.starts[stretch], index.ends[stretch]
    room = end - position - (2 * fade if index.bed[stretch] else 0)
    most = min((end - start) // 2, room)
    if most <= 0:
        return 0
    return max(-most, min(debt, most))


class CatchUp:
    """The player's account of lost frames (audio-thread state: plain ints, nothing allocated)."""

    def __init__(self) -> None:
        self.debt = 0
        """Frames the stream is behind the plan (negative: ahead) and not yet paid back."""
        self.lost = 0
        """Frames the device reported lost in all (signed, as reported)."""
        self.underruns = 0
        """How many times it reported a loss."""
        self.paid = 0
        """Frames taken out of (positive) or added to (negative) quiet stretches so far."""
        self._paid_at = -1

    def owe(self, frames: int, playing: bool) -> None:
        """The device lost ``frames``; only a loss while the timeline plays puts it off its plan."""
        self.lost += frames
        self.underruns += 1
        if playing:
            self.debt += frames

    def forgive(self) -> None:
        """A pause, a hold or a skip has moved the plan anyway: what is owed is absorbed by it."""
        self.debt = 0

    def due(self, index: QuietIndex, position: int, fade: int) -> int:
        """What to pay now at ``position`` (0 if nothing, or not in an unpaid quiet stretch)."""
        if not self.debt:
            return 0
        stretch = index.find(position)
        if stretch < 0 or index.starts[stretch] == self._paid_at:
            return 0
        pay = payment(self.debt, index, stretch, position, fade)
        if pay:
            self._paid_at = index.starts[stretch]
            self.debt -= pay
            self.paid += pay
        return pay
