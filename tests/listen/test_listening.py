"""A session with a listen step, end to end with fakes: hold at the gate, capture, journal, transcribe."""

from __future__ import annotations

import queue
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.backends.fake_input import FakeInput
from voiceguide.backends.fake_stt import FakeRecognizer
from voiceguide.engine.compile import compile_session
from voiceguide.journal.db import Journal
from voiceguide.listen.answers import SessionListener
from voiceguide.playback.control import Command
from voiceguide.playback.loop import play
from voiceguide.script import parse

SCRIPT = ('[session]\ntitle = "Listening"\n[[step]]\nsay = "Hello."\n'
          '[[step]]\nlisten = "What can you hear right now?"\ntimeout = 6\n'
          '[[step]]\nlisten = "How are you feeling, from one to ten?"\nkind = "rating"\ntimeout = 4\n'
          '[[step]]\nsay = "Thank you for sharing."\n')
RATE = 16000


def speech_like(seconds: float, start: float, total: float) -> np.ndarray:
    """Quiet room noise with a loud, voiced burst from ``start`` for ``seconds``."""
    rng = np.random.default_rng(7)
    audio = (rng.standard_normal(int(total * RATE)) * 0.002).astype(np.float32)
    t = np.arange(int(seconds * RATE)) / RATE
    burst = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    a = int(start * RATE)
    audio[a:a + len(burst)] += burst.astype(np.float32)
    return audio


def run_session(tmp_path: Path, microphone_audio: np.ndarray | None, unavailable: bool = False
                ) -> tuple[object, SessionListener, Journal, list[str]]:
    session = parse.loads(SCRIPT)
    timeline = compile_session(session, FakeSpeaker(), RATE, listening=True)
    assert len(timeline.gates) == 2
    clock = FakeClock()
    output = FakeOutput(clock)
    mic = FakeInput(clock, microphone_audio, unavailable=unavailable)
    journal = Journal(tmp_path / "journal.sqlite3")
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    said: list[str] = []
    listener = SessionListener(session, mic, clock, FakeRecognizer(texts=["the rain on the window", "about a six"]),
                               journal, controls, said.append, threaded=False)
    result = play(timeline, output, clock, controls, on_hold=listener.on_hold)
    assert listener.close(timeout=10)
    return result, listener, journal, said


def test_answers_are_kept_in_the_journal_and_the_windows_in_the_timeline(tmp_path: Path) -> None:
    mic = np.concatenate([speech_like(2.0, 1.0, 5.0), speech_like(1.0, 0.5, 4.0)])
    result, listener, journal, said = run_session(tmp_path, mic)
    entries = journal.all()
    assert [e.prompt for e in entries] == ["What can you hear right now?", "How are you feeling, from one to ten?"]
    assert entries[0].transcript == "the rain on the window" and entries[0].kind == "reflection"
    assert entries[1].rating == 6 and entries[1].kind == "rating"
    assert entries[0].session_title == "Listening" and entries[0].step == 2
    assert entries[0].duration is not None and 2.0 <= entries[0].duration <= 4.0
    windows = [e for e in result.events if e.kind == "listen"]  # type: ignore[attr-defined]
    assert len(windows) == 2
    first = (windows[0].end - windows[0].start) / RATE
    assert 5.0 <= first <= 6.0, first  # 1 s of quiet, 2 s of answer, then 2.5 s of quiet (an open question)
    assert not said and not listener.disabled


def test_silence_times_out_and_the_session_goes_on(tmp_path: Path) -> None:
    result, _, journal, _ = run_session(tmp_path, None)
    assert journal.all() == []
    windows = [e for e in result.events if e.kind == "listen"]  # type: ignore[attr-defined]
    assert [round((w.end - w.start) / RATE) for w in windows] == [6, 4]  # each step's timeout
    assert not result.stopped_early  # type: ignore[attr-defined]


def test_no_microphone_is_said_once_and_nothing_crashes(tmp_path: Path) -> None:
    result, listener, journal, said = run_session(tmp_path, None, unavailable=True)
    assert listener.disabled and len(said) == 1 and "microphone" in said[0]
    assert journal.all() == [] and not result.stopped_early  # type: ignore[attr-defined]
    windows = [e for e in result.events if e.kind == "listen"]  # type: ignore[attr-defined]
    # the first window fails at once; the next is a quiet pause as long as its step would have listened
    assert [round((w.end - w.start) / RATE) for w in windows] == [0, 4]


def test_a_muted_microphone_is_said_once_and_listening_goes_on(tmp_path: Path) -> None:
    result, listener, journal, said = run_session(tmp_path, np.zeros(RATE * 20, dtype=np.float32))
    assert said == ["Nothing at all can be heard from the microphone (no sound at all came from the microphone "
                    "in 6 s; it may be muted). The session goes on; to answer aloud, unmute it."]
    assert not listener.disabled and journal.all() == []
    windows = [e for e in result.events if e.kind == "listen"]  # type: ignore[attr-defined]
    assert [round((w.end - w.start) / RATE) for w in windows] == [6, 4]


