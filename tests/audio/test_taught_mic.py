"""Dutch voice commands through the real path: taught through the virtual microphone, then heard in a session.

``voiceguide commands teach --language nl`` runs with the virtual microphone; at each of its invitations the
"person" says the word (espeak-ng's Dutch voice, three speeds: synthetic, as no real Dutch speech is on the
registries). Then ``voiceguide run`` plays a Dutch session with an ambient bed into a null sink; in its quiet
stretch the person says "pauze" (a fourth speed), and later "verder"; then the session is ended by SIGTERM.
The recording of the session must fall quiet (the pause's fade) within 1 s of the end of "pauze" as it reached
the microphone, and sound again within 1 s of the end of "verder" (both sides timed on one clock, see
``person``).

What the machine's load may move is the person, not the product: the test's own feed into the microphone can
arrive late, or with a gap inside a word. So each word's end is found where the microphone carried it (its last
loud quarter second, not its start plus its length), the session is ended a fixed time after "verder" really
ended (not at a time planned before it was said: under load that cut the session before "verder" had been
heard), and the quiet stretch is long (12 s, never played out: the session ends first) so that a late word still
falls inside it.

Not luck: these takes' match distances are checked off the audio path on every run
(``test_the_test_words_match_with_a_wide_margin``), and the product's own behaviour (the sound stopping) is
judged.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from tests.audio.audio_helpers import REPO, Pulse
from tests.audio.person import MIC_RATE, OUT_RATE, Person, find, person

pytestmark = pytest.mark.audio

TAUGHT_SPEEDS = (120, 135, 150)
SAID_SPEED = 128
QUIET_AT = 2.0
"""Seconds after the session's first sound when "pauze" is said (inside its quiet stretch)."""
PAUSED_FOR = 2.0
"""Seconds from the end of "pauze" to the start of "verder"."""
ANSWER_WITHIN = 1.0
"""The product's promise: a spoken command acts within this many seconds of the word's end."""
SCRIPT = '''[session]
title = "Pauze"
language = "nl"
[[step]]
say = "Hallo."
[[step]]
pause = 12
[[step]]
listen = "Hoe gaat het?"
timeout = 1
[[step]]
say = "Tot ziens."
'''


def espeak(word: str, speed: int) -> np.ndarray:
    wav = subprocess.run(["espeak-ng", "-v", "nl", "-s", str(speed), "--stdout", word], capture_output=True,
                         check=True, timeout=30).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
    audio = soxr.resample(audio, rate, MIC_RATE).astype(np.float32)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    audio = audio[loud[0]:loud[-1] + 1]
    return (audio / float(np.max(np.abs(audio))) * 0.4).astype(np.float32)


def test_the_test_words_match_with_a_wide_margin() -> None:
    """Off the audio path: the session's sayings are far nearer their own word than the other (so the real-path
    test below does not depend on luck)."""
    from voiceguide.backends.taught_match import Matcher, features

    matcher = Matcher({w: [features(espeak(w, s)) for s in TAUGHT_SPEEDS] for w in ("pauze", "verder")})
    for word in ("pauze", "verder"):
        match = matcher.match(espeak(word, SAID_SPEED))
        assert match.word == word
        assert match.distance < 0.6 * match.threshold and match.runner_up > 2 * match.distance


