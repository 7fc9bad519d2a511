"""An answer begun around the opening of a listen window is kept from its first word (issue 17, item 1).

Real human speech (a LibriVox clip) is spoken into a virtual microphone while ``voiceguide run`` plays a
four-question session into a null sink, one answer per question, at -0.5, 0, +0.5 and +1 s from the moment that
question's listening cue ends as it is heard (see ``person``: both sides on one clock). The kept audio of each
answer is judged: the first 100 ms of the spoken answer must be in it, found by cross-correlation; the recognizer
is the fake one, so no word luck. One session asks all four (it used to be four sessions of one question, 38 s
each): each answer is placed from its own question as heard, and judged against its own journal entry.
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
from tests.audio.person import MIC_RATE, OUT_RATE, Audio, Person, find, person, wait_for_start
from tests.speech_data import librivox_or_skip

pytestmark = pytest.mark.audio

SPEECH_START = 0.235689
"""Where speech starts in LibriVox clip 0870 (its ``.lab`` file)."""
OFFSETS = (-0.5, 0.0, 0.5, 1.0)
"""Where each answer's speech begins, from its question's listening cue's end as heard (seconds)."""
QUESTIONS = ("Which story did you read today, and what stayed with you?",
             "What did you read last night, before you slept?",
             "What poem did you read today, and how was it?",
             "What did you read this morning, on the way here?")
"""One question per offset. The fake voice gives each line its own pitch: these four are told apart, as heard,
from each other and from the lines around them (checked in :func:`question_heads`). They are long enough (2.6-3.2
s) that the answer at -0.5 s is planned about 3 s after its question is heard: the person's voice can lag what is
written by up to 1.94 s on a busy machine (seen), and an answer planned sooner than that is said late."""
SCRIPT = '[session]\ntitle = "Four questions"\nrate = 200\n[[step]]\nsay = "Hello."\n' + "".join(
    f'[[step]]\nlisten = "{question}"\ntimeout = 12\nlimit = 30\n' for question in QUESTIONS) + \
    '[[step]]\nsay = "That is all for now."\n'
"""At 200 words a minute (the fake voice; nothing here judges speech), so the privacy notice takes 8 s, not 12."""
HEAD = OUT_RATE // 4
"""The first 0.25 s of a question as played: what the person listens for to place the answer."""
QUIET = 3 * OUT_RATE // 10
"""The quiet before a question that the person listens for too: the fake voice repeats itself every second (its
pitch is a whole number of hertz), so a question's head alone also fits a second later; after 0.3 s of quiet it
fits only where the question begins (0.67 at best elsewhere, by the share of the window that is not quiet)."""


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