def test_skipping_a_question_keeps_nothing_and_does_not_cut_the_next_one_short(tmp_path: Path) -> None:
    session = parse.loads(SCRIPT)
    timeline = compile_session(session, FakeSpeaker(), RATE, listening=True)
    clock = FakeClock()
    # room noise; speech from 2.0 s of what the microphone delivers (it only runs while a window listens)
    mic = FakeInput(clock, speech_like(1.5, 2.0, 12.0))
    journal = Journal(tmp_path / "journal.sqlite3")
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    listener = SessionListener(session, mic, clock, FakeRecognizer(texts=["about a six"]), journal, controls,
                               [].append, threaded=False)
    first_window = timeline.gates[0] / RATE
    clock.at(first_window + 1.0, lambda: controls.put(Command.SKIP))  # 1 s into the first question
    result = play(timeline, FakeOutput(clock), clock, controls, on_hold=listener.on_hold)
    assert listener.close(timeout=10)
    entries = journal.all()
    assert [e.prompt for e in entries] == ["How are you feeling, from one to ten?"], "the skipped one kept nothing"
    assert entries[0].rating == 6
    windows = [e for e in result.events if e.kind == "listen"]
    assert (windows[0].end - windows[0].start) / RATE < 1.5, "listening ended with the skip"
    # the second window ran its course: the answer (1.5 s) and the trailing silence, not cut short
    assert (windows[1].end - windows[1].start) / RATE > 2.5


def tone(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_pause_during_an_answer_keeps_nothing_and_resume_asks_again(tmp_path: Path) -> None:
    """Pause 1.5 s into an answer: the microphone stops taking it at once (nothing of it is kept, nor what is
    said while paused); resume asks the question again, and only the answer given then is kept."""
    from voiceguide.listen.shared_input import SharedInput

    script = ('[session]\ntitle = "One question"\n[[step]]\nsay = "Hello."\n'
              '[[step]]\nlisten = "What can you hear right now?"\ntimeout = 8\n[[step]]\nsay = "Goodbye."\n')
    session = parse.loads(script)
    timeline = compile_session(session, FakeSpeaker(), RATE, listening=True)
    window = timeline.gates[0] / RATE
    step_start = timeline.step_starts[1] / RATE
    paused_at, resumed_at = window + 2.0, window + 6.0
    asked_again = resumed_at + (window - step_start)  # the question and its cue are played once more
    audio = (np.random.default_rng(3).standard_normal(int((asked_again + 12) * RATE)) * 0.002).astype(np.float32)

    def put(at: float, sound: np.ndarray) -> None:
        audio[int(at * RATE):int(at * RATE) + len(sound)] += sound

    put(window + 0.5, tone(220, 3.0))  # the first answer: paused 1.5 s into it, said on through the pause
    put(asked_again + 0.5, tone(330, 1.5))  # the answer after resuming
    clock = FakeClock()
    mic = SharedInput(FakeInput(clock, audio, blocksize=320))
    journal = Journal(tmp_path / "journal.sqlite3")
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    listener = SessionListener(session, mic, clock, FakeRecognizer(texts=["a bird"]), journal, controls,
                               [].append, threaded=False)
    clock.at(paused_at, lambda: controls.put(Command.PAUSE))
    clock.at(resumed_at, lambda: controls.put(Command.RESUME))
    with mic.held(RATE):
        result = play(timeline, FakeOutput(clock), clock, controls, on_hold=listener.on_hold)
    assert listener.close(timeout=10)
    (entry,) = journal.all()
    assert entry.transcript == "a bird"
    path = journal.audio_file(entry)
    assert path is not None
    kept, rate = soundfile.read(str(path), dtype="float64")
    spectrum = np.abs(np.fft.rfft(kept))
    freqs = np.fft.rfftfreq(len(kept), 1 / rate)
    at = {hz: spectrum[np.argmin(np.abs(freqs - hz))] for hz in (220, 330)}
    assert at[330] > 100 * at[220], at  # only the answer after resume
    assert 1.5 <= len(kept) / rate <= 3.0, len(kept) / rate
    windows = [e for e in result.events if e.kind == "listen"]
    assert len(windows) == 2 and (windows[0].end - windows[0].start) / RATE == pytest.approx(2.0, abs=0.1)
    assert not result.stopped_early


def test_an_answer_still_being_kept_is_in_the_journal_when_the_microphone_is_released(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon says a session has finished once it has released the microphone: an answer whose keeping
    was still under way then (seen on a busy machine: the capture thread wrote it after "finished") must be in
    the journal by then."""
    import threading
    import time

    from voiceguide.listen.shared_input import SharedInput
    from voiceguide.live.session import HeldListener

    session = parse.loads(SCRIPT)
    clock = FakeClock()
    mic = SharedInput(FakeInput(clock, speech_like(1.0, 0.5, 4.0)))
    listener = SessionListener(session, mic, clock, FakeRecognizer(texts=["rain"]), Journal(tmp_path / "j.sqlite3"),
                               queue.SimpleQueue(), [].append)
    kept = threading.Event()

    def slow_capture(step: int, over: threading.Event, *args: object) -> None:
        time.sleep(0.5)  # a busy machine: the answer is kept a while after the session's sound ended
        listener.entries.append(step)
        kept.set()

    monkeypatch.setattr(listener, "_capture", slow_capture)
    held = HeldListener(listener, mic)
    step = min(listener._listens)
    listener.on_hold(step, threading.Event())
    held.release()
    assert kept.is_set() and listener.entries == [step], "the microphone was released before the answer was kept"
    assert listener.close(timeout=10)
