"""run.play with the fake clock and output: scripted key presses, the as-played timeline, stall detection."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from tests.helpers import TWENTY_MINUTES, compiled, max_jump, session_of
from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.engine.compile import compile_session
from voiceguide.engine.mix import Mixer
from voiceguide.engine.timeline import Event, Segment, Timeline, as_played
from voiceguide.errors import OutputLost
from voiceguide.playback.control import Command, Snapshot, State
from voiceguide.playback.loop import STALL_SECONDS, START_SECONDS, TICK_SECONDS, play
from voiceguide.playback.player import FADE_SECONDS
from voiceguide.seams import FillCallback, Samples

RATE = 8000
BLOCK = 256
BODY = ('[[step]]\nsay = "Welcome to this practice."\n'
        '[[step]]\nbreathe = { inhale = 3, hold = 1, exhale = 4 }\ncycles = 2\ncue = "tone"\n'
        '[[step]]\nsay = "Notice how you feel."\n'
        '[[step]]\nchime = "bell"\n'
        '[[step]]\nsay = "Thank you."\n')


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return compiled(BODY, rate=RATE)


@pytest.fixture(scope="module")
def rendered(timeline: Timeline) -> Samples:
    return Mixer(timeline).render()


class Rig:
    """A fake clock and output with a control queue; ``press(t, cmd)`` schedules a key press."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.output = FakeOutput(self.clock, blocksize=BLOCK)
        self.controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.marks: dict[Command, int] = {}
        """Stream frame at which each pressed command's block begins."""

    def press(self, when: float, cmd: Command) -> None:
        def act() -> None:
            self.marks[cmd] = self.output.frames
            self.controls.put(cmd)

        self.clock.at(when, act)


def step_of_phase(timeline: Timeline, step: int) -> list[Event]:
    return [e for e in timeline.events if e.step == step]


def test_plays_the_whole_render(timeline: Timeline, rendered: Samples) -> None:
    rig = Rig()
    ticks: list[Snapshot] = []
    result = play(timeline, rig.output, rig.clock, rig.controls, ticks.append)
    audio = rig.output.audio()
    assert result.frames == rig.output.frames == len(audio)
    assert timeline.length <= result.frames <= timeline.length + TICK_SECONDS * RATE + 2 * BLOCK
    np.testing.assert_array_equal(audio[:timeline.length], rendered)
    assert not audio[timeline.length:].any()
    assert not result.stopped_early
    assert result.events == list(timeline.events)
    assert rig.output.opened == 1
    positions = [s.position for s in ticks]
    assert positions == sorted(positions) and len(ticks) > 10
    assert ticks[-1].state is State.FINISHED
    assert ticks[-1].position == timeline.length


def test_pause_shifts_later_events_by_the_pause(timeline: Timeline, rendered: Samples) -> None:
    rig = Rig()
    rig.press(2.0, Command.PAUSE)
    rig.press(5.0, Command.RESUME)
    result = play(timeline, rig.output, rig.clock, rig.controls)
    paused_at = rig.marks[Command.PAUSE] + int(FADE_SECONDS * RATE)  # timeline sample where it went silent
    shift = rig.marks[Command.RESUME] - paused_at
    assert abs(shift - (3.0 * RATE - FADE_SECONDS * RATE)) <= BLOCK  # silence: the 3 s less the fade
    assert len(result.events) == len(timeline.events)
    for played, original in zip(result.events, timeline.events, strict=True):
        if original.start < paused_at:
            assert played == original
        else:
            assert (played.kind, played.start, played.end) == (original.kind, original.start + shift,
                                                                original.end + shift)
    assert result.frames >= timeline.length + shift
    audio = rig.output.audio()
    assert not audio[paused_at:rig.marks[Command.RESUME]].any()
    after = rig.marks[Command.RESUME] + int(FADE_SECONDS * RATE)  # once the fade-in is over, the render again
    np.testing.assert_array_equal(audio[after:after + RATE], rendered[after - shift:after - shift + RATE])
    assert not result.stopped_early