def cue_end_time(who: Person, cue: Audio, near: int | None = None) -> float:
    """``time.monotonic`` at which the listening cue ended, as heard: where its second note ends, found near where
    the whole cue fits best. A busy machine can put a gap into the cue as played (an underrun: the whole cue then
    fitted at 0.82-0.90); the gap moves the rest of the cue later, and the note heard last is the end the person
    heard. With ``near`` (the output sample where a cue is expected to end), the cue heard within a second of it."""
    recording = who.recording()
    first = 0 if near is None else max(0, near - len(cue) - OUT_RATE)
    last = len(recording) if near is None else near + OUT_RATE
    at, _ = find(recording[first:last], cue)
    at += first
    tail = cue[len(cue) // 2:]
    lo = max(0, at - OUT_RATE // 2)
    found, score = find(recording[lo:at + len(cue) + OUT_RATE // 2], tail)
    assert score > 0.9, f"the listening cue's last note was not found in what the session played ({score:.2f})"
    return who.time_of(lo + found + len(tail))


def question_heads(script: Path, questions: tuple[str, ...] = QUESTIONS) -> list[tuple[Audio, float]]:
    """For each question: 0.3 s of quiet and its first 0.25 s of sound as played (48 kHz), and the seconds from the
    start of that to the end of its listening cue (the fake voice's timing, the same in the run). Checks that no line
    the session says between one question's start and the next's could be taken for the next (correlation below
    0.7; a question heard is found at 0.95-1.0)."""
    from voiceguide.backends.fake import FakeSpeaker
    from voiceguide.engine.compile import compile_session
    from voiceguide.script import parse

    timeline = compile_session(parse.load(script), FakeSpeaker(), OUT_RATE, listening=True)
    speech = [e for e in timeline.events if e.kind == "speech"]
    out: list[tuple[Audio, float]] = []
    before = 0
    for question in questions:
        said = next(e for e in speech if e.text == question)
        cue = next(e for e in timeline.events if e.kind == "chime" and e.text == "listening" and e.step == said.step)
        clip = np.asarray(timeline.clips[said.clip], dtype=np.float32)
        onset = int(np.argmax(np.abs(clip) > 0.01))
        head = np.concatenate([np.zeros(QUIET, dtype=np.float32), clip[onset:onset + HEAD]])
        others = [e for e in speech if before <= e.start < said.start]
        worst = max(find(np.asarray(timeline.clips[e.clip]), head)[1] for e in others)
        assert worst < 0.7, f"{question!r} sounds too much like a line said before it ({worst:.2f})"
        assert timeline.clips[said.clip][onset + HEAD:].size and said.start - QUIET > max(e.end for e in others)
        out.append((head, (cue.end - said.start - onset + QUIET) / OUT_RATE))
        before = said.start
    return out


def said_near(who: Person, audio: Audio, planned: float) -> float:
    """``time.monotonic`` at which ``audio`` (said several times) reached the microphone, the time it was said
    for ``planned`` (found within 3 s of it, like :meth:`Person.said_at`: by its first loud quarter second; the
    answers are 9 s or more apart)."""
    assert who.voice_origin is not None, "the microphone recorded nothing"
    voice = np.concatenate(who.voice)
    onset = int(np.argmax(np.abs(audio) > 0.05))
    lo = max(0, round((planned - who.voice_origin - 3.0) * MIC_RATE) + onset)
    at, score = find(voice[lo:lo + 6 * MIC_RATE + MIC_RATE // 4], audio[onset:onset + MIC_RATE // 4])
    assert score > 0.8, f"an answer was not found at the microphone ({score:.2f})"
    return who.voice_origin + (lo + at - onset) / MIC_RATE


def judge(offset: float, achieved: float, audio: Audio, kept: np.ndarray, rate: int, log: str) -> list[str]:
    """What is wrong with the answer kept for the one spoken at ``offset`` (measured: ``achieved``)."""
    # Where the answer really began is measured (both recordings, one clock); the harness places it within 15 ms
    # mostly, but was seen 135 ms late once under load (its write-to-microphone latency is measured once, at the
    # start). The product is judged at the measured moment, which must be in the promised range (-0.5 s and
    # later, 20 ms for the measurement) and near the one asked for, so the four cases stay distinct.
    if not (achieved >= -0.52 and achieved == pytest.approx(offset, abs=0.2)):
        return [f"{offset:+.1f} s: the harness spoke at {achieved:+.3f} s"]
    if rate != MIC_RATE:
        return [f"{offset:+.1f} s: kept at {rate} Hz"]
    start = int(SPEECH_START * MIC_RATE)
    first_words = audio[start:start + MIC_RATE // 10]  # the answer's first 100 ms
    at, score = find(kept, first_words)
    lines = [line for line in log.splitlines() if "capture" in line or "answer" in line]
    if not (score > 0.8 and at >= 0):
        return [f"{offset:+.1f} s: the answer's first 100 ms are not in the kept audio (best match {score:.2f} at "
                f"{at / MIC_RATE:+.3f} s); spoken at {achieved:+.3f} s\n" + "\n".join(lines)]
    problems = []
    # and the second after it is the answer's second (its loudness contour: the path resamples, and the waveform
    # drifts by 10-20 ms over a second against the clip)
    following, reference = envelope(kept[at:at + MIC_RATE]), envelope(audio[start:start + MIC_RATE])
    after = float(np.corrcoef(following[:len(reference)], reference[:len(following)])[0, 1])
    if not after > 0.8:
        problems.append(f"{offset:+.1f} s: the second after the match is not the answer's ({after:.2f}): the start "
                        "was found elsewhere")
    if not len(kept) / rate >= 3.5 - SPEECH_START:
        problems.append(f"{offset:+.1f} s: the whole answer was not kept ({len(kept) / rate:.2f} s)")
    return problems


def test_an_answer_begun_near_the_window_opening_is_kept_from_its_first_word(pulse: Pulse, tmp_path: Path) -> None:
    from voiceguide.sound.sounds import listen_cue

    audio = answer_clip()
    script = tmp_path / "question.toml"
    script.write_text(SCRIPT)
    heads = question_heads(script)
    cue = listen_cue(OUT_RATE)
    ran: dict[str, object] = {}

    def session() -> None:
        try:
            ran["result"] = run_session(who, pulse, script, tmp_path)
        except BaseException as exc:  # re-raised below, on the test's thread
            ran["error"] = exc

    with person(pulse.env) as who:
        runner = threading.Thread(target=session, daemon=True)
        runner.start()
        placed: list[tuple[int, float]] = []
        after = 0
        for (head, to_cue_end), offset in zip(heads, OFFSETS, strict=True):
            asked = wait_for_start(who, head, after, timeout=90, score=0.85)
            # the clip's speech starts SPEECH_START into it: place the speech itself at the offset (20 ms later, so
            # that the harness's usual error of a dozen milliseconds cannot take -0.5 s outside the promise)
            planned = who.time_of(asked) + to_cue_end + offset + 0.02 - SPEECH_START
            who.say(audio, planned)
            placed.append((asked + round(to_cue_end * OUT_RATE), planned))
            after = asked + len(head)
        runner.join(200)
        assert "error" not in ran, ran.get("error")
        assert "result" in ran, "the session did not end within 200 s"
        cue_ends = [cue_end_time(who, cue, near) for near, _ in placed]
        spoken = [said_near(who, audio, planned) for _, planned in placed]
    log, journal, _ = ran["result"]  # type: ignore[misc]
    entries = {entry["prompt"]: entry for entry in ran["result"][2]["entries"]}  # type: ignore[index]
    assert sorted(entries) == sorted(QUESTIONS), f"one entry per question expected: {sorted(entries)}\n{log}"
    problems: list[str] = []
    for question, offset, cue_end, spoken_at in zip(QUESTIONS, OFFSETS, cue_ends, spoken, strict=True):
        kept, rate = sf.read(str(journal.parent / entries[question]["audio_path"]), dtype="float64")
        problems += judge(offset, spoken_at + SPEECH_START - cue_end, audio, kept, rate, log)
    assert not problems, "\n".join(problems)
