"""The fade measurement the real-audio tests rely on, checked on made-up signals (no sound server needed):
a fade still under way when the reference pauses between words passes, a cut where the reference sounds
fails at any level (a cut inside a pause makes no click and cannot be told from the pause itself)."""

from __future__ import annotations

import numpy as np

from .audio_helpers import RATE, Signal, measure_fade


def _envelope(t: Signal) -> Signal:
    """0.3 s 'words' with smooth edges and 0.1 s pauses between them, like the fake voice."""
    envelope: Signal = np.clip(np.sin(np.pi * (t % 0.4) / 0.3), 0.0, None) * ((t % 0.4) < 0.3)
    return envelope


def _speech_like(seconds: float) -> Signal:
    """A 220 Hz tone shaped into words."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone: Signal = 0.3 * _envelope(t) * np.sin(2 * np.pi * 220 * t)
    return tone


def _faded(reference: Signal, start: float, length: float = 0.4) -> Signal:
    """The reference with a linear fade-out from ``start`` over ``length`` seconds, then silence."""
    t = np.arange(len(reference)) / RATE
    gain = np.clip(1.0 - (t - start) / length, 0.0, 1.0)
    faded: Signal = reference * gain
    return faded


def test_a_fade_across_a_pause_between_words_is_a_fade() -> None:
    reference = _speech_like(4.0)
    for start in np.arange(2.0, 2.4, 0.01):  # every place relative to a word gap
        fade = measure_fade(_faded(reference, float(start)), reference, 0)
        assert fade.problems() == [], f"fade from {start:.2f} s: {fade.problems()} (gains {fade.gains})"


def test_a_cut_during_a_fade_or_at_full_level_is_a_cut() -> None:
    reference = _speech_like(4.0)
    tried = 0
    for start in np.arange(2.0, 2.4, 0.01):
        if _envelope(np.array([start, start + 0.2])).min() < 0.3:
            continue  # the cut would fall in a pause between words
        tried += 1
        cut = _faded(reference, float(start))
        cut[int((start + 0.2) * RATE):] = 0.0  # stopped half way through the fade, at 0.5 of full level
        assert measure_fade(cut, reference, 0).problems(), f"a cut half way through a fade from {start:.2f} s"
        abrupt = reference.copy()
        abrupt[int(start * RATE):] = 0.0
        assert measure_fade(abrupt, reference, 0).problems(), f"a cut at full level at {start:.2f} s passed"
    assert tried >= 10
