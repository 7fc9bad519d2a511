"""A compiled session: every sound placed at an absolute sample offset, plus markers for the view."""

from __future__ import annotations

import bisect
import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from voiceguide.seams import Samples


class EventKind(enum.StrEnum):
    """What a timeline event is: a sound the mixer plays, or a marker for the view, the listener and "slower".
    A str, so the timeline JSON, a comparison with ``"speech"`` and a lookup in :data:`AUDIBLE` by a plain string
    work as before."""

    SPEECH = "speech"
    CHIME = "chime"
    TONE = "tone"
    """A pacing tone of a breath phase."""
    AMBIENT = "ambient"
    """A bed of ambient sound under the whole session."""
    PAUSE = "pause"
    SLEEP = "sleep"
    PHASE = "phase"
    """A breath phase (``inhale`` ...)."""
    LISTEN = "listen"
    """A listen window (a question's answer)."""


AUDIBLE = frozenset({EventKind.SPEECH, EventKind.CHIME, EventKind.TONE, EventKind.AMBIENT})
"""The kinds the mixer plays (they have a clip)."""
CUES = frozenset({EventKind.SPEECH, EventKind.CHIME, EventKind.TONE})
"""The kinds the person follows (not the ambient bed): catching up never cuts into one."""
SOUNDING = frozenset({EventKind.SPEECH, EventKind.CHIME})
"""The kinds whose sound a microphone may pick up as words (the speaking gate listens past them)."""


def index_at(starts: Sequence[int], sample: int) -> int:
    """The 0-based index of the last of the sorted ``starts`` at or before ``sample`` (-1 before the first):
    which step, stretch or caption is under way there. The one convention for "what is at this sample": a
    thing owns its first sample. Every other lookup by sample (:meth:`Timeline.step_at`, the player's skip and
    gates, catching up, the view, the speaking gate) is written with this."""
    return bisect.bisect_right(starts, sample) - 1


@dataclass(frozen=True)
class Event:
    """One thing that happens in a session, placed by sample index."""

    kind: EventKind
    """What it is (see :class:`EventKind`)."""
    start: int
    """First sample, counted from the session start."""
    end: int
    """One past the last sample."""
    step: int
    """The 1-based script step it belongs to."""
    clip: int | None = None
    """Index into :attr:`Timeline.clips` for audible events."""
    gain: float = 1.0
    """Linear gain applied when mixing."""
    text: str | None = None
    """Spoken words (speech) or the step's caption."""
    phase: str | None = None
    """Breath phase (``inhale`` ...) for phase markers and pacing tones."""


@dataclass(frozen=True)
class Timeline:
    """Everything the mixer needs to render a session, and what the view shows."""

    sample_rate: int
    """Samples per second of the stream."""
    events: tuple[Event, ...]
    """All events sorted by start."""
    clips: tuple[Samples, ...]
    """Audio referenced by events, already at ``sample_rate``."""
    step_starts: tuple[int, ...]
    """First sample of each step, in step order (for skip)."""
    length: int
    """Total samples."""
    title: str = ""
    """Session title, for the view."""
    gates: tuple[int, ...] = ()
    """Samples where playback holds until released (listen windows); empty when not listening."""

    @property
    def seconds(self) -> float:
        """Total length in seconds."""
        return self.length / self.sample_rate

    def step_at(self, sample: int) -> int:
        """The 1-based step playing at ``sample`` (1 before the first step starts; a step owns its first sample).
        At a gate, ask for ``gate - 1``: the gate is the last sample of its step's question."""
        return max(1, index_at(self.step_starts, sample) + 1)

    def step_start(self, step: int) -> int:
        """The first sample of the 1-based ``step``: 0 for step 1 (or less), the end for a step past the last."""
        if step <= 1:
            return 0
        return self.step_starts[step - 1] if step <= len(self.step_starts) else self.length

    def wait_ready(self) -> tuple[Timeline, bool]:
        """A compiled timeline is a :class:`~voiceguide.playback.control.TimelineSource` ready at once, final."""
        return self, True

    def follow(self, listener: Callable[[Timeline, bool], None]) -> None:
        """Nothing to follow: a compiled timeline never grows."""

    def audible(self) -> list[Event]:
        """The events the mixer plays, sorted by start."""
        return [e for e in self.events if e.kind in AUDIBLE and e.clip is not None]

    def to_json(self, events: list[Event] | None = None) -> dict[str, Any]:
        """The public timeline JSON: times in seconds from the session start."""
        rate = self.sample_rate
        out: list[dict[str, Any]] = []
        for e in self.events if events is None else events:
            item: dict[str, Any] = {"kind": e.kind, "start": e.start / rate, "end": e.end / rate,
                                    "step": e.step, "start_sample": e.start, "end_sample": e.end}
            if e.kind == EventKind.SPEECH and e.text is not None:
                item["text"] = e.text
            if e.phase is not None:
                item["phase"] = e.phase
            out.append(item)
        return {"sample_rate": rate, "title": self.title, "length": self.length / rate, "events": out}

    def write_json(self, path: str, events: list[Event] | None = None) -> None:
        """Write :meth:`to_json` to ``path``."""
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_json(events), fh, indent=1)
            fh.write("\n")


@dataclass(frozen=True)
class Segment:
    """A stretch of the live stream that played the timeline without a jump."""

    stream_start: int
    """Stream sample where the stretch began."""
    timeline_start: int
    """Timeline sample played at ``stream_start``."""
    timeline_end: int
    """Timeline sample where the stretch ended (exclusive)."""


def as_played(timeline: Timeline, segments: list[Segment],
              holds: list[tuple[int, int, int]] | None = None) -> list[Event]:
    """Events moved to when they really sounded, given the stretches the player played.

    Pauses shift later events; a skip drops what was jumped over; a stop truncates. ``holds``
    (gate, stream start, stream end) become ``listen`` events: the listen windows as they happened.
    """
    played: list[Event] = []
    for gate, start, end in holds or []:
        played.append(Event(EventKind.LISTEN, start, end, timeline.step_at(gate - 1)))
    for e in timeline.events:
        for seg in segments:
            if seg.timeline_start <= e.start < seg.timeline_end:
                shift = seg.stream_start - seg.timeline_start
                end = min(e.end, seg.timeline_end)
                played.append(Event(e.kind, e.start + shift, end + shift, e.step, e.clip,
                                    e.gain, e.text, e.phase))
                break
    return sorted(played, key=lambda ev: ev.start)