def test_skip_drops_the_rest_of_the_step(timeline: Timeline, rendered: Samples) -> None:
    rig = Rig()
    start2, start3 = timeline.step_starts[1], timeline.step_starts[2]
    when = (start2 + 2 * RATE) / RATE  # two seconds into the breathing
    rig.press(when, Command.SKIP)
    result = play(timeline, rig.output, rig.clock, rig.controls)
    fade = int(FADE_SECONDS * RATE)
    left_at = rig.marks[Command.SKIP] + fade
    shift = left_at - start3
    kept = [e for e in timeline.events if e.start < left_at]
    later = [e for e in timeline.events if e.start >= start3]
    assert len(result.events) == len(kept) + len(later)
    assert all(e.step != 2 or e.start < left_at for e in result.events)
    assert result.events[:len(kept)][-1].end == left_at  # the interrupted phase ends where the skip happened
    for played, original in zip(result.events[len(kept):], later, strict=True):
        assert (played.kind, played.step, played.start) == (original.kind, original.step, original.start + shift)
    assert result.frames < timeline.length
    assert not result.stopped_early
    audio = rig.output.audio()
    after = left_at + fade
    np.testing.assert_array_equal(audio[after:after + RATE], rendered[start3 + fade:start3 + fade + RATE])


def test_stop_fades_out_within_half_a_second(timeline: Timeline, rendered: Samples) -> None:
    rig = Rig()
    when = (timeline.step_starts[1] + 1.5 * RATE) / RATE  # inside a pacing tone
    rig.press(when, Command.STOP)
    result = play(timeline, rig.output, rig.clock, rig.controls)
    audio = rig.output.audio()
    mark = rig.marks[Command.STOP]
    assert np.abs(audio[mark - 100:mark]).max() > 0.01  # it was sounding
    silent_from = int(np.flatnonzero(audio)[-1]) + 1
    assert 0 < silent_from - mark <= 0.5 * RATE
    assert max_jump(audio[mark - 100:]) <= max_jump(rendered[mark - 100:mark + RATE]) + 1e-3  # no click
    assert result.stopped_early
    assert all(e.start < silent_from for e in result.events)
    assert len(result.events) < len(timeline.events)
    assert rig.clock.now <= when + 0.5 + TICK_SECONDS


def test_stop_while_paused_finishes_at_once(timeline: Timeline) -> None:
    rig = Rig()
    rig.press(2.0, Command.PAUSE)
    rig.press(4.0, Command.STOP)
    result = play(timeline, rig.output, rig.clock, rig.controls)
    assert result.stopped_early
    assert rig.clock.now <= 4.0 + TICK_SECONDS
    assert not rig.output.audio()[rig.marks[Command.PAUSE] + int(FADE_SECONDS * RATE):].any()
    paused_at = rig.marks[Command.PAUSE] + int(FADE_SECONDS * RATE)
    assert [e for e in result.events if e.start >= paused_at] == []


def test_as_played_moves_and_truncates_events() -> None:
    tl = Timeline(100, (Event("speech", 0, 50, 1, 0), Event("pause", 50, 100, 2), Event("speech", 100, 150, 3, 0),
                        Event("chime", 150, 200, 4, 0)), (np.zeros(50, dtype=np.float32),), (0, 50, 100, 150), 200)
    segments = [Segment(0, 0, 30), Segment(80, 30, 60), Segment(110, 100, 170)]
    assert as_played(tl, segments) == [
        Event("speech", 0, 30, 1, 0),  # cut by the pause: the rest is the second segment's
        Event("pause", 100, 110, 2),  # started 20 samples later than written, ended at the skip
        Event("speech", 110, 160, 3, 0),
        Event("chime", 160, 180, 4, 0),  # stopped 20 samples in
    ]


def test_twenty_minute_session_plays_with_the_fakes() -> None:
    tl = compiled(TWENTY_MINUTES, rate=RATE)
    assert tl.seconds > 20 * 60
    clock = FakeClock()
    output = FakeOutput(clock, blocksize=1024, record=False)
    result = play(tl, output, clock)
    assert not result.stopped_early
    assert tl.length <= result.frames <= tl.length + TICK_SECONDS * RATE + 2 * 1024
    assert result.events == list(tl.events)
    assert clock.now == pytest.approx(tl.seconds, abs=2 * TICK_SECONDS)


