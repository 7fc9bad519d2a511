"""The daemon's state machine and its session worker, with fakes: one session at a time, stop/pause/status,
shutdown with a fade, retrying an audio server that is not up yet, and the volume ramp."""

from __future__ import annotations

import datetime as dt
import itertools
import queue
import threading
from typing import Literal

import numpy as np
import pytest

from tests.helpers import FollowsCommands, compiled, runner_on
from voiceguide.backends.fake import FakeClock, FakeOutput
from voiceguide.daemon.clock import FakeWallClock
from voiceguide.daemon.config import DaemonConfig, Ramp
from voiceguide.daemon.core import SHUTDOWN_GRACE, Daemon
from voiceguide.daemon.events import Control, Ended, Event, Prepared, Reply, Shutdown, Start, StartRequest, Status
from voiceguide.daemon.ramp import RampedOutput
from voiceguide.daemon.worker import Stage, Worker, backoff
from voiceguide.engine.timeline import Timeline
from voiceguide.errors import AudioUnavailable, SessionNotFound
from voiceguide.live.events import RunState
from voiceguide.playback.control import Command, Snapshot, State
from voiceguide.script.model import Session
from voiceguide.seams import AudioOutput, Clock, Samples

NOON = dt.datetime(2026, 11, 30, 12, 0)


class RecordingWorker(FollowsCommands):
    """Stands in for the worker: records what the daemon asks of it."""

    snapshot: Snapshot | None = None
    sample_rate = 8000

    def __init__(self) -> None:
        self.jobs: list[tuple[str, str]] = []
        self.commands: list[Command] = []
        self.closed = False

    def submit(self, kind: Literal["play", "prepare"], request: StartRequest) -> None:
        self.jobs.append((kind, request.session))
        self.submitted(kind)

    def command(self, command: Command) -> RunState:
        self.commands.append(command)
        return self.commanded(command)

    def close(self, timeout: float = 0.0) -> None:
        self.closed = True


def make() -> tuple[Daemon, RecordingWorker, list[Reply]]:
    worker = RecordingWorker()
    daemon = Daemon(DaemonConfig(), queue.SimpleQueue(), worker, FakeWallClock(NOON))
    return daemon, worker, []


def test_one_session_at_a_time_a_second_start_is_refused() -> None:
    daemon, worker, replies = make()
    first = StartRequest("demo", "ctl")
    daemon.handle(Start(first, replies.append))
    assert daemon.phase == "preparing" and worker.jobs == [("play", "demo")]
    assert replies == [], "ctl hears back once the session is prepared"
    worker.prepared()
    daemon.handle(Prepared(first, 62.0))
    assert replies == [{"ok": True, "session": "demo", "seconds": 62.0}] and daemon.phase == "playing"
    daemon.handle(Start(StartRequest("box", "button"), replies.append))
    assert worker.jobs == [("play", "demo")], "the button press during a session was ignored"
    assert replies[-1] == {"ok": False, "error": "busy: demo is playing (stop it first)"}
    daemon.handle(Ended(first, played=62.0))
    assert daemon.phase == "idle" and daemon.current is None
    daemon.handle(Start(StartRequest("box", "button")))
    assert worker.jobs[-1] == ("play", "box"), "after the end a new trigger starts"


def test_pause_resume_stop_and_status() -> None:
    daemon, worker, replies = make()
    request = StartRequest("demo", "ctl")
    daemon.handle(Control(Command.STOP, "ctl", replies.append))
    assert replies == [{"ok": False, "error": "nothing is playing"}] and worker.commands == []
    daemon.handle(Start(request))
    daemon.handle(Control(Command.TOGGLE, "ctl", replies.append))
    assert replies[-1]["ok"] is False and worker.commands == [], "cannot pause what is still being prepared"
    worker.prepared()
    daemon.handle(Prepared(request, 60.0))
    daemon.handle(Control(Command.TOGGLE, "button", replies.append))
    assert worker.commands == [Command.PAUSE] and daemon.phase == "paused"
    worker.snapshot = Snapshot(8000 * 12, State.PAUSED, compiled('[[step]]\npause = 1\n'))
    daemon.handle(Status(replies.append))
    assert replies[-1] == {"ok": True, "state": "paused", "session": "demo", "source": "ctl", "seconds": 60.0,
                           "position": 12.0, "step": 1, "steps": 1, "ended": 0}
    daemon.handle(Control(Command.TOGGLE, "button", replies.append))
    assert worker.commands[-1] is Command.RESUME and daemon.phase == "playing"
    daemon.handle(Control(Command.STOP, "ctl", replies.append))
    daemon.handle(Control(Command.STOP, "button", replies.append))
    assert worker.commands.count(Command.STOP) == 1, "a second stop while stopping is not resent"
    daemon.handle(Ended(request, stopped_early=True, played=13.0))
    assert daemon.phase == "idle" and daemon.history[-1].stopped_early


