"""A list answered with thinking pauses is one answer, and the session waits for its last word (issue 17, item 2).

"Name three things you can hear", answered through a virtual microphone with three real utterances (the
pocketsphinx archive's "cards" clips) and 2.5 s of quiet between them, while ``voiceguide run`` plays the
session into a null sink. The journal must hold one entry with all three items' audio (found by
cross-correlation; the recognizer is the fake one), and nothing the session says after the question may begin
before the person's last word has ended (both sides timed on one clock, see ``person``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio.audio_helpers import Pulse
from tests.audio.person import MIC_RATE, OUT_RATE, find, person
from tests.audio.test_answer_edges import cue_end_time, cue_timing, run_session, speak_after_first_sound
from tests.speech_data import cards_or_skip

pytestmark = pytest.mark.audio

SCRIPT = '''[session]
title = "Listening"
rate = 200
[[step]]
say = "Hello."
[[step]]
listen = "Name three things you can hear."
timeout = 12
[[step]]
say = "That is all for now."
'''
PAUSE = 2.5


def three_items() -> tuple[np.ndarray, list[np.ndarray], float]:
    """The answer (three cards utterances, PAUSE s of silence between), the items, and the last word's end."""
    cards = {c.name: c for c in cards_or_skip()}
    items = [np.asarray(sf.read(cards[name].path, dtype="float32")[0]) for name in ("001", "002", "003")]
    gap = np.zeros(int(PAUSE * MIC_RATE), dtype=np.float32)
    audio = np.concatenate([items[0], gap, items[1], gap, items[2]])
    loud = np.flatnonzero(np.abs(audio) > 0.02)
    return audio, items, float(loud[-1] + 1) / MIC_RATE


def low(audio: np.ndarray) -> np.ndarray:
    """``audio`` below 3.5 kHz: the path's resamplers soften what lies near 8 kHz (an "s" then matches at 0.4)."""
    spectrum = np.fft.rfft(np.asarray(audio, dtype=np.float64))
    spectrum[np.fft.rfftfreq(len(audio), 1 / MIC_RATE) > 3500] = 0
    return np.fft.irfft(spectrum, len(audio))


def pieces(item: np.ndarray) -> list[np.ndarray]:
    """The audible 200 ms stretches of an utterance."""
    out = [item[i:i + MIC_RATE // 5] for i in range(0, len(item) - MIC_RATE // 5, MIC_RATE // 5)]
    return [p for p in out if np.sqrt(np.mean(p * p)) > 0.02]


def test_a_list_with_thinking_pauses_is_one_answer_and_is_not_spoken_over(pulse: Pulse, tmp_path: Path) -> None:
    audio, items, last_word = three_items()
    script = tmp_path / "list.toml"
    script.write_text(SCRIPT)
    to_cue_end, cue = cue_timing(script)
    with person(pulse.env) as who:
        speak_after_first_sound(who, audio, to_cue_end + 0.3)
        log, journal, found = run_session(who, pulse, script, tmp_path)
        cue_end = cue_end_time(who, cue)
        spoken_at = who.said_at(audio)
        heard = who.recording()
        as_heard = who.as_heard(audio)
    (entry,) = found["entries"]
    kept, _ = sf.read(str(journal.parent / entry["audio_path"]), dtype="float64")
    kept = low(kept)
    starts = np.cumsum([0] + [len(item) + int(PAUSE * MIC_RATE) for item in items[:-1]])
    for number, (item, start) in enumerate(zip(items, starts, strict=True), 1):
        scores = [find(kept, low(piece))[1] for piece in pieces(as_heard[start:start + len(item)])]
        assert scores and min(scores) > 0.85, f"item {number} is not all in the answer: {np.round(scores, 2)}"
    # the first sound the session makes after the listening cue: not before the person's last word ended
    after_cue = round((cue_end - who.time_of(0)) * OUT_RATE)
    loud = np.flatnonzero(np.abs(heard[after_cue:]) > 0.01)
    assert len(loud), "the session said nothing after the question"
    spoke_again = who.time_of(after_cue + int(loud[0]))
    finished = spoken_at + last_word
    lines = [line for line in log.splitlines() if "answer" in line]
    assert spoke_again > finished, (f"the session spoke {finished - spoke_again:.2f} s before the last word ended\n"
                                    + "\n".join(lines))
