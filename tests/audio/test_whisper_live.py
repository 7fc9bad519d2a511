"""Whisper on the real path: real speech into the virtual microphone during a session is kept, with what
Whisper makes of it, in the journal.

A LibriVox clip answers a question and a spoken number answers a rating step, while ``voiceguide run``
plays to a null sink and listens through the default recognizer (faster-whisper with the packaged
tiny.en, transcribing in its worker process). The tests judge what the product does with the answer, not the
recognizer's luck: the row names the recognizer that wrote it, its words are exactly what that recognizer makes
of the audio the journal kept, the kept audio holds the spoken answer, and a rating is the number in those
words. How well tiny.en hears (4 % WER on the LibriVox clips) is measured in ``benchmarks.stt``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio.audio_helpers import Pulse, check_kept_answer
from tests.audio.test_listen_session import SCRIPT, answer_at, run_and_speak
from tests.audio.test_mic import virtual_mic  # noqa: F401  (the fixture)
from tests.measure import word_errors
from tests.speech_data import librivox_or_skip, whisper_or_skip
from voiceguide.journal.rating import parse_rating

pytestmark = pytest.mark.audio

RATING_SCRIPT = '''[session]
title = "A rating"
rate = 200
[[step]]
say = "Hello."
[[step]]
listen = "How calm do you feel, from zero to ten?"
kind = "rating"
timeout = 20
[[step]]
say = "Thank you."
'''

SPOKEN_RATING = "I would say a seven."
"""Said by the Piper test voice (tiny.en wrote 'I would say a 7.' or '... a seven.' at 120, 135 and 160 words a
minute; the test does not rely on it)."""


def _entries(env: dict[str, str], journal: Path) -> list[dict[str, object]]:
    export = subprocess.run([sys.executable, "-m", "voiceguide", "journal", "export", "--format", "json",
                             "--journal", str(journal)], capture_output=True, text=True, env=env, check=True)
    entries: list[dict[str, object]] = json.loads(export.stdout)
    return entries


def test_a_spoken_answer_is_kept_word_for_word(virtual_mic: str, pulse: Pulse, tmp_path: Path) -> None:  # noqa: F811
    whisper_or_skip()
    clip = next(c for c in librivox_or_skip() if c.name.endswith("0870"))
    audio, rate = sf.read(clip.path, dtype="float32")
    script = tmp_path / "question.toml"
    script.write_text(SCRIPT)
    journal = tmp_path / "journal.sqlite3"
    env, out, log = run_and_speak(script, [audio], answer_at(script), pulse, virtual_mic, tmp_path,
                                  "--journal", journal)
    assert "1 answer kept in your journal" in out, out
    (entry,) = _entries(env, journal)
    assert entry["language"] == "en", entry
    again = check_kept_answer(entry, tmp_path, "faster-whisper/tiny.en", audio, rate, same_words=False)
    assert "recognizer worker" in log and "started" in log  # transcribed in the worker process
    print(f"tiny.en heard {entry['transcript']!r} live and {again!r} from the kept audio for {clip.reference!r} "
          f"({word_errors(clip.reference, str(entry['transcript']))[0]} word errors; not judged here)")


def test_a_spoken_number_is_the_rating(virtual_mic: str, pulse: Pulse, tmp_path: Path) -> None:  # noqa: F811
    whisper_or_skip()
    try:
        import soxr

        from voiceguide.backends.piper_tts import PiperSpeaker
        from voiceguide.seams import SpeechParams

        spoken = PiperSpeaker(variation=0.0).synthesize(SPOKEN_RATING, SpeechParams(rate=135))
    except Exception as exc:  # any missing piece of the optional voice
        pytest.skip(f"the Piper test voice is unavailable ({exc})")
    audio = soxr.resample(spoken.samples, spoken.sample_rate, 16000).astype(np.float32)
    audio = 0.5 * audio / float(np.abs(audio).max())
    script = tmp_path / "rating.toml"
    script.write_text(RATING_SCRIPT)
    journal = tmp_path / "journal.sqlite3"
    env, _, _ = run_and_speak(script, [audio], answer_at(script), pulse, virtual_mic, tmp_path, "--journal", journal)
    (entry,) = _entries(env, journal)
    assert entry["kind"] == "rating", entry
    check_kept_answer(entry, tmp_path, "faster-whisper/tiny.en", audio, 16000, same_words=False)
    assert entry["rating"] == parse_rating(str(entry["transcript"])), entry  # the number in the words kept
