"""The fade measurement the real-audio tests rely on, checked on made-up signals (no sound server needed):
a fade still under way when the reference pauses between words passes, a cut where the reference sounds
fails at any level (a cut inside a pause makes no click and cannot be told from the pause itself). The same for
the judgements the stop tests use now: the fade's shape on the tee (``tee.handed_fade``) and what the sink's
recording can show of it (``heard_fade_problems``)."""

from __future__ import annotations

import numpy as np

from .audio_helpers import RATE, Signal, heard_fade_problems, measure_fade
from .tee import Handed, handed_fade


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


def _handed(stream: Signal, losses: list[tuple[int, int]] | None = None) -> Handed:
    return Handed(stream.astype(np.float64), losses or [])


def test_the_tee_judges_a_fade_a_fade_and_a_cut_a_cut() -> None:
    """On what the player handed (exact): a 0.4 s linear fade passes wherever it starts; the same stream cut half
    way through the fade, or at full level, fails; so does a fade that rises again or takes 0.6 s."""
    reference = _speech_like(4.0)
    cuts = 0
    for start in np.arange(2.0, 2.4, 0.01):
        faded = _faded(reference, float(start))
        fade = handed_fade(_handed(faded), reference)
        assert fade.problems() == [], f"fade from {start:.2f} s: {fade.problems()}"
        assert fade.seconds <= 0.41, fade.seconds
        cut = faded.copy()
        cut[int((start + 0.2) * RATE):] = 0.0
        if _envelope(np.array([start, start + 0.2])).min() > 0.3:  # a cut inside a pause cannot be told
            cuts += 1
            assert handed_fade(_handed(cut), reference).problems(), f"a cut mid-fade from {start:.2f} s passed"
            abrupt = reference.copy()
            abrupt[int(start * RATE):] = 0.0
            assert handed_fade(_handed(abrupt), reference).problems(), f"a cut at {start:.2f} s passed"
    assert cuts >= 8
    slow = _faded(reference, 2.0, length=0.6)
    assert any("more than" in p for p in handed_fade(_handed(slow), reference).problems())
    rising = _faded(reference, 2.0)
    rising[int(2.2 * RATE):int(2.3 * RATE)] = reference[int(2.2 * RATE):int(2.3 * RATE)]
    assert any("rises" in p for p in handed_fade(_handed(rising), reference).problems())


def test_the_tee_follows_a_loss_during_the_fade() -> None:
    """A loss (the output played 4000 frames of silence the player never handed, NaN in the tee) moves the rest of
    the stream on; the fade is judged across it, its length without the lost frames."""
    reference = _speech_like(4.0)
    faded = _faded(reference, 2.05)
    at = int(2.2 * RATE)
    stream = np.concatenate((faded[:at], np.full(4000, np.nan), faded[at:]))
    fade = handed_fade(_handed(stream, [(at + 4000, 4000)]), reference)
    assert fade.problems() == [] and abs(fade.seconds - 0.4) < 0.02, (fade.problems(), fade.seconds)


def test_the_sink_shows_a_fade_heard_despite_a_gap_and_a_cut_or_jump_as_such() -> None:
    """In the recording: a 20-ms gap mid-fade (the sound server's, not the player's) changes nothing; the
    recording of a cut, or one that jumps above the playing level, or sounds on after the fade, fails."""
    t = np.arange(4 * RATE) / RATE
    reference = 0.3 * _envelope(t) * np.sin(2 * np.pi * (180 * t + 15 * t * t))  # no two words alike
    start, end = int(2.05 * RATE), int(2.45 * RATE)
    handed = _faded(reference, 2.05)
    lead = np.zeros(RATE // 3)  # the recording starts before the stream
    live = np.concatenate((lead, handed))
    assert heard_fade_problems(live, handed, start, end) == []
    gap = np.concatenate((lead, handed[:int(2.2 * RATE)], np.zeros(RATE // 50), handed[int(2.2 * RATE):]))
    assert heard_fade_problems(gap, handed, start, end) == []
    cut = np.concatenate((lead, reference[:start + RATE // 20]))  # stopped at full level
    assert heard_fade_problems(cut, handed, start, end)
    jump = live.copy()
    jump[len(lead) + int(2.1 * RATE):len(lead) + int(2.15 * RATE)] *= 3
    assert heard_fade_problems(jump, handed, start, end)
    on = np.concatenate((lead, handed[:start], reference[start:]))  # the stop never took effect
    assert heard_fade_problems(on, handed, start, end)
