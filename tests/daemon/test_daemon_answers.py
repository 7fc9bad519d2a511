"""Spoken answers in sessions the daemon plays, with fakes: the real worker, the real preparation from the
config, a fake microphone on the playback's fake clock, and the journal that ``voiceguide journal`` reads."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.listen.test_listening import speech_like
from voiceguide.backends.fake import FakeClock, FakeOutput
from voiceguide.backends.fake_input import FakeInput
from voiceguide.backends.fake_stt import FakeRecognizer
from voiceguide.daemon import listening as answers_module
from voiceguide.daemon import sessions
from voiceguide.daemon.config_read import loads_config
from voiceguide.daemon.events import Ended, Event, Prepared, StartRequest
from voiceguide.daemon.listening import Answers, live_session
from voiceguide.daemon.worker import Stage, Worker
from voiceguide.errors import AudioUnavailable
from voiceguide.journal.db import JOURNAL_FILE, Journal
from voiceguide.listen.shared_input import SharedInput
from voiceguide.live.runner import Runner
from voiceguide.seams import AudioOutput, Clock

SCRIPT = ('[session]\ntitle = "Evening check-in"\n[[step]]\nsay = "Hello."\n'
          '[[step]]\nlisten = "What can you hear right now?"\ntimeout = 6\n'
          '[[step]]\nsay = "Thank you for sharing."\n')


class NoMicrophone(FakeInput):
    def check(self) -> None:
        raise AudioUnavailable("No microphone at all. Plug one in.")


def _play(tmp_path: Path, extra: str = "", mic: type[FakeInput] = FakeInput) -> tuple[list[Event], Path]:
    journal = tmp_path / "journal"
    config = loads_config(f'[speech]\ntts = "fake"\n[audio]\nsample_rate = 16000\n'
                          f'[journal]\npath = "{journal}"\n{extra}')
    script = tmp_path / "check-in.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    # the microphone is held open from the start: the answer comes 1 s into the listen window
    _, listening = sessions.prepare(config, StartRequest(str(script), "ctl"), lambda s: True)
    window = listening.gates[0] / listening.sample_rate
    clock = FakeClock()
    microphone = SharedInput(mic(clock, speech_like(2.0, window + 1.0, window + 6.0)))
    answers = Answers(config, live_session(config, sessions.builder(config), microphone, clock, threaded=False))

    def open_output(request: StartRequest) -> tuple[AudioOutput, Clock]:
        return FakeOutput(clock), clock

    events: list[Event] = []
    worker = Worker(events.append, Stage(lambda r: sessions.prepare(config, r, answers.listening), open_output),
                    Runner(answers.live), threaded=False)
    worker.submit("play", StartRequest(str(script), "ctl"))
    return events, journal / JOURNAL_FILE


@pytest.fixture(autouse=True)
def heard(monkeypatch: pytest.MonkeyPatch) -> None:
    """The configured recogniser hears this (the real ones are tested elsewhere)."""
    monkeypatch.setattr(answers_module, "off_audio_path",
                        lambda name, model, language: FakeRecognizer(texts=["the wind in the trees"]))


def test_an_answer_in_a_daemon_session_goes_to_the_journal(tmp_path: Path) -> None:
    events, database = _play(tmp_path)
    prepared, ended = events[0], events[-1]
    assert isinstance(prepared, Prepared) and isinstance(ended, Ended) and ended.error is None
    with Journal(database) as journal:
        (entry,) = journal.all()
    assert entry.prompt == "What can you hear right now?" and entry.session_title == "Evening check-in"
    assert entry.transcript == "the wind in the trees"
    assert database.parent == tmp_path / "journal" and (database.stat().st_mode & 0o777) == 0o600
    # the session held for the answer: 1 s of quiet, 2 s of answer, then the trailing silence
    assert ended.played > prepared.seconds + 3.0


def test_answers_off_means_a_quiet_pause_and_no_journal(tmp_path: Path) -> None:
    events, database = _play(tmp_path, "answers = false\n")
    assert isinstance(events[-1], Ended) and events[-1].error is None
    assert not database.exists()


def test_no_microphone_is_logged_once_and_the_session_plays(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="voiceguide.daemon.listening"):
        events, database = _play(tmp_path, mic=NoMicrophone)
    assert isinstance(events[-1], Ended) and events[-1].error is None and not database.exists()
    assert [r.getMessage() for r in caplog.records] == [
        "no microphone (No microphone at all): questions are followed by a quiet pause"]
