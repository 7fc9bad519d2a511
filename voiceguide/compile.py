"""Compile a :class:`Session` into a :class:`Timeline`: every sound synthesised and placed by sample index.

All speech is rendered here, before playback, so its length is known and the audio callback
never waits on synthesis. Times inside a step are computed from the step's start in exact
samples (cumulative rounding), so a long breathing step never drifts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import sounds
from .model import Breathe, Chime, Listen, Pause, Say, Session
from .seams import Samples, Speaker, SpeechParams
from .timeline import Event, Timeline

log = logging.getLogger(__name__)

DEFAULT_RATE = 135
"""Calm guidance speed in words per minute (pyttsx3 defaults to a hurried 200)."""
DEFAULT_SAMPLE_RATE = 48000

CUE_WORDS: dict[str, dict[str, str]] = {
    "en": {"inhale": "In", "hold": "Hold", "exhale": "Out", "rest": "Rest"},
}
"""Short spoken breath cues by language; unknown languages fall back to English."""


class _Builder:
    """Accumulates clips (deduplicated) and events while steps are laid out."""

    def __init__(self, session: Session, speaker: Speaker, sample_rate: int,
                 progress: Callable[[int, int], None] | None) -> None:
        self.session = session
        self.speaker = speaker
        self.rate = sample_rate
        self.clips: list[Samples] = []
        self.events: list[Event] = []
        self._clip_ids: dict[object, int] = {}
        self._progress = progress

    def clip_id(self, key: object, make: Callable[..., Samples], *args: Any) -> int:
        """Index of the clip for ``key``, made with ``make(*args)`` the first time."""
        if key not in self._clip_ids:
            self._clip_ids[key] = len(self.clips)
            self.clips.append(make(*args))
        return self._clip_ids[key]

    def speech(self, text: str, rate: int | None, volume: float | None) -> tuple[int, int]:
        """Clip id and length in samples of ``text`` spoken with the session's voice."""
        params = SpeechParams(
            language=self.session.language,
            voice=self.session.voice,
            rate=rate or self.session.rate or DEFAULT_RATE,
            volume=1.0 if volume is None else volume,
        )

        def make() -> Samples:
            clip = sounds.normalize_speech(self.speaker.synthesize(text, params))
            return sounds.resample(clip.samples, clip.sample_rate, self.rate)

        cid = self.clip_id(("speech", text, params), make)  # make() runs at most once per key
        return cid, len(self.clips[cid])

    def add(self, kind: str, start: int, length: int, step: int, clip: int | None = None,
            gain: float = 1.0, text: str | None = None, phase: str | None = None) -> None:
        self.events.append(Event(kind, start, start + length, step, clip,
                                 gain * self.session.volume, text, phase))


def compile_session(session: Session, speaker: Speaker, sample_rate: int = DEFAULT_SAMPLE_RATE,
                    progress: Callable[[int, int], None] | None = None) -> Timeline:
    """Synthesise and place every sound of ``session``; ``progress(done, total)`` reports steps."""
    b = _Builder(session, speaker, sample_rate, progress)
    cursor = 0
    step_starts: list[int] = []
    gap = int(round(session.speech_gap * sample_rate))
    cues = CUE_WORDS.get(session.language.split("-")[0], CUE_WORDS["en"])
    for done, step in enumerate(session.steps):
        if progress is not None:
            progress(done, len(session.steps))
        step_starts.append(cursor)
        act = step.action
        n = step.index
        if isinstance(act, Say):
            cid, length = b.speech(act.text, act.rate, act.volume)
            b.add("speech", cursor, length, n, cid, text=act.text)
            cursor += length + gap
        elif isinstance(act, Pause):
            length = int(round(act.seconds * sample_rate))
            b.add("pause", cursor, length, n)
            cursor += length
        elif isinstance(act, Chime):
            cid = b.clip_id(("file", str(act.path)), sounds.load, act.path, sample_rate)
            length = len(b.clips[cid])
            b.add("chime", cursor, length, n, cid, gain=act.volume, text=act.sound)
            cursor += length
        elif isinstance(act, Breathe):
            cursor = _breathe(b, act, n, cursor, cues)
        elif isinstance(act, Listen):
            cid, length = b.speech(act.prompt, None, None)
            b.add("speech", cursor, length, n, cid, text=act.prompt)
            cursor += length + gap
            wait = int(round(act.timeout * sample_rate))
            b.add("listen", cursor, wait, n, text=act.prompt)
            cursor += wait
    if progress is not None:
        progress(len(session.steps), len(session.steps))
    events = sorted(b.events, key=lambda e: (e.start, e.kind))
    return Timeline(sample_rate, tuple(events), tuple(b.clips), tuple(step_starts), cursor, session.title)


def _breathe(b: _Builder, act: Breathe, step: int, start: int, cues: dict[str, str]) -> int:
    """Lay out ``act.cycles`` cycles from ``start``; returns the sample after the last phase."""
    rate = b.rate
    elapsed = 0.0
    for _ in range(act.cycles):
        for phase in act.pattern.phases:
            a = start + int(round(elapsed * rate))
            elapsed += phase.seconds
            z = start + int(round(elapsed * rate))
            b.add("phase", a, z - a, step, phase=phase.kind)
            if act.cue in ("tone", "both") and phase.kind in sounds.PACING:
                cid = b.clip_id(("tone", phase.kind, z - a), sounds.pacing_tone, phase.kind, (z - a) / rate, rate)
                b.add("tone", a, len(b.clips[cid]), step, cid, phase=phase.kind)
            if act.cue in ("voice", "both"):
                cid, length = b.speech(cues[phase.kind], None, None)
                b.add("speech", a, length, step, cid, gain=0.8, text=cues[phase.kind],
                      phase=phase.kind)
    return start + int(round(elapsed * rate))