class DeadOutput:
    """An output that opens but never asks for audio (a device that vanished)."""

    def __init__(self, fills_before_dying: int = 0, clock: FakeClock | None = None) -> None:
        self.fills = fills_before_dying
        self.clock = clock

    @contextmanager
    def open(self, sample_rate: int, fill: FillCallback) -> Iterator[object]:
        buffer = np.zeros(BLOCK, dtype=np.float32)
        left = self.fills

        def tick(_: float) -> None:
            nonlocal left
            if left > 0:
                left -= 1
                fill(buffer)

        unsubscribe = self.clock.listen(tick) if self.clock is not None else None
        try:
            yield self
        finally:
            if unsubscribe is not None:
                unsubscribe()


def test_an_output_that_never_fills_is_lost_after_the_start_allowance(timeline: Timeline) -> None:
    clock = FakeClock()
    with pytest.raises(OutputLost, match="sound output went away") as caught:
        play(timeline, DeadOutput(), clock)
    assert START_SECONDS < clock.now <= START_SECONDS + 2 * TICK_SECONDS
    assert caught.value.exit_code == 2


def test_an_output_that_stops_filling_is_lost_within_two_seconds(timeline: Timeline) -> None:
    clock = FakeClock()
    with pytest.raises(OutputLost):
        play(timeline, DeadOutput(fills_before_dying=8, clock=clock), clock)
    assert 8 * TICK_SECONDS + STALL_SECONDS < clock.now <= 8 * TICK_SECONDS + 2.0


def test_a_vanished_output_ends_the_session_and_keeps_what_played(timeline: Timeline) -> None:
    """The fake output stops calling back 3 s in: lost within 2 s, exit code 2, and the result holds what had
    played (the events up to the loss, cut there), so the timeline can still be written."""
    rig = Rig()
    rig.output.vanish(3.0)
    with pytest.raises(OutputLost) as caught:
        play(timeline, rig.output, rig.clock, rig.controls)
    assert rig.clock.now - 3.0 <= 2.0, f"noticed {rig.clock.now - 3.0:.2f} s after the output went away"
    assert caught.value.exit_code == 2
    result = caught.value.result
    assert result.stopped_early
    assert abs(result.frames - 3.0 * RATE) <= BLOCK
    assert result.events, "what played before the loss is kept"
    assert max(e.end for e in result.events) <= result.frames
    assert result.events[0] == timeline.events[0]


def test_a_suspended_process_is_not_a_lost_output(timeline: Timeline) -> None:
    """Ctrl-Z for 5 s: the loop itself wakes 5 s late; the output is given time again, not called lost."""

    class SuspendingClock(FakeClock):
        def wait(self, event: threading.Event, timeout: float) -> bool:
            if 2.0 <= self.now < 2.0 + timeout:
                self.now += 5.0  # nothing ran, not even the output
            return super().wait(event, timeout)

    clock = SuspendingClock()
    result = play(timeline, FakeOutput(clock, blocksize=BLOCK, record=False), clock)
    assert not result.stopped_early


def test_long_pause_is_not_a_stall(timeline: Timeline) -> None:
    rig = Rig()
    rig.press(1.0, Command.PAUSE)
    rig.press(1.0 + 3 * STALL_SECONDS, Command.RESUME)
    result = play(timeline, rig.output, rig.clock, rig.controls)
    assert not result.stopped_early
    assert result.frames > timeline.length + 3 * STALL_SECONDS * RATE - BLOCK


class InterruptingClock(FakeClock):
    """Raises KeyboardInterrupt from ``wait`` at the given fake times (Ctrl-C)."""

    def __init__(self, *times: float) -> None:
        super().__init__()
        self.times = list(times)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if self.times and self.now >= self.times[0]:
            self.times.pop(0)
            raise KeyboardInterrupt
        return super().wait(event, timeout)


def test_ctrl_c_fades_out_like_stop(timeline: Timeline) -> None:
    clock = InterruptingClock(2.0)
    output = FakeOutput(clock, blocksize=BLOCK)
    result = play(timeline, output, clock)
    assert result.stopped_early
    assert clock.now <= 2.0 + 0.5 + TICK_SECONDS
    assert result.frames < timeline.length


def test_second_ctrl_c_aborts(timeline: Timeline) -> None:
    clock = InterruptingClock(2.0, 2.0)
    with pytest.raises(KeyboardInterrupt):
        play(timeline, FakeOutput(clock, blocksize=BLOCK), clock)


