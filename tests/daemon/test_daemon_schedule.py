"""Scheduled sessions, on an injected clock: due at 22:30 means it starts at 22:30 (in milliseconds of test
time), its speech was rendered ahead, quiet hours and missed starts are respected, and the loop never polls."""

from __future__ import annotations

import datetime as dt
import queue
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import runner_on
from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.daemon import sessions
from voiceguide.daemon.clock import FakeWallClock
from voiceguide.daemon.config import DaemonConfig, Ramp
from voiceguide.daemon.config_read import loads_config
from voiceguide.daemon.core import MAX_WAIT, Daemon
from voiceguide.daemon.events import Ended, Event, Prepared, Shutdown, Start, StartRequest
from voiceguide.daemon.schedule import Scheduler, latest_at_or_before, next_after
from voiceguide.daemon.worker import Stage, Worker
from voiceguide.live.runner import Runner
from voiceguide.live.session import LiveSession
from voiceguide.seams import AudioOutput, Clip, Clock, SpeechParams

MONDAY = dt.datetime(2026, 11, 30)  # a Monday
CONFIG = """
[audio]
sample_rate = 8000
[speech]
tts = "fake"
[ramp]
seconds = 2
from = 0.2
[[schedule]]
session = "demo"
at = "22:30"
days = "mon-fri"
"""


def entry(text: str = CONFIG) -> DaemonConfig:
    return loads_config(text)


def test_next_and_latest_occurrence() -> None:
    e = entry().schedule[0]
    friday_night = dt.datetime(2026, 12, 4, 23, 0)
    assert next_after(e, friday_night) == dt.datetime(2026, 12, 7, 22, 30), "skips the weekend"
    assert next_after(e, MONDAY.replace(hour=22, minute=30)) == dt.datetime(2026, 12, 1, 22, 30), "strictly after"
    assert latest_at_or_before(e, MONDAY.replace(hour=22, minute=30)) == MONDAY.replace(hour=22, minute=30)
    assert latest_at_or_before(e, dt.datetime(2026, 12, 6, 12)) == dt.datetime(2026, 12, 4, 22, 30)


def test_scheduler_hands_out_each_occurrence_once_and_skips_ones_before_it_started() -> None:
    e = entry().schedule
    started = MONDAY.replace(hour=22, minute=31)
    scheduler = Scheduler(e, started)
    assert scheduler.due(started) == [], "22:30 was before the daemon started"
    tuesday = dt.datetime(2026, 12, 1, 22, 30)
    assert scheduler.seconds_to_next(started) == pytest.approx((tuesday - dt.timedelta(minutes=5) - started)
                                                               .total_seconds())
    assert [d.when for d in scheduler.to_prepare(tuesday - dt.timedelta(minutes=5))] == [tuesday]
    assert scheduler.to_prepare(tuesday - dt.timedelta(minutes=4)) == [], "prepared once"
    assert [d.when for d in scheduler.due(tuesday)] == [tuesday]
    assert scheduler.due(tuesday + dt.timedelta(seconds=1)) == []
    late = scheduler.due(dt.datetime(2026, 12, 2, 23, 0))  # Wednesday 23:00: 22:30 was missed
    assert len(late) == 1 and scheduler.is_late(late[0], dt.datetime(2026, 12, 2, 23, 0))


class Harness:
    """A daemon with the real worker (run inline), the real session preparation, fake speech and output."""

    def __init__(self, config: DaemonConfig, start: dt.datetime) -> None:
        self.wall = FakeWallClock(start)
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.outputs: list[FakeOutput] = []
        self.opened_at: list[dt.datetime] = []
        self.after_end: Callable[[], None] = lambda: self.events.put(Shutdown("test done"))

        def open_output(request: StartRequest) -> tuple[AudioOutput, Clock]:
            clock = FakeClock()
            output = FakeOutput(clock, blocksize=400)
            self.outputs.append(output)
            self.opened_at.append(self.wall.now())
            return output, clock

        def post(event: Event) -> None:
            self.events.put(event)
            if isinstance(event, Ended):
                self.after_end()

        worker = Worker(post, Stage(lambda r: sessions.prepare(config, r), open_output), runner_on(FakeClock()),
                        threaded=False)
        self.daemon = Daemon(config, self.events, worker, self.wall)