def test_a_failed_preparation_is_reported_to_ctl() -> None:
    daemon, _, replies = make()
    request = StartRequest("nope", "ctl")
    daemon.handle(Start(request, replies.append))
    daemon.handle(Ended(request, error="no session called 'nope'"))
    assert replies == [{"ok": False, "error": "no session called 'nope'"}] and daemon.phase == "idle"


def test_shutdown_stops_the_session_and_exits_once_it_ended() -> None:
    daemon, worker, _ = make()
    request = StartRequest("demo", "ctl")
    daemon.handle(Start(request))
    worker.prepared()
    daemon.handle(Prepared(request, 60.0))
    daemon.events.put(Shutdown("SIGTERM"))
    daemon.events.put(Ended(request, stopped_early=True))
    assert daemon.run() == 0
    assert worker.commands == [Command.STOP] and worker.closed
    assert daemon.clock.now() == NOON, "it exited as soon as the session had faded out"


def test_shutdown_gives_up_waiting_after_the_grace_period() -> None:
    daemon, _, replies = make()
    daemon.handle(Start(StartRequest("demo", "ctl")))
    daemon.events.put(Shutdown("SIGTERM"))
    daemon.events.put(Start(StartRequest("box", "ctl"), replies.append))
    assert daemon.run() == 0
    assert replies == [{"ok": False, "error": "shutting down"}]
    waited = (daemon.clock.now() - NOON).total_seconds()
    assert waited == pytest.approx(SHUTDOWN_GRACE), "it waited for the fade, but not forever"
    assert SHUTDOWN_GRACE < 2.0


# --- the worker -------------------------------------------------------------------------------------

def _fake_pair(request: StartRequest) -> tuple[AudioOutput, Clock]:
    clock = FakeClock()
    return FakeOutput(clock), clock


def _timeline() -> Timeline:
    return compiled('[[step]]\nchime = "bell"\n[[step]]\npause = 3\n')


def _prepare(request: StartRequest) -> tuple[Session, Timeline]:
    if request.session == "missing":
        raise SessionNotFound("no session called 'missing'")
    return Session(id="t", title="T", steps=()), _timeline()


def test_backoff_doubles_up_to_a_cap_and_gives_up() -> None:
    assert list(itertools.islice(backoff(), 7)) == [1, 2, 4, 8, 16, 30, 30]
    assert sum(backoff()) <= 300 and sum(backoff()) > 250


def test_an_audio_server_that_is_not_up_yet_is_retried_with_backoff() -> None:
    events: list[Event] = []
    clock = FakeClock()
    attempts: list[float] = []
    refreshed: list[float] = []

    def open_output(request: StartRequest) -> tuple[AudioOutput, Clock]:
        attempts.append(clock.now)
        if len(attempts) < 4:
            raise AudioUnavailable("No usable output device (Error querying device -1). On Debian ...")
        return FakeOutput(clock), clock

    worker = Worker(events.append, Stage(_prepare, open_output), runner_on(clock), threaded=False,
                    refresh=lambda: refreshed.append(clock.now))
    worker.submit("play", StartRequest("demo", "schedule"))
    assert attempts == [0.0, 1.0, 3.0, 7.0], "waited 1, 2 and 4 s between attempts"
    assert refreshed == [1.0, 3.0, 7.0], "PortAudio re-scanned its devices before each new attempt"
    assert isinstance(events[0], Prepared) and isinstance(events[-1], Ended)
    assert events[-1].error is None and not events[-1].stopped_early


def test_a_server_that_never_comes_gives_a_clear_error() -> None:
    events: list[Event] = []
    clock = FakeClock()

    def never(request: StartRequest) -> tuple[AudioOutput, Clock]:
        raise AudioUnavailable("No usable output device")

    worker = Worker(events.append, Stage(_prepare, never), runner_on(clock), threaded=False,
                    retry=lambda: iter([1.0, 2.0]))
    worker.submit("play", StartRequest("demo", "ctl"))
    assert clock.now == 3.0
    assert isinstance(events[-1], Ended) and events[-1].error == "No usable output device"


def test_errors_while_preparing_end_the_session_and_the_worker_goes_on() -> None:
    events: list[Event] = []
    worker = Worker(events.append, Stage(_prepare, _fake_pair), runner_on(FakeClock()),
                    threaded=False)
    worker.submit("play", StartRequest("missing", "ctl"))
    assert events == [Ended(StartRequest("missing", "ctl"), error="no session called 'missing'")]
    worker.submit("prepare", StartRequest("missing", "schedule"))
    assert len(events) == 1, "a failed render-ahead only logs"