def test_commands_from_another_thread_style_queue(timeline: Timeline) -> None:
    rig = Rig()
    seen: list[State] = []
    toggles: Callable[[], None] = lambda: rig.controls.put(Command.TOGGLE)  # noqa: E731
    rig.clock.at(1.0, toggles)
    rig.clock.at(2.0, toggles)
    result = play(timeline, rig.output, rig.clock, rig.controls, lambda snap: seen.append(snap.state))
    assert State.PAUSED in seen
    assert seen[-1] is State.FINISHED
    assert not result.stopped_early
    assert result.frames >= timeline.length + RATE - 2 * BLOCK


LISTEN_BODY = '[[step]]\nsay = "Hello."\n[[step]]\nlisten = "How are you, right now?"\n[[step]]\nsay = "Goodbye."\n'


def test_listen_gate_holds_until_released() -> None:
    tl = compile_session(session_of(LISTEN_BODY), FakeSpeaker(), RATE, listening=True)
    (gate,) = tl.gates
    rig = Rig()
    held: list[int] = []

    def on_hold(step: int, over: threading.Event) -> None:
        held.append(step)
        rig.press(rig.clock.now + 5.0, Command.RELEASE)

    result = play(tl, rig.output, rig.clock, rig.controls, on_hold=on_hold)
    assert held == [2]
    (window,) = [e for e in result.events if e.kind == "listen"]
    assert window.step == 2
    assert window.start == gate  # nothing paused before it: stream and timeline agree
    hold = window.end - window.start
    assert abs(hold - 5.0 * RATE) <= TICK_SECONDS * RATE + BLOCK
    goodbye = [e for e in result.events if e.text == "Goodbye."]
    original = [e for e in tl.events if e.text == "Goodbye."]
    assert [e.start for e in goodbye] == [e.start + hold for e in original]
    assert not rig.output.audio()[gate:gate + hold].any()
    assert not result.stopped_early


def test_gates_release_at_once_without_a_listener() -> None:
    tl = compile_session(session_of(LISTEN_BODY), FakeSpeaker(), RATE, listening=True)
    clock = FakeClock()
    result = play(tl, FakeOutput(clock, blocksize=BLOCK, record=False), clock)
    assert not result.stopped_early
    assert result.frames <= tl.length + 3 * TICK_SECONDS * RATE + 2 * BLOCK


def test_slower_re_paces_the_rest_without_a_seam() -> None:
    """'slower' during the breathing: the stream is bit-identical to the old render up to the next breath
    cycle and to the slower render from there on; later phases last 1.2 times as long."""
    from voiceguide.engine.compile import DEFAULT_RATE
    from voiceguide.playback.slowing import Slower

    body = ('[[step]]\nsay = "Settle in."\n'
            '[[step]]\nbreathe = { inhale = 2, exhale = 3 }\ncycles = 4\ncue = "tone"\n'
            '[[step]]\nsay = "Well done."\n')
    session = session_of(body)
    old = compile_session(session, FakeSpeaker(), RATE)
    said: list[str] = []
    slower = Slower(session, lambda s: compile_session(s, FakeSpeaker(), RATE), DEFAULT_RATE, say=said.append,
                    run_in=lambda work: work())
    rig = Rig()
    breathing = old.step_starts[1] / RATE
    rig.press(breathing + 1.0, Command.SLOWER)  # in the first cycle: the change comes at a later cycle's start
    result = play(old, rig.output, rig.clock, rig.controls, on_slower=slower.request)
    new = result.timeline
    assert said == ["Slowing down from the next breath."] and slower.times == 1
    phases = [e for e in new.events if e.kind == "phase"]
    old_phases = [e for e in old.events if e.kind == "phase"]
    change = next(p.start for p, q in zip(phases, old_phases, strict=True) if p.end != q.end)
    assert change > rig.marks[Command.SLOWER] + 1.5 * RATE - BLOCK  # at least the lead ahead
    lengths = [round((p.end - p.start) / RATE, 3) for p in phases]
    assert lengths == [2.0, 3.0] + [2.4, 3.6] * 3  # the second cycle on is slower
    assert change == old_phases[2].start
    assert new.length > old.length + 0.2 * (2 + 3) * RATE  # the slowed cycles and the last line
    audio = rig.output.audio()
    np.testing.assert_array_equal(audio[:change], Mixer(old).render()[:change])
    np.testing.assert_array_equal(audio[:new.length], Mixer(new).render())
    assert not result.stopped_early and result.frames >= new.length
