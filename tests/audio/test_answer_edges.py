"""An answer begun around the opening of a listen window is kept from its first word (issue 17, item 1).

Real human speech (a LibriVox clip) is spoken into a virtual microphone while ``voiceguide run`` plays a
one-question session into a null sink, at -0.5, 0, +0.5 and +1 s from the moment the listening cue ends as it
is heard (see ``person``: both sides on one clock). The kept audio itself is judged: the first 100 ms of the
spoken answer must be in it, found by cross-correlation; the recognizer is the fake one, so no word luck.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio.audio_helpers import REPO, Pulse
from tests.audio.person import MIC_RATE, OUT_RATE, Audio, Person, find, person
from tests.speech_data import librivox_or_skip

pytestmark = pytest.mark.audio

SPEECH_START = 0.235689
"""Where speech starts in LibriVox clip 0870 (its ``.lab`` file)."""
SCRIPT = '''[session]
title = "A question"
[[step]]
say = "Hello."
[[step]]
listen = "What did you read today?"
timeout = 12
limit = 30
[[step]]
say = "That is all for now."
'''


def answer_clip() -> Audio:
    clip = next(c for c in librivox_or_skip() if c.name.endswith("0870"))
    audio, rate = sf.read(clip.path, dtype="float32")
    assert rate == MIC_RATE
    return np.asarray(audio[:int(3.5 * rate)], dtype=np.float32)


def cue_timing(script: Path) -> tuple[float, Audio]:
    """Seconds from the session's first sound to the end of the listening cue, and the cue itself (48 kHz)."""
    from voiceguide.backends.fake import FakeSpeaker
    from voiceguide.engine.compile import compile_session
    from voiceguide.script import parse
    from voiceguide.sound.sounds import listen_cue

    timeline = compile_session(parse.load(script), FakeSpeaker(), OUT_RATE, listening=True)
    cue = next(e for e in timeline.events if e.kind == "chime" and e.text == "listening")
    first = min(e.start for e in timeline.events if e.kind in ("speech", "chime"))
    return (cue.end - first) / OUT_RATE, listen_cue(OUT_RATE)


def speak_after_first_sound(who: Person, audio: Audio, seconds: float) -> None:
    """Say ``audio`` ``seconds`` after the session's first sound is heard."""
    said = threading.Event()

    def watch(block: Audio, before: int) -> None:
        loud = np.flatnonzero(np.abs(block) > 0.01)
        if not said.is_set() and len(loud):
            said.set()
            who.say(audio, who.time_of(before + int(loud[0])) + seconds)

    who.when_heard(watch)


def envelope(audio: np.ndarray) -> np.ndarray:
    """RMS of each 50 ms (coarse enough that the path's few milliseconds of drift over a second do not matter)."""
    size = MIC_RATE // 20
    n = len(audio) // size
    blocks = np.asarray(audio[:n * size], dtype=np.float64).reshape(n, -1)
    return np.sqrt(np.mean(blocks * blocks, axis=1))


def run_session(who: Person, pulse: Pulse, script: Path, tmp_path: Path, *options: str) -> tuple[str, Path, dict]:
    env = {**pulse.env, "PULSE_SINK": who.out, "PULSE_SOURCE": f"{who.mic}.monitor",
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    journal = tmp_path / "journal.sqlite3"
    done = subprocess.run([sys.executable, "-m", "voiceguide", "-v", "run", str(script), "--device", "pulse",
                           "--input", "pulse", "--tts", "fake", "--journal", str(journal), "--recognizer", "fake",
                           "--no-voice-commands", *options], env=env, capture_output=True, text=True, timeout=180,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    export = subprocess.run([sys.executable, "-m", "voiceguide", "journal", "export", "--format", "json", "--journal",
                             str(journal)], env=env, capture_output=True, text=True, check=True, cwd=REPO)
    return done.stderr, journal, {"entries": json.loads(export.stdout), "env": env}


def cue_end_time(who: Person, cue: Audio) -> float:
    """``time.monotonic`` at which the listening cue ended, as heard: where its second note ends, found near where
    the whole cue fits best. A busy machine can put a gap into the cue as played (an underrun: the whole cue then
    fitted at 0.82-0.90); the gap moves the rest of the cue later, and the note heard last is the end the person
    heard."""
    recording = who.recording()
    at, _ = find(recording, cue)
    tail = cue[len(cue) // 2:]
    lo = max(0, at - OUT_RATE // 2)
    found, score = find(recording[lo:at + len(cue) + OUT_RATE // 2], tail)
    assert score > 0.9, f"the listening cue's last note was not found in what the session played ({score:.2f})"
    return who.time_of(lo + found + len(tail))


@pytest.mark.parametrize("offset", [-0.5, 0.0, 0.5, 1.0])
def test_an_answer_begun_near_the_window_opening_is_kept_from_its_first_word(pulse: Pulse, tmp_path: Path,
                                                                            offset: float) -> None:
    audio = answer_clip()
    script = tmp_path / "question.toml"
    script.write_text(SCRIPT)
    to_cue_end, cue = cue_timing(script)
    with person(pulse.env) as who:
        # the clip's speech starts SPEECH_START into it: place the speech itself at the offset (20 ms later, so
        # that the harness's usual error of a dozen milliseconds cannot take -0.5 s outside the promise)
        speak_after_first_sound(who, audio, to_cue_end + offset + 0.02 - SPEECH_START)
        log, journal, found = run_session(who, pulse, script, tmp_path)
        cue_end = cue_end_time(who, cue)
        spoken_at = who.said_at(audio)
    # Where the answer really began is measured (both recordings, one clock); the harness places it within 15 ms
    # mostly, but was seen 135 ms late once under load (its write-to-microphone latency is measured once, at the
    # start). The product is judged at the measured moment, which must be in the promised range (-0.5 s and
    # later, 20 ms for the measurement) and near the one asked for, so the four cases stay distinct.
    achieved = spoken_at + SPEECH_START - cue_end
    assert achieved >= -0.52 and achieved == pytest.approx(offset, abs=0.2), \
        f"the harness spoke at {achieved:+.3f} s, not {offset:+.1f} s"
    (entry,) = found["entries"]
    kept, rate = sf.read(str(journal.parent / entry["audio_path"]), dtype="float64")
    assert rate == MIC_RATE
    start = int(SPEECH_START * MIC_RATE)
    first_words = audio[start:start + MIC_RATE // 10]  # the answer's first 100 ms
    at, score = find(kept, first_words)
    lines = [line for line in log.splitlines() if "capture" in line or "answer" in line]
    assert score > 0.8 and at >= 0, (f"the answer's first 100 ms are not in the kept audio (best match {score:.2f} at "
                                     f"{at / MIC_RATE:+.3f} s); spoken at {achieved:+.3f} s\n" + "\n".join(lines))
    # and the second after it is the answer's second (its loudness contour: the path resamples, and the waveform
    # drifts by 10-20 ms over a second against the clip)
    following, reference = envelope(kept[at:at + MIC_RATE]), envelope(audio[start:start + MIC_RATE])
    after = float(np.corrcoef(following[:len(reference)], reference[:len(following)])[0, 1])
    assert after > 0.8, f"the second after the match is not the answer's ({after:.2f}): the start was found elsewhere"
    assert len(kept) / rate >= 3.5 - SPEECH_START, "the whole answer was kept"