def teach(who: Person, env: dict[str, str]) -> None:
    """``voiceguide commands teach`` with the person answering each invitation."""
    takes = {w: [espeak(w, s) for s in TAUGHT_SPEEDS] for w in ("pauze", "verder")}
    teacher = subprocess.Popen([sys.executable, "-u", "-m", "voiceguide", "commands", "teach", "--language", "nl",
                                "--input", "pulse", "--word", "pause=pauze", "--word", "resume=verder"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    assert teacher.stdout is not None
    said: list[str] = []
    first = True
    for line in teacher.stdout:
        said.append(line)
        if line.startswith("Say '"):
            word = line.split("'")[1]
            asked = sum(s.startswith(f"Say '{word}'") for s in said)
            who.say(takes[word][(asked - 1) % len(TAUGHT_SPEEDS)],
                    time.monotonic() + (2.0 if first else 0.4))  # the capture's first second can be empty
            first = False
    assert teacher.wait(timeout=60) == 0, "".join(said) + (teacher.stderr.read() if teacher.stderr else "")
    assert not any("too loud" in s or "longer than" in s for s in said), "".join(said)


def level(audio: np.ndarray) -> np.ndarray:
    """RMS of each 20 ms of the 48 kHz recording."""
    size = OUT_RATE // 50
    n = len(audio) // size
    return np.sqrt(np.mean(np.square(audio[:n * size].reshape(n, size), dtype=np.float64), axis=1))


def ended_at(who: Person, audio: np.ndarray, search: float | None = 4.0) -> float | None:
    """``time.monotonic`` at which ``audio`` (a word said) had wholly reached the microphone, found by its last
    loud quarter second in the microphone's recording (the last ``search`` seconds of it); None if not there
    yet. Not its start plus its length: a stall of the test's own feed can put a gap inside the word, and the
    product can only act once the word has ended."""
    assert who.voice_origin is not None, "the microphone recorded nothing"
    loud = np.flatnonzero(np.abs(audio) > 0.05)
    end = int(loud[-1]) + 1
    tail = audio[max(0, end - MIC_RATE // 4):end]
    voice = np.concatenate(who.voice)
    first = 0 if search is None else max(0, len(voice) - round(search * MIC_RATE))
    at, score = find(voice[first:], tail)
    if score < 0.8:
        return None
    return who.voice_origin + (first + at + len(tail) + len(audio) - end) / MIC_RATE


def test_pauze_and_verder_said_into_the_microphone_pause_and_resume_within_a_second(pulse: Pulse,
                                                                                   tmp_path: Path) -> None:
    script = tmp_path / "pauze.toml"
    script.write_text(SCRIPT)
    pauze, verder = espeak("pauze", SAID_SPEED), espeak("verder", SAID_SPEED)
    with person(pulse.env) as who:
        env = {**pulse.env, "PULSE_SINK": who.out, "PULSE_SOURCE": f"{who.mic}.monitor",
               "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data"),
               "XDG_CONFIG_HOME": str(tmp_path / "config")}
        teach(who, env)
        started = threading.Event()

        def watch(block: np.ndarray, before: int) -> None:
            loud = np.flatnonzero(np.abs(block) > 0.01)
            if not started.is_set() and len(loud):
                started.set()
                first = who.time_of(before + int(loud[0]))
                who.say(pauze, first + QUIET_AT)
                who.say(verder, first + QUIET_AT + len(pauze) / MIC_RATE + PAUSED_FOR)

        heard_from = len(who.heard)
        who.when_heard(watch)
        run = subprocess.Popen([sys.executable, "-m", "voiceguide", "-v", "run", str(script), "--device", "pulse",
                                "--input", "pulse", "--tts", "fake", "--journal", str(tmp_path / "j.sqlite3"),
                                "--recognizer", "fake", "--ambient", "pink", "--ambient-volume", "0.5"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        try:  # the rest of the session (its privacy notice and question) is not what is tested: end it softly
            assert started.wait(60), "the session made no sound"
            time.sleep(QUIET_AT + (len(pauze) + len(verder)) / MIC_RATE + PAUSED_FOR)
            deadline = time.monotonic() + 20
            while (verder_end := ended_at(who, verder)) is None:  # when it was really said: the feed can lag
                assert time.monotonic() < deadline, "'verder' never reached the microphone"
                time.sleep(0.2)
            time.sleep(max(0.0, verder_end + ANSWER_WITHIN + 1.0 - time.monotonic()))
            pauze_end = ended_at(who, pauze, search=None)
            assert pauze_end is not None, "'pauze' never reached the microphone"
            run.terminate()
            _, log = run.communicate(timeout=60)
        finally:
            run.kill()
        assert run.returncode == 0, log
        heard = np.concatenate(who.heard[heard_from:])
        voice = np.concatenate(who.voice)
        whole = {w: find(voice, a)[1] for w, a in (("pauze", pauze), ("verder", verder))}
        origin = who.time_of(sum(len(b) for b in who.heard[:heard_from]))
    assert "heard 'pauze'" in log and "heard 'verder'" in log, \
        f"{log}\nhow whole each word reached the microphone (1.0: as said): {whole}"
    levels = level(heard)
    times = origin + np.arange(len(levels)) / 50

    def when(condition: np.ndarray, after: float) -> float:
        hits = np.flatnonzero(condition & (times > after))
        assert len(hits), "never"
        return float(times[hits[0]])

    playing = float(np.median(levels[(times > pauze_end - 1.5) & (times < pauze_end - 0.3)]))
    assert playing > 0.005, "the ambient bed was not playing before 'pauze'"
    quiet = levels < 0.3 * playing  # and stays so for 0.5 s: a gap from an underrun is no pause
    lasting = np.convolve(quiet, np.ones(25), mode="full")[24:] == 25
    quiet_at = when(lasting, pauze_end)
    back_at = when(levels > 0.5 * playing, verder_end - 0.2)
    print(f"\npaused {quiet_at - pauze_end:.2f} s after 'pauze' ended; sounding again "
          f"{back_at - verder_end:.2f} s after 'verder' ended")
    assert quiet_at - pauze_end < ANSWER_WITHIN
    assert verder_end - 0.2 < back_at < verder_end + ANSWER_WITHIN
