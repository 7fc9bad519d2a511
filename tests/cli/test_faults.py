"""Faults with fakes: a lost output in ``run`` (exit 2, one message, the timeline kept) and in the daemon
(the session ends, the daemon waits for the output and plays the next one); what an underrun cost, from
PortAudio's time info."""

from __future__ import annotations

import itertools
import json
import queue
import threading
from pathlib import Path

import pytest

from tests.helpers import compiled, runner_on
from voiceguide.backends import rig
from voiceguide.backends.fake import FakeClock, FakeOutput
from voiceguide.backends.sounddevice_out import LossGauge
from voiceguide.cli import main as cli
from voiceguide.daemon.events import Ended, Event, Prepared, StartRequest
from voiceguide.daemon.worker import Stage, Worker
from voiceguide.engine.timeline import Timeline
from voiceguide.errors import AudioUnavailable
from voiceguide.script.model import Session
from voiceguide.seams import AudioOutput, Clock

RATE = 48000


def test_run_keeps_the_timeline_and_exits_2_when_the_output_goes_away(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock()
    output = FakeOutput(clock, record=False)
    output.vanish(20.0)
    monkeypatch.setitem(rig.RIGS, "fake", lambda device: rig.Rig(output, clock, real_time=False))
    played = tmp_path / "played.json"
    code = cli.main(["run", "box", "--backend", "fake", "--timeline", str(played)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert 20.0 < clock.now <= 22.0, "noticed within 2 s"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("voiceguide: The sound output went away after 0:20"), err
    events = json.loads(played.read_text(encoding="utf-8"))["events"]
    assert events and max(e["end"] for e in events) <= 20.1, "the timeline of what played, cut at the loss"


def _timeline() -> Timeline:
    return compiled('[[step]]\nchime = "bell"\n[[step]]\npause = 10\n')


def _prepare(request: StartRequest) -> tuple[Session, Timeline]:
    return Session(id="t", title="T", steps=()), _timeline()


def test_the_daemon_ends_a_session_whose_output_went_away_waits_for_it_and_plays_the_next() -> None:
    got: queue.SimpleQueue[Event] = queue.SimpleQueue()
    clock = FakeClock()
    attempts: list[float] = []
    back = threading.Event()

    def open_output(request: StartRequest) -> tuple[AudioOutput, Clock]:
        attempts.append(clock.now)
        if len(attempts) == 1:
            output = FakeOutput(clock)
            output.vanish(clock.now + 3.0)
            return output, clock
        if len(attempts) < 5:
            raise AudioUnavailable("No usable output device")
        back.set()
        return FakeOutput(clock), clock

    worker = Worker(got.put, Stage(_prepare, open_output), runner_on(clock), retry=lambda: iter([1.0, 2.0, 4.0, 8.0]))
    try:
        worker.submit("play", StartRequest("demo", "ctl"))
        assert isinstance(got.get(timeout=10), Prepared)
        ended = got.get(timeout=10)
        assert isinstance(ended, Ended) and ended.stopped_early
        assert ended.error == "the sound output went away" and 2.5 < ended.played < 3.5
        assert back.wait(10), "the worker tried the output again after the loss"
        lost_at = attempts[0] + 3.0
        waits = [round(b - a, 6) for a, b in itertools.pairwise(attempts[1:])]
        assert attempts[1] - lost_at < 3.0 and waits == [2.0, 4.0, 8.0], attempts
        worker.submit("play", StartRequest("demo", "ctl"))
        assert isinstance(got.get(timeout=10), Prepared)
        again = got.get(timeout=10)
        assert isinstance(again, Ended) and again.error is None and not again.stopped_early
    finally:
        worker.close(timeout=5)


def _callbacks(gauge: LossGauge, count: int, offset: float, handed: int, block: int = 2048,
               underflow_at: int = -1) -> tuple[list[int], int]:
    lost = []
    for i in range(count):
        dac = (handed + offset) / RATE
        lost.append(gauge.update(dac, handed, i == underflow_at))
        handed += block
    return lost, handed


def test_the_loss_gauge_reads_an_underrun_from_the_dac_time() -> None:
    gauge = LossGauge(RATE)
    settled, handed = _callbacks(gauge, 20, offset=4000.0, handed=0)
    assert settled == [0] * 20
    after, _ = _callbacks(gauge, 10, offset=4000.0 + 3357.4, handed=handed, underflow_at=0)
    assert after == [0] * LossGauge.MEASURE_AFTER + [3357] + [0] * (10 - LossGauge.MEASURE_AFTER - 1)
    assert gauge.total == 3357


def test_the_loss_gauge_ignores_the_start_and_hosts_without_time_info() -> None:
    gauge = LossGauge(RATE)
    start, handed = _callbacks(gauge, 3, offset=0.0, handed=0)
    later, handed = _callbacks(gauge, 20, offset=60000.0, handed=handed)  # the stream really started late
    assert start + later == [0] * 23
    blind = LossGauge(RATE)
    assert [blind.update(0.0, n * 2048, n == 10) for n in range(30)] == [0] * 30


def test_an_output_that_is_still_active_may_pause_its_callbacks_for_a_while() -> None:
    """Opening the microphone through PulseAudio held the output's callbacks back for over 1.5 s: a stream
    that says it is still active is not taken for lost (it is after HUNG_SECONDS)."""
    from voiceguide.playback.loop import HUNG_SECONDS, STALL_SECONDS, play

    timeline = compiled('[[step]]\nchime = "bell"\n[[step]]\npause = 10\n')
    clock = FakeClock()
    output = FakeOutput(clock, record=False)
    output.stall(2.0, STALL_SECONDS + 1.5)
    result = play(timeline, output, clock)
    assert not result.stopped_early
    assert HUNG_SECONDS > STALL_SECONDS + 1.5
