"""The daemon tells what the player is really doing: read from the runner, never a copy of its own (issue 17
item 3). With fakes: the real worker and runner, a fake microphone on the playback's fake clock."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest

from tests.daemon.test_daemon_answers import SCRIPT
from tests.daemon.test_daemon_core import NOON
from tests.listen.test_listening import speech_like
from voiceguide.backends.fake import FakeClock, FakeOutput
from voiceguide.backends.fake_input import FakeInput
from voiceguide.backends.fake_stt import FakeRecognizer
from voiceguide.daemon import listening as answers_module
from voiceguide.daemon import sessions
from voiceguide.daemon.clock import FakeWallClock
from voiceguide.daemon.config_read import loads_config
from voiceguide.daemon.core import Daemon
from voiceguide.daemon.events import Control, Ended, Event, Reply, Start, StartRequest, Status
from voiceguide.daemon.listening import Answers, live_session
from voiceguide.daemon.worker import Stage, Worker
from voiceguide.listen.shared_input import SharedInput
from voiceguide.live.events import RunState
from voiceguide.live.runner import Runner
from voiceguide.playback.control import Command
from voiceguide.seams import AudioOutput, Clock


@pytest.fixture(autouse=True)
def heard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers_module, "off_audio_path",
                        lambda name, model, language: FakeRecognizer(texts=["the wind in the trees"]))


def test_pause_during_a_question_is_told_as_the_player_has_it_and_the_end_is_idle(tmp_path: Path) -> None:
    config = loads_config(f'[speech]\ntts = "fake"\n[audio]\nsample_rate = 16000\n'
                          f'[journal]\npath = "{tmp_path / "journal"}"\n')
    script = tmp_path / "check-in.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    _, listening = sessions.prepare(config, StartRequest(str(script), "ctl"), lambda s: True)
    window = listening.gates[0] / listening.sample_rate
    clock = FakeClock()
    microphone = SharedInput(FakeInput(clock, speech_like(2.0, window + 1.0, window + 6.0)))
    answers = Answers(config, live_session(config, sessions.builder(config), microphone, clock, threaded=False))

    def open_output(request: StartRequest) -> tuple[AudioOutput, Clock]:
        return FakeOutput(clock), clock

    holder: list[Daemon] = []

    def post(event: Event) -> None:
        holder[0].handle(event)

    worker = Worker(post, Stage(lambda r: sessions.prepare(config, r, answers.listening), open_output),
                    Runner(answers.live), threaded=False)
    daemon = Daemon(config, queue.SimpleQueue(), worker, FakeWallClock(NOON))
    holder.append(daemon)
    replies: list[Reply] = []
    seen: list[tuple[str, str]] = []  # (what the daemon said, what the player was doing)

    def player_state() -> str:
        snapshot = worker.snapshot
        assert snapshot is not None, "a player is playing"
        return RunState.of(snapshot.state).value

    def pause() -> None:
        daemon.handle(Control(Command.PAUSE, "ctl", replies.append))
        seen.append((replies[-1]["state"], player_state()))

    def resume() -> None:  # the player may hold through a pause or pause there: either way, it goes on after this
        daemon.handle(Control(Command.RESUME, "ctl", replies.append))
        seen.append((replies[-1]["state"], player_state()))

    def status() -> None:
        daemon.handle(Status(replies.append))
        seen.append((replies[-1]["state"], player_state()))

    clock.at(1.0, status)
    clock.at(window + 0.5, status)
    clock.at(window + 0.6, pause)
    clock.at(window + 1.5, status)
    clock.at(window + 2.0, resume)
    clock.at(window + 2.5, status)
    daemon.handle(Start(StartRequest(str(script), "ctl")))
    assert seen[0] == ("playing", "playing") and seen[1] == ("listening", "listening")
    assert all(said == really for said, really in seen), seen
    ended = daemon.history[-1]
    assert isinstance(ended, Ended) and ended.error is None
    daemon.handle(Status(replies.append))
    assert replies[-1]["state"] == "idle", "the session has ended: the status says so"
    daemon.handle(Control(Command.PAUSE, "ctl", replies.append))
    assert replies[-1] == {"ok": False, "error": "nothing is playing"}
