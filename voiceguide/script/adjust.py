"""Command-line changes to a parsed session, as pure functions returning a new :class:`Session`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from voiceguide.bounds import LEVEL
from voiceguide.errors import VoiceguideError
from voiceguide.script.model import Affirm, Breathe, BreathPattern, Pause, Say, Session, Step
from voiceguide.script.patterns import scaled
from voiceguide.script.steps import BPM_RANGE, MAX_CYCLES, fit_minutes


def _map_breathe(session: Session, change: Callable[[Breathe], Breathe]) -> Session:
    steps = tuple(Step(s.index, change(s.action)) if isinstance(s.action, Breathe) else s for s in session.steps)
    return dataclasses.replace(session, steps=steps)


def breathing_steps(session: Session) -> list[Breathe]:
    """The session's breathe steps, in order."""
    return [s.action for s in session.steps if isinstance(s.action, Breathe)]


def with_cycles(session: Session, cycles: int) -> Session:
    """Every breathing step repeats ``cycles`` times."""
    if not 1 <= cycles <= MAX_CYCLES:
        raise VoiceguideError(f"--cycles must be from 1 to {MAX_CYCLES}")
    return _map_breathe(session, lambda b: dataclasses.replace(b, cycles=cycles))


def with_bpm(session: Session, bpm: float) -> Session:
    """Every breathing step paced at ``bpm`` breaths a minute, its phases keeping their proportions."""
    if not BPM_RANGE[0] <= bpm <= BPM_RANGE[1]:
        raise VoiceguideError(f"--bpm must be from {BPM_RANGE[0]:g} to {BPM_RANGE[1]:g}")
    return _map_breathe(session, lambda b: dataclasses.replace(b, pattern=scaled(b.pattern, bpm)))


def without_holds(session: Session) -> Session:
    """Holds left out of every breathing pattern (rests stay): for anyone who dislikes holding the breath."""

    def drop(b: Breathe) -> Breathe:
        phases = tuple(p for p in b.pattern.phases if p.kind != "hold")
        pattern = BreathPattern(b.pattern.name, phases, b.pattern.description, b.pattern.default_cycles)
        progress = b.progress if b.progress is None or b.progress.phase != "hold" else None
        return dataclasses.replace(b, pattern=pattern, progress=progress)

    return _map_breathe(session, drop)


def with_ambient(session: Session, name: str | None, volume: float | None) -> Session:
    """A different ambient bed (``none`` for silence) and/or level."""
    from voiceguide.sound.ambient import BEDS

    changes: dict[str, Any] = {}
    if name is not None:
        if name != "none" and name not in BEDS:
            raise VoiceguideError(f"--ambient must be one of {', '.join(BEDS)} or none, not '{name}'")
        changes["ambient"] = None if name == "none" else name
    if volume is not None:
        if volume not in LEVEL:
            raise VoiceguideError(f"--ambient-volume must be {LEVEL}")
        changes["ambient_volume"] = volume
    return dataclasses.replace(session, **changes)


def with_minutes(session: Session, minutes: float, measured_seconds: float) -> Session:
    """Breathing steps lengthened or shortened so the session lasts about ``minutes``.

    ``measured_seconds`` is the session's compiled length now; the time outside breathing stays
    as it is and the rest is shared among the breathing steps in proportion to their length.
    """
    steps = breathing_steps(session)
    if not steps:
        raise VoiceguideError("--minutes needs a session with breathing steps to stretch")
    breathing = sum(b.seconds for b in steps)
    other = measured_seconds - breathing
    room = minutes * 60.0 - other
    if room <= 0:
        raise VoiceguideError(f"--minutes {minutes:g} is shorter than the spoken part alone ({other / 60:.1f} min)")
    factor = room / breathing
    return _map_breathe(session, lambda b: fit_minutes(_keep_held(b), b.seconds * factor / 60.0))


def _keep_held(b: Breathe) -> Breathe:
    """The step with its rounds of long holds fixed at what it has now, so added rounds leave the hold out."""
    return dataclasses.replace(b, held=b.held_rounds) if b.long_holds else b




SLOWEST_RATE = 90
"""Words per minute below which "slower" no longer slows the voice."""


def slowed(session: Session, step: int, cycle: int, factor: float, default_rate: int) -> Session:
    """The session from step ``step`` (1-based; from its cycle ``cycle`` if it is a breathing step) on,
    ``factor`` times slower: speech at a lower rate (not below :data:`SLOWEST_RATE`, and never faster), the quiet after
    lines, pauses and gaps, and breath phases all ``factor`` times as long. Earlier steps (and earlier
    cycles) are left exactly as they were, so their timeline does not change."""

    def slow(s: Step) -> Step:
        act = s.action
        if s.index < step:
            return s
        if isinstance(act, Breathe):
            first = cycle if s.index == step else 0
            return Step(s.index, dataclasses.replace(act, slow=(*act.slow, (first, factor))))
        if isinstance(act, Say):
            rate = act.rate or session.rate or default_rate
            after = session.speech_gap if act.after is None else act.after
            return Step(s.index, dataclasses.replace(act, rate=min(rate, max(SLOWEST_RATE, round(rate / factor))),
                                                     after=after * factor))
        if isinstance(act, Pause):
            return Step(s.index, dataclasses.replace(act, seconds=act.seconds * factor))
        if isinstance(act, Affirm):
            return Step(s.index, dataclasses.replace(act, gap=act.gap * factor))
        return s  # chimes, listening and the sleep fade keep their own time

    return dataclasses.replace(session, steps=tuple(slow(s) for s in session.steps))
