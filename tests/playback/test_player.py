"""The live player driven block by block: fades without clicks, exact resume and skip, prompt stop."""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Iterable

import numpy as np
import pytest

from tests.helpers import max_jump, one_clip_timeline, position_ramp
from voiceguide.engine.mix import Mixer
from voiceguide.engine.timeline import Event, Segment, Timeline
from voiceguide.playback.control import Command, State
from voiceguide.playback.player import FADE_SECONDS, MAX_BLOCK, STOP_FADE_SECONDS, YIELD_FADE_SECONDS, Player
from voiceguide.seams import Samples

RATE = 8000
LENGTH = 10 * RATE
STEPS = (0, 30000, 60000)
FADE = int(FADE_SECONDS * RATE)
STOP_FADE = int(STOP_FADE_SECONDS * RATE)
CLICK = 0.01
"""Largest sample-to-sample step allowed: the ramp moves 1e-5 per sample, a fade 0.0025, a cut 0.05 or more."""


def ramp_clip() -> Samples:
    clip = position_ramp(LENGTH)
    clip[-800:] *= np.linspace(1.0, 0.0, 800, dtype=np.float32)  # the session itself ends quietly
    return clip


@pytest.fixture
def timeline() -> Timeline:
    return one_clip_timeline(ramp_clip(), STEPS, RATE)


@pytest.fixture
def clip(timeline: Timeline) -> Samples:
    return timeline.clips[0]


def pull(player: Player, frames: int, block: int = 500) -> Samples:
    """Call ``fill`` like an output would, ``block`` frames at a time, and return what was played."""
    out: list[Samples] = []
    buffer = np.empty(block, dtype=np.float32)
    done = 0
    while done < frames:
        n = min(block, frames - done)
        player.fill(buffer[:n])
        out.append(buffer[:n].copy())
        done += n
    return np.concatenate(out)


def first_silent_index(audio: Samples) -> int:
    """Index from which ``audio`` is all zeros."""
    nonzero = np.flatnonzero(audio)
    return int(nonzero[-1]) + 1 if len(nonzero) else 0


@pytest.mark.parametrize("block", [64, 333, 4096, 50_000])
def test_plays_exactly_the_render_then_silence(timeline: Timeline, block: int) -> None:
    player = Player(timeline)
    out = pull(player, LENGTH + 3000, block)
    np.testing.assert_array_equal(out[:LENGTH], Mixer(timeline).render())
    assert not out[LENGTH:].any()
    assert player.done.is_set()
    assert player.state is State.FINISHED
    assert player.position == LENGTH
    assert player.stream_frames == LENGTH + 3000
    assert player.segments == [Segment(0, 0, LENGTH)]
    assert not player.stopped_early