def test_a_stop_while_waiting_for_the_server_ends_the_session_at_once() -> None:
    events: list[Event] = []
    clock = FakeClock()
    done = threading.Event()
    worker_holder: list[Worker] = []

    def open_output(request: StartRequest) -> tuple[AudioOutput, Clock]:
        clock.at(clock.now + 0.5, lambda: worker_holder[0].command(Command.STOP))
        raise AudioUnavailable("not yet")

    worker = Worker(lambda e: (events.append(e), done.set()), Stage(_prepare, open_output), runner_on(clock),
                    threaded=False)
    worker_holder.append(worker)
    worker.submit("play", StartRequest("demo", "ctl"))
    assert clock.now == pytest.approx(0.5), "the backoff wait ended with the stop"
    assert isinstance(events[-1], Ended) and events[-1].stopped_early and events[-1].error is None


def test_the_threaded_worker_plays_and_reports() -> None:
    got: queue.SimpleQueue[Event] = queue.SimpleQueue()
    worker = Worker(got.put, Stage(_prepare, _fake_pair), runner_on(FakeClock()))
    worker.submit("play", StartRequest("demo", "ctl"))
    assert isinstance(got.get(timeout=10), Prepared)
    ended = got.get(timeout=10)
    assert isinstance(ended, Ended) and ended.played == pytest.approx(_timeline().seconds, abs=0.2)
    worker.close(timeout=5)


# --- the ramp ---------------------------------------------------------------------------------------

def _ones(out: Samples) -> None:
    out.fill(1.0)


def test_ramped_output_rises_linearly_then_stays_at_full_gain() -> None:
    clock = FakeClock()
    inner = FakeOutput(clock, blocksize=100)
    ramped = RampedOutput(inner, Ramp(seconds=0.1, start=0.25))  # 800 samples at 8 kHz
    with ramped.open(8000, _ones):
        clock.wait(threading.Event(), 0.2)
    audio = inner.audio()
    assert len(audio) >= 1600
    expected = 0.25 + 0.75 * np.arange(800) / 800
    np.testing.assert_allclose(audio[:800], expected, rtol=1e-6)
    assert np.all(audio[800:1600] == 1.0)
    assert np.all(np.diff(audio[:800]) > 0), "no steps at block edges"



def test_voice_commands_skip_repeat_and_slower_reach_a_playing_session() -> None:
    daemon, worker, replies = make()
    request = StartRequest("demo", "wake")
    daemon.handle(Start(request))
    daemon.handle(Control(Command.SKIP, "voice", replies.append))
    assert worker.commands == [] and replies[-1]["ok"] is False, "nothing to skip while preparing"
    worker.prepared()
    daemon.handle(Prepared(request, 60.0))
    for command in (Command.SKIP, Command.REPEAT, Command.SLOWER):
        daemon.handle(Control(command, "voice"))
    assert worker.commands == [Command.SKIP, Command.REPEAT, Command.SLOWER]
    daemon.handle(Control(Command.PAUSE, "voice"))
    daemon.handle(Control(Command.SKIP, "voice"))
    assert worker.commands[-1] is Command.PAUSE, "a paused session is resumed first, not skipped"


def test_the_worker_slows_a_session_down_when_asked() -> None:
    from tests.helpers import session_of
    from voiceguide.backends.fake import FakeSpeaker
    from voiceguide.engine.compile import compile_session

    session = session_of('[[step]]\nsay = "Breathe with me."\n[[step]]\nbreathe = "box"\ncycles = 6\n')

    def build(s: Session) -> Timeline:
        return compile_session(s, FakeSpeaker(), 8000)

    def prepare(request: StartRequest) -> tuple[Session, Timeline]:
        return session, build(session)

    def played(ask_slower: bool) -> float:
        events: list[Event] = []
        clock = FakeClock()
        holder: list[Worker] = []

        def open_output(request: StartRequest) -> tuple[AudioOutput, Clock]:
            if ask_slower:
                clock.at(5.0, lambda: holder[0].command(Command.SLOWER))
            return FakeOutput(clock), clock

        worker = Worker(events.append, Stage(prepare, open_output, lambda r, t: build), runner_on(FakeClock()),
                        threaded=False)
        holder.append(worker)
        worker.submit("play", StartRequest("box", "wake"))
        ended = events[-1]
        assert isinstance(ended, Ended) and ended.error is None and not ended.stopped_early
        return ended.played

    plain, slowed = played(False), played(True)
    assert plain == pytest.approx(build(session).seconds, abs=0.1)
    assert slowed > plain + 10, f"box breathing slowed from 5 s on: {plain:.1f} s became {slowed:.1f} s"
