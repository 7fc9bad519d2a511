"""Recorded voice: a ``say`` step may play a recording (``audio = "welcome.wav"``) instead of synthesised speech.

The step's text stays its caption, and is spoken instead when the recording is missing or cannot
be read: ``voiceguide validate`` warns about that, compiling logs it and carries on. A recording
is resampled, softened when the session asks, and brought to the same loudness as every other line,
so a therapist's own voice sits exactly where the synthetic one would.
"""

from __future__ import annotations

import logging
from pathlib import Path

from voiceguide.script import library
from voiceguide.script.model import Say, Session
from voiceguide.seams import Clip, Samples
from voiceguide.sound import sounds, voice_shaping

log = logging.getLogger(__name__)

_warned: set[Path] = set()
"""Recordings already warned about: a session is compiled more than once (estimate, plan, play)."""


def problem(path: Path) -> str | None:
    """Why the recording at ``path`` cannot be played, or None when it can."""
    if not library.exists(path):
        return f"recording '{path}' not found"
    reason = sounds.file_problem(path)
    if reason is None:
        return None
    return f"recording '{path}' is {reason}" if reason == "empty" else f"recording '{path}': {reason}"


def playable(path: Path) -> bool:
    """Whether the recording can be played; if not, log a warning saying the text is spoken instead."""
    reason = problem(path)
    if reason is not None and path not in _warned:
        _warned.add(path)
        log.warning("%s; speaking the text instead", reason)
    return reason is None


def load(path: Path, sample_rate: int, softened: bool) -> Samples:
    """The recording at ``sample_rate``, mixed to mono, softened if asked, at the one speech loudness.

    Raises :class:`~voiceguide.errors.AudioError` if it cannot be decoded.
    """
    samples = sounds.load(path, sample_rate)
    if softened:
        samples = voice_shaping.soften(samples, sample_rate)
    return sounds.normalize_speech(Clip(samples, sample_rate)).samples


def warnings(session: Session) -> list[str]:
    """One line for each step whose recording cannot be played (its text will be spoken instead)."""
    out = []
    for step in session.steps:
        act = step.action
        if isinstance(act, Say) and act.audio is not None:
            reason = problem(act.audio)
            if reason is not None:
                out.append(f"step {step.index} (say): warning: {reason}; the text will be spoken instead")
    return out