def test_pause_fades_out_without_a_click_and_freezes(timeline: Timeline, clip: Samples) -> None:
    player = Player(timeline)
    before = pull(player, 10000)
    player.controls.put(Command.PAUSE)
    fading = pull(player, 2000)
    assert player.state is State.PAUSED
    assert player.position == 10000 + FADE
    assert np.all(fading[:FADE // 2] > 0.0)
    assert np.all(fading[:FADE] <= clip[10000:10000 + FADE])
    assert np.all(np.diff(fading[:FADE]) < 0)  # gain falls steadily, faster than the ramp rises
    assert not fading[FADE:].any()
    assert max_jump(np.concatenate([before, fading])) < CLICK
    frozen = pull(player, 20000)
    assert not frozen.any()
    assert player.position == 10000 + FADE
    assert player.snapshot().position == 10000 + FADE
    assert player.snapshot().state is State.PAUSED
    assert player.stream_frames == 32000
    assert player.segments == [Segment(0, 0, 10000 + FADE)]
    assert not player.done.is_set()


def test_resume_continues_where_it_paused(timeline: Timeline, clip: Samples) -> None:
    player = Player(timeline)
    pull(player, 10000)
    player.controls.put(Command.PAUSE)
    pull(player, 6000)
    paused_at = player.position
    player.controls.put(Command.RESUME)
    resumed = pull(player, 5000)
    assert player.state is State.PLAYING
    assert resumed[0] < CLICK  # fades in from silence
    assert np.all(resumed[:FADE] <= clip[paused_at:paused_at + FADE])
    assert np.all(np.diff(resumed[:FADE]) > 0)
    np.testing.assert_array_equal(resumed[FADE:], clip[paused_at + FADE:paused_at + 5000])
    assert max_jump(resumed) < CLICK
    assert player.position == paused_at + 5000
    rest = pull(player, LENGTH)
    assert player.done.is_set() and not player.stopped_early
    assert not rest[LENGTH - paused_at - 5000:].any()
    assert player.segments == [Segment(0, 0, paused_at), Segment(16000, paused_at, LENGTH)]


def test_skip_jumps_to_the_next_step_start(timeline: Timeline, clip: Samples) -> None:
    player = Player(timeline)
    before = pull(player, 10000)
    player.controls.put(Command.SKIP)
    out = pull(player, 3000)
    assert np.all(out[:FADE] <= clip[10000:10000 + FADE])  # fading out where it was
    assert np.all(out[FADE:2 * FADE] <= clip[STEPS[1]:STEPS[1] + FADE])  # fading in at step 2
    np.testing.assert_array_equal(out[2 * FADE:], clip[STEPS[1] + FADE:STEPS[1] + 3000 - FADE])
    assert max_jump(np.concatenate([before, out])) < CLICK
    assert player.position == STEPS[1] + 3000 - FADE
    assert player.segments == [Segment(0, 0, 10000 + FADE)]
    pull(player, LENGTH)
    assert player.segments == [Segment(0, 0, 10000 + FADE), Segment(10000 + FADE, STEPS[1], LENGTH)]
    assert not player.stopped_early


def test_skip_in_the_last_step_ends_the_session(timeline: Timeline) -> None:
    player = Player(timeline)
    pull(player, 65000)
    player.controls.put(Command.SKIP)
    out = pull(player, 2000)
    assert player.done.is_set()
    assert player.state is State.FINISHED
    assert player.position == LENGTH
    assert not out[FADE:].any()
    assert not player.stopped_early


def test_skip_while_paused_moves_at_once_and_stays_paused(timeline: Timeline, clip: Samples) -> None:
    player = Player(timeline)
    pull(player, 10000)
    player.controls.put(Command.PAUSE)
    pull(player, 1000)
    player.controls.put(Command.SKIP)
    assert not pull(player, 500).any()
    assert player.state is State.PAUSED
    assert player.position == STEPS[1]
    player.controls.put(Command.SKIP)
    pull(player, 500)
    assert player.position == STEPS[2]
    player.controls.put(Command.RESUME)
    out = pull(player, 2000)
    np.testing.assert_array_equal(out[FADE:], clip[STEPS[2] + FADE:STEPS[2] + 2000])


def test_stop_fades_to_silence_within_half_a_second(timeline: Timeline, clip: Samples) -> None:
    player = Player(timeline)
    before = pull(player, 10000)
    player.controls.put(Command.STOP)
    out = pull(player, RATE, block=512)  # the command's block starts at out[0]
    silent_from = first_silent_index(out)
    assert 0.25 * RATE < silent_from <= 0.5 * RATE  # a fade, not a cut, and done in time
    assert STOP_FADE - 1 <= silent_from <= STOP_FADE  # the ramp's last sample has gain 0
    assert max_jump(np.concatenate([before, out])) < CLICK
    assert player.done.is_set()
    assert player.stopped_early
    assert player.state is State.FINISHED
    assert player.segments == [Segment(0, 0, 10000 + STOP_FADE)]
    assert not pull(player, 5000).any()


def test_stop_while_paused_finishes_at_once(timeline: Timeline) -> None:
    player = Player(timeline)
    pull(player, 10000)
    player.controls.put(Command.PAUSE)
    pull(player, 3000)
    player.controls.put(Command.STOP)
    out = pull(player, 256, block=256)
    assert player.done.is_set()
    assert player.stopped_early
    assert player.state is State.FINISHED
    assert not out.any()
    assert player.segments == [Segment(0, 0, 10000 + FADE)]


def test_stop_while_pausing_uses_the_remaining_gain(timeline: Timeline) -> None:
    player = Player(timeline)
    pull(player, 10000)
    player.controls.put(Command.PAUSE)
    pull(player, FADE // 2, block=FADE // 2)
    player.controls.put(Command.STOP)
    out = pull(player, RATE)
    assert player.done.is_set() and player.stopped_early
    assert first_silent_index(out) <= STOP_FADE // 2 + 1
    assert max_jump(out) < CLICK


def test_toggle_pauses_then_resumes(timeline: Timeline) -> None:
    player = Player(timeline)
    pull(player, 1000)
    player.controls.put(Command.TOGGLE)
    pull(player, 1000)
    assert player.snapshot().state is State.PAUSED
    player.controls.put(Command.TOGGLE)
    pull(player, 1000)
    assert player.snapshot().state is State.PLAYING
    assert player.position == 1000 + FADE + 1000


def test_resume_during_the_pause_fade_keeps_one_segment(timeline: Timeline) -> None:
    player = Player(timeline)
    pull(player, 5000)
    player.controls.put(Command.PAUSE)
    pull(player, FADE // 2, block=FADE // 2)
    player.controls.put(Command.RESUME)
    out = pull(player, 3000)
    assert out.all()  # never went silent
    assert max_jump(out) < CLICK
    assert player.state is State.PLAYING
    pull(player, LENGTH)
    assert player.segments == [Segment(0, 0, LENGTH)]


def test_commands_after_the_end_are_ignored(timeline: Timeline) -> None:
    player = Player(timeline)
    pull(player, LENGTH + 10, block=8192)
    for cmd in Command:
        player.controls.put(cmd)
    assert not pull(player, 3000).any()
    assert player.state is State.FINISHED
    assert not player.stopped_early
    assert player.segments == [Segment(0, 0, LENGTH)]


def play_schedule(timeline: Timeline, blocks: Iterable[int], commands: dict[int, Command],
                  total: int) -> tuple[Player, Samples]:
    """Fill ``total`` frames in the given block sizes (repeated), putting each command when the stream reaches
    its frame."""
    player = Player(timeline)
    blocks = list(blocks)
    buffer = np.empty(max(blocks), dtype=np.float32)
    played: list[Samples] = []
    frame = 0
    sizes = itertools.cycle(blocks)
    while frame < total:
        if frame in commands:
            player.controls.put(commands[frame])
        nxt = min([f for f in commands if f > frame] + [total])
        n = min(next(sizes), nxt - frame)
        player.fill(buffer[:n])
        played.append(buffer[:n].copy())
        frame += n
    return player, np.concatenate(played)


def test_output_does_not_depend_on_block_size(timeline: Timeline) -> None:
    commands = {5000: Command.PAUSE, 9000: Command.RESUME, 20000: Command.SKIP, 40000: Command.TOGGLE,
                41000: Command.SKIP, 42000: Command.TOGGLE, 46000: Command.PAUSE, 52000: Command.RESUME,
                60000: Command.STOP}
    total = 70000
    rng = np.random.default_rng(3)
    steady, expected = play_schedule(timeline, [1000], commands, total)
    ragged = play_schedule(timeline, [int(x) for x in rng.integers(1, 700, size=997)], commands, total)
    huge = play_schedule(timeline, [total], commands, total)
    for other, audio in (ragged, huge):
        np.testing.assert_allclose(audio, expected, atol=1e-5)
        assert other.segments == steady.segments
        assert other.position == steady.position
        assert other.stopped_early and other.done.is_set()
    assert steady.segments == [Segment(0, 0, 5000 + FADE), Segment(9000, 5000 + FADE, 16400 + FADE),
                               Segment(20000 + FADE, 30000, 49600 + FADE), Segment(42000, 60000, 64000 + FADE),
                               Segment(52000, 64000 + FADE, 72000 + FADE + STOP_FADE)]


def test_fade_longer_than_max_block_is_smooth() -> None:
    tl = one_clip_timeline(np.full(200_000, 0.5, dtype=np.float32), (0,), RATE)
    player = Player(tl, stop_fade=10.0)
    pull(player, 1000)
    player.controls.put(Command.STOP)
    out = pull(player, 100_000, block=100_000)
    assert 10 * RATE > MAX_BLOCK
    assert np.all(np.diff(out[:10 * RATE - 1]) < 0)
    assert max_jump(out) < 1e-4
    assert 10 * RATE - 1 <= first_silent_index(out) <= 10 * RATE


def test_fill_does_not_grow_memory(timeline: Timeline) -> None:
    clip = (0.3 * np.sin(np.arange(4000) * 0.05)).astype(np.float32)
    events = tuple(Event("speech", i * 4000, (i + 1) * 4000, 1 + i // 100, 0) for i in range(3500))
    long = Timeline(RATE, events, (clip,), tuple(range(0, 3500 * 4000, 400_000)), 3500 * 4000)
    player = Player(long)
    block = np.zeros(4096, dtype=np.float32)
    for _ in range(50):
        player.fill(block)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for i in range(3000):
            if i == 1000:
                player.controls.put(Command.PAUSE)
            if i == 1100:
                player.controls.put(Command.RESUME)
            player.fill(block)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert player.state is State.PLAYING
    assert player.position > 2800 * 4096
    assert current - base < 16 * 1024
    assert peak - base < block.nbytes  # no block-sized temporary per call


# --- gates (listen windows) and repeat ---------------------------------------------------------------

GATE = 20000


def gated_timeline() -> Timeline:
    tl = one_clip_timeline(ramp_clip(), STEPS, RATE)
    return Timeline(tl.sample_rate, tl.events, tl.clips, tl.step_starts, tl.length, tl.title, (GATE,))


def test_gate_fades_to_silence_exactly_at_the_gate_and_holds() -> None:
    tl = gated_timeline()
    clip = tl.clips[0]
    player = Player(tl)
    out = pull(player, GATE + 5000, block=777)
    assert player.snapshot().state is State.HOLDING
    assert player.position == GATE
    assert player.wake.is_set()
    np.testing.assert_array_equal(out[:GATE - FADE], clip[:GATE - FADE])
    assert np.all(np.diff(out[GATE - FADE:GATE]) < 0)  # fading into the gate
    assert first_silent_index(out) <= GATE
    assert out[GATE - FADE // 2] > 0.1
    assert max_jump(out) < CLICK
    player.controls.put(Command.RESUME)  # ignored while listening
    assert not pull(player, 3000).any()
    assert player.position == GATE
    player.controls.put(Command.RELEASE)
    after = pull(player, 3000)
    np.testing.assert_array_equal(after[FADE:], clip[GATE + FADE:GATE + 3000])
    assert max_jump(after) < CLICK
    assert [(h.gate, h.stream_start, h.stream_end) for h in player.holds] == [(GATE, GATE, GATE + 8000)]
    pull(player, LENGTH)
    assert player.segments == [Segment(0, 0, GATE), Segment(GATE + 8000, GATE, LENGTH)]
    assert not player.stopped_early


def test_stop_while_holding_finishes_at_once() -> None:
    player = Player(gated_timeline())
    pull(player, GATE + 1000)
    player.controls.put(Command.STOP)
    out = pull(player, 256, block=256)
    assert player.done.is_set() and player.stopped_early
    assert not out.any()
    assert [(h.gate, h.stream_start) for h in player.holds] == [(GATE, GATE)]


def test_skip_while_holding_goes_to_the_next_step() -> None:
    tl = gated_timeline()
    player = Player(tl)
    pull(player, GATE + 1000)
    player.controls.put(Command.SKIP)
    out = pull(player, 3000)
    assert out[0] == 0.0  # leaves the gate in silence (a one-sample fade at gain 0)
    assert player.position == STEPS[1] + 3000 - 1
    np.testing.assert_array_equal(out[1 + FADE:], tl.clips[0][STEPS[1] + FADE:STEPS[1] + 3000 - 1])
    assert max_jump(out) < CLICK


@pytest.mark.parametrize("command", [Command.PAUSE, Command.TOGGLE])
def test_pause_while_holding_ends_the_hold_and_resume_asks_again(command: Command) -> None:
    tl = gated_timeline()
    clip = tl.clips[0]
    player = Player(tl)
    pull(player, GATE + 1000)
    over = player.hold_over
    player.wake.clear()
    player.controls.put(command)
    assert not pull(player, 2000).any()
    assert over.is_set()  # the listener stops at once and keeps nothing
    assert player.wake.is_set()
    assert player.state is State.PAUSED
    assert player.position == STEPS[0]  # the question's step starts again on resume
    assert [(h.gate, h.stream_start, h.stream_end) for h in player.holds] == [(GATE, GATE, GATE + 1000)]
    player.controls.put(Command.RESUME)
    out = pull(player, 3000)
    np.testing.assert_array_equal(out[FADE:], clip[FADE:3000])
    assert player.state is State.PLAYING
    pull(player, GATE)  # the window opens again: a new hold with a new "over"
    assert player.state is State.HOLDING and player.position == GATE
    assert player.hold_over is not over and not player.hold_over.is_set()


def test_pause_while_fading_into_a_gate_pauses_without_opening_it() -> None:
    player = Player(gated_timeline())
    pull(player, GATE - FADE // 2)
    assert player.state is State.GATING
    player.controls.put(Command.PAUSE)
    out = pull(player, 2000)
    assert player.state is State.PAUSED and player.position == STEPS[0]
    assert not out[FADE:].any() and max_jump(out) < CLICK
    assert not player.holds  # the window never opened: nobody listened
    player.controls.put(Command.RESUME)
    pull(player, GATE + 1000)
    assert player.state is State.HOLDING and player.position == GATE


def test_nothing_heard_goes_on_at_the_next_step_past_the_thanks() -> None:
    tl = gated_timeline()
    clip = tl.clips[0]
    player = Player(tl)
    pull(player, GATE + 1000)
    player.controls.put(Command.NOTHING_HEARD)
    out = pull(player, 3000)
    assert player.hold_over.is_set() and player.state is State.PLAYING
    np.testing.assert_array_equal(out[FADE:], clip[STEPS[1] + FADE:STEPS[1] + 3000])  # from the next step
    assert max_jump(out) < CLICK
    assert [(h.gate, h.stream_start) for h in player.holds] == [(GATE, GATE)]


def test_repeat_goes_back_to_the_start_of_the_step(timeline: Timeline, clip: Samples) -> None:
    player = Player(timeline)
    pull(player, STEPS[1] + 5000)
    player.controls.put(Command.REPEAT)
    out = pull(player, 3000)
    assert player.position == STEPS[1] + 3000 - FADE
    np.testing.assert_array_equal(out[2 * FADE:], clip[STEPS[1] + FADE:STEPS[1] + 3000 - FADE])
    assert max_jump(out) < CLICK


def test_a_gate_is_reached_exactly_even_during_a_resume_fade() -> None:
    from voiceguide.backends.fake import FakeSpeaker
    from voiceguide.engine.compile import compile_session
    from voiceguide.playback.control import Command, State
    from voiceguide.playback.player import Player
    from voiceguide.script import parse

    session = parse.loads('[session]\ntitle = "g"\n[[step]]\nsay = "Hi."\n[[step]]\nlisten = "Yes?"\n')
    timeline = compile_session(session, FakeSpeaker(), 8000, listening=True)
    (gate,) = timeline.gates
    player = Player(timeline, fade=0.05)  # 400-sample fades at 8 kHz
    block = np.zeros(40, dtype=np.float32)
    while player.position < gate - 1100:
        player.fill(block)
    player.controls.put(Command.PAUSE)  # paused about 700 samples before the gate
    while player.state is not State.PAUSED:
        player.fill(block)
    player.controls.put(Command.RESUME)  # its fade-in is still running when the gate's fade must begin
    states = []
    while player.state is not State.HOLDING:
        player.fill(block)
        states.append(player.state)
    assert State.RESUMING in states and states[states.index(State.GATING) - 1] is State.RESUMING
    assert player.position == gate  # the hold starts on the gate's sample, not before it


@pytest.mark.parametrize(("command", "state"), [(Command.STOP, State.FINISHED), (Command.PAUSE, State.PAUSED)])
def test_stop_and_pause_take_effect_while_waiting_for_the_compiler(timeline: Timeline, command: Command,
                                                                  state: State) -> None:
    """At the end of a timeline still being compiled the player waits in silence; a stop (or pause) then
    has nothing left to fade and must still end it, not wait for the compiler forever."""
    player = Player(timeline, final=False)
    out = np.zeros(timeline.length + 512, dtype=np.float32)
    player.fill(out)
    assert player.starved > 0 and not player.done.is_set()
    player.controls.put(command)
    player.fill(np.zeros(256, dtype=np.float32))
    assert player.state is state
    assert player.done.is_set() is (command is Command.STOP)


# --- yielding to the person during the acknowledgement (issue 17, item 2) ---------------------------------

YIELD_FADE = int(YIELD_FADE_SECONDS * RATE)


def test_yield_during_the_thanks_fades_and_holds_at_the_same_window_again() -> None:
    tl = gated_timeline()
    clip = tl.clips[0]
    player = Player(tl)
    pull(player, GATE + 1000)
    first = player.hold_over
    player.controls.put(Command.RELEASE)
    pull(player, 2000)  # the thanks is being said
    player.wake.clear()
    player.controls.put(Command.YIELD)
    out = pull(player, YIELD_FADE + 1000)
    fade = out[:YIELD_FADE]
    assert fade[0] > 0.1 and np.all(np.diff(fade) < 0)  # a smooth fade from where it was, never a cut
    assert max_jump(out) < CLICK
    assert not out[YIELD_FADE:].any()
    assert player.state is State.HOLDING and player.position == GATE  # the same window, open again
    assert player.wake.is_set() and first.is_set() and player.hold_over is not first
    assert not player.hold_over.is_set()
    player.controls.put(Command.RELEASE)  # the person is done: the thanks from its start
    after = pull(player, 3000)
    np.testing.assert_array_equal(after[FADE:], clip[GATE + FADE:GATE + 3000])
    assert [h.gate for h in player.holds] == [GATE, GATE]


def test_yield_outside_the_thanks_does_nothing() -> None:
    tl = gated_timeline()
    player = Player(tl)
    pull(player, 5000)  # before any window
    player.controls.put(Command.YIELD)
    pull(player, 1000)
    assert player.state is State.PLAYING and player.position == 6000
    pull(player, GATE - 6000 + 1000)
    player.controls.put(Command.YIELD)  # while holding: the listener is already listening
    pull(player, 1000)
    assert player.state is State.HOLDING
    player.controls.put(Command.RELEASE)
    pull(player, STEPS[1] - GATE + 500)  # the next line has begun: the answer is over
    player.controls.put(Command.YIELD)
    pull(player, 1000)
    assert player.state is State.PLAYING and player.position > STEPS[1]


def test_skip_during_the_yield_fade_goes_to_the_next_step() -> None:
    tl = gated_timeline()
    player = Player(tl)
    pull(player, GATE + 1000)
    player.controls.put(Command.RELEASE)
    pull(player, 2000)
    player.controls.put(Command.YIELD)
    pull(player, YIELD_FADE // 2)
    player.controls.put(Command.SKIP)
    pull(player, 2000)
    assert player.state is State.PLAYING and player.position > STEPS[1]


def test_the_thanks_is_over_when_the_next_line_begins_and_not_before() -> None:
    player = Player(gated_timeline())
    pull(player, GATE + 1000)
    player.controls.put(Command.RELEASE)
    pull(player, STEPS[1] - GATE - 500)
    assert not player.thanks_over.is_set()
    pull(player, 1000)
    assert player.thanks_over.is_set()


@pytest.mark.parametrize("command", [Command.SKIP, Command.PAUSE, Command.STOP, Command.NOTHING_HEARD])
def test_the_thanks_is_over_at_once_when_left(command: Command) -> None:
    player = Player(gated_timeline())
    pull(player, GATE + 1000)
    if command is not Command.NOTHING_HEARD:
        player.controls.put(Command.RELEASE)
        pull(player, 1000)
    player.controls.put(command)
    pull(player, 1)
    assert player.thanks_over.is_set()