@pytest.fixture
def synth_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every line the fake voice really synthesises (cache hits do not count)."""
    calls: list[str] = []
    original = FakeSpeaker.synthesize

    def counting(self: FakeSpeaker, text: str, params: SpeechParams) -> Clip:
        calls.append(text)
        return original(self, text, params)

    monkeypatch.setattr(FakeSpeaker, "synthesize", counting)
    return calls


def test_a_session_due_at_2230_starts_at_2230_with_its_speech_rendered_ahead(synth_calls: list[str]) -> None:
    h = Harness(entry(), MONDAY.replace(hour=21, minute=0))
    rendered_before: list[int] = []
    h.daemon.worker.submit = _spy(h.daemon.worker.submit, lambda kind: rendered_before.append(len(synth_calls))
                                  if kind == "play" else None)
    assert h.daemon.run() == 0
    assert h.opened_at == [MONDAY.replace(hour=22, minute=30)], "the stream opened exactly at 22:30"
    assert rendered_before and rendered_before[0] > 0, "the speech was rendered before 22:30"
    assert len(synth_calls) == rendered_before[0], "nothing was synthesised at 22:30: all came from the cache"
    ended = h.daemon.history
    assert len(ended) == 1 and ended[0].error is None and not ended[0].stopped_early
    assert ended[0].request.source == "schedule"
    assert ended[0].played == pytest.approx(71, abs=10), "the demo played to its end"
    # the loop blocked until each moment it cared about, at most a minute at a time, never polling fast
    assert max(h.wall.waits) <= MAX_WAIT
    assert sum(1 for w in h.wall.waits if w < 1.0) <= 2, f"short waits: {[w for w in h.wall.waits if w < 1]}"
    assert len(h.wall.waits) <= 95, "about one wake-up a minute for 90 minutes"


def _spy(method: Callable[..., None], before: Callable[[str], None]) -> Callable[..., None]:
    def wrapped(kind: str, request: StartRequest) -> None:
        before(kind)
        method(kind, request)
    return wrapped


def test_a_scheduled_session_rises_in_volume_and_one_started_by_hand_does_not() -> None:
    h = Harness(entry(), MONDAY.replace(hour=22, minute=29))
    h.daemon.run()
    scheduled = h.outputs[0].audio()
    h2 = Harness(entry(), MONDAY.replace(hour=10))
    h2.after_end = lambda: h2.events.put(Shutdown("done"))
    h2.events.put(Start(StartRequest("demo", "ctl")))
    h2.daemon.run()
    by_hand = h2.outputs[0].audio()
    n = min(len(scheduled), len(by_hand))
    assert n > 8000 * 5
    rate = 8000
    first, later = slice(0, rate // 2), slice(3 * rate, n)
    peak = np.abs(by_hand[first]).max()
    assert peak > 0.05, "the demo opens with a bell"
    ratio = np.abs(scheduled[first]).max() / peak
    assert 0.15 < ratio < 0.45, f"the scheduled start is at about 0.2-0.3 of full level, not {ratio:.2f}"
    np.testing.assert_allclose(scheduled[later], by_hand[later], atol=1e-6,
                               err_msg="after the 2 s ramp both play at the same level")


def test_quiet_hours_skip_a_scheduled_session() -> None:
    config = entry(CONFIG + '[quiet_hours]\nstart = "22:00"\nend = "6:00"\n')
    h = Harness(config, MONDAY.replace(hour=22, minute=0))
    h.wall.time = MONDAY.replace(hour=22, minute=29)
    h.daemon.tick(MONDAY.replace(hour=22, minute=30))
    assert h.daemon.current is None and h.outputs == []


def test_a_missed_session_is_not_started_late() -> None:
    h = Harness(entry(), MONDAY.replace(hour=22, minute=0))
    h.daemon.tick(MONDAY.replace(hour=22, minute=40))  # the clock jumped (a Pi setting its time after boot)
    assert h.daemon.current is None and h.outputs == []


def test_a_scheduled_session_is_ignored_while_another_plays() -> None:
    h = Harness(entry(), MONDAY.replace(hour=22, minute=0))
    h.daemon.current = StartRequest("box", "ctl")
    h.daemon.tick(MONDAY.replace(hour=22, minute=30))
    assert h.daemon.current.session == "box" and h.outputs == []


def test_status_names_the_next_scheduled_session() -> None:
    h = Harness(entry(), MONDAY.replace(hour=12))
    assert h.daemon.status() == {"ok": True, "state": "idle", "ended": 0,
                                 "next": {"session": "demo", "at": "2026-11-30T22:30"}}


def test_a_ramp_is_only_attached_to_scheduled_requests() -> None:
    config = entry()
    h = Harness(config, MONDAY.replace(hour=22, minute=29, second=59))
    seen: list[StartRequest] = []
    h.daemon.worker.submit = lambda kind, request: seen.append(request) if kind == "play" else None  # type: ignore[method-assign]
    h.daemon.tick(MONDAY.replace(hour=22, minute=30))
    assert seen == [StartRequest("demo", "schedule", None, Ramp(2.0, 0.2))]


def test_prepare_uses_the_configured_voice_rate_and_minutes(tmp_path: Path) -> None:
    config = entry('[speech]\ntts = "fake"\nrate = 100\n[audio]\nsample_rate = 8000\n')
    session, timeline = sessions.prepare(config, StartRequest("coherent", "button", 5.0))
    assert session.rate == 100
    assert timeline.sample_rate == 8000
    assert 4.5 * 60 < timeline.seconds < 5.5 * 60, "fitted to about five minutes"


def test_slower_in_the_daemon_recompiles_the_rest_as_prepare_compiled_it() -> None:
    from voiceguide.playback.control import Command

    config = entry('[speech]\ntts = "fake"\n[audio]\nsample_rate = 8000\n')
    request = StartRequest("box", "wake", 2.0)
    events: list[Event] = []
    clock = FakeClock()
    holder: list[Worker] = []

    def open_output(request: StartRequest) -> tuple[AudioOutput, Clock]:
        clock.at(20.0, lambda: holder[0].command(Command.SLOWER))
        return FakeOutput(clock, blocksize=400), clock

    played = sessions.Sessions(config)  # the daemon's one builder: prepare and "slower" compile alike
    live = LiveSession(played.builder, FakeClock(), threaded=False)
    worker = Worker(events.append, Stage(played.prepare, open_output, played.compiler), Runner(live), threaded=False)
    holder.append(worker)
    worker.submit("play", request)
    prepared, ended = events[0], events[-1]
    assert isinstance(prepared, Prepared) and isinstance(ended, Ended) and ended.error is None
    # slowed from 20 s on: the rest (over a minute of breathing) is 1.2 times as long
    assert ended.played > prepared.seconds + 0.1 * (prepared.seconds - 20), (prepared.seconds, ended.played)
