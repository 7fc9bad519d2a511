"""The recognizer's worker process: start, idle exit, restart, crash (the answer is kept without words)."""

from __future__ import annotations

import os
import queue
import time
from pathlib import Path

import numpy as np
import pytest

from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.backends.fake_input import FakeInput
from voiceguide.errors import RecognizerError
from voiceguide.journal.db import Journal
from voiceguide.listen.stt_worker import RecognizerProcess, off_audio_path
from voiceguide.seams import Clip

CLIP = Clip(np.zeros(1600, dtype=np.float32), 16000)


def _gone(worker: RecognizerProcess, within: float = 30.0) -> bool:
    """Wait (on the real clock: another process is involved) for the worker to exit by itself."""
    end = time.monotonic() + within
    while worker.alive and time.monotonic() < end:
        time.sleep(0.05)
    return not worker.alive


def test_the_worker_starts_on_first_use_at_low_priority_and_answers() -> None:
    worker = RecognizerProcess("fake", {"text": "I feel calmer"}, "fake")
    try:
        assert not worker.alive and worker.starts == 0
        assert worker.transcribe(CLIP).text == "I feel calmer"
        pid = worker.pid
        assert pid is not None and pid != os.getpid()
        assert os.getpriority(os.PRIO_PROCESS, pid) >= os.getpriority(os.PRIO_PROCESS, 0) + 10
        assert worker.transcribe(CLIP).text == "I feel calmer" and worker.starts == 1  # the same process
    finally:
        worker.close()
    assert not worker.alive


def test_an_idle_worker_exits_and_the_next_answer_starts_a_new_one() -> None:
    worker = RecognizerProcess("fake", {"texts": ["one"], "text": "again"}, "fake", idle=0.3)
    try:
        worker.load()
        assert worker.alive
        assert _gone(worker)  # its memory has gone back
        assert worker.transcribe(CLIP).text == "one"  # a fresh recognizer in a fresh process
        assert worker.starts == 2
    finally:
        worker.close()


def test_a_worker_that_dies_is_an_error_and_the_next_call_starts_again() -> None:
    worker = RecognizerProcess("fake", {"die": True}, "fake")
    try:
        with pytest.raises(RecognizerError, match=r"stopped unexpectedly.*exit code 70"):
            worker.transcribe(CLIP)
        assert not worker.alive
        with pytest.raises(RecognizerError, match="stopped unexpectedly"):
            worker.transcribe(CLIP)
        assert worker.starts == 2
    finally:
        worker.close()


def test_errors_in_the_worker_come_back_as_recognizer_errors() -> None:
    worker = RecognizerProcess("vosk", {}, "vosk")
    try:
        with pytest.raises(RecognizerError, match="needs model_dir"):
            worker.transcribe(CLIP)
    finally:
        worker.close()


def test_sessions_get_a_worker_except_for_the_fake() -> None:
    from voiceguide.backends.fake_stt import FakeRecognizer

    assert isinstance(off_audio_path("fake"), FakeRecognizer)
    worker = off_audio_path("sphinx", language="en")
    assert isinstance(worker, RecognizerProcess) and worker.name == "sphinx" and not worker.alive


def test_a_crash_keeps_the_answer_and_retranscribe_adds_the_words_later(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from tests.listen.test_listening import SCRIPT, speech_like
    from voiceguide.cli.main import main
    from voiceguide.engine.compile import compile_session
    from voiceguide.journal.export import answer_text
    from voiceguide.listen.answers import SessionListener
    from voiceguide.playback.control import Command
    from voiceguide.playback.loop import play
    from voiceguide.script import parse

    session = parse.loads(SCRIPT)
    timeline = compile_session(session, FakeSpeaker(), 16000, listening=True)
    clock = FakeClock()
    mic = FakeInput(clock, np.concatenate([speech_like(2.0, 1.0, 5.0), speech_like(1.0, 0.5, 4.0)]))
    journal = Journal(tmp_path / "journal.sqlite3")
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    told: list[str] = []
    worker = RecognizerProcess("fake", {"die": True}, "fake")
    listener = SessionListener(session, mic, clock, worker, journal, controls, told.append, threaded=False)
    play(timeline, FakeOutput(clock), clock, controls, on_hold=listener.on_hold)
    assert listener.close(timeout=60)
    worker.close()
    entries = journal.all()
    assert len(entries) == 2 and all(e.transcript is None and e.audio_path for e in entries)
    assert "retranscribe" in answer_text(entries[0])
    assert sum("retranscribe" in t for t in told) == 1  # said once, not per answer
    assert main(["journal", "retranscribe", "--journal", str(journal.path), "--recognizer", "fake"]) == 0
    capsys.readouterr()
    assert all(e.transcript == "" for e in Journal(journal.path).all())  # the fake hears nothing: filled in
