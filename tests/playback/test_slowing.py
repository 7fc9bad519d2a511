"""The "slower" voice command: slowed breath cycles, the pure session change, an identical compiled prefix,
where the change begins, and the seamless swap into a playing session."""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import HEADER, session_of
from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.engine.compile import DEFAULT_RATE, compile_session
from voiceguide.engine.mix import Mixer
from voiceguide.engine.timeline import Event, Timeline
from voiceguide.playback.control import Command
from voiceguide.playback.loop import play
from voiceguide.playback.player import Player
from voiceguide.playback.slowing import MARGIN_SECONDS, TRIES, Slower, change_point, first_difference
from voiceguide.script.adjust import SLOWEST_RATE, slowed
from voiceguide.script.model import (
    Action,
    Affirm,
    Breathe,
    BreathPattern,
    Chime,
    Listen,
    Pause,
    Phase,
    PhaseKind,
    Progression,
    Say,
    Session,
    Sleep,
    Step,
)

RATE = 8000
FACTOR = 1.2

AMBIENT_HEADER = HEADER + 'ambient = "pink"\n'

BODY = ('[[step]]\nsay = "Welcome to this practice."\n'
        '[[step]]\nbreathe = { inhale = 3, hold = 1, exhale = 4 }\ncycles = 5\ncue = "both"\n'
        '[[step]]\nsay = "Notice how you feel."\n'
        '[[step]]\nchime = "bell"\n'
        '[[step]]\nsay = "Thank you."\n')
"""Say, five 8-second breaths with words and tones, say, chime, say."""

CYCLE = 8 * RATE
"""Samples in one breath of ``BODY``."""

SLOWING_NEXT_BREATH = "Slowing down from the next breath."
SLOWING_NEXT_PART = "Slowing down from the next part."
AS_SLOW_AS_IT_GOES = "This is as slow as it goes."
NOTHING_LEFT = "Nothing is left to slow down."
COULD_NOT_IN_TIME = "Could not slow down in time; the session goes on as it was."


# --- helpers -------------------------------------------------------------------------------------------------


def pattern(*phases: tuple[PhaseKind, float]) -> BreathPattern:
    """An inline breathing pattern."""
    return BreathPattern("custom", tuple(Phase(kind, seconds) for kind, seconds in phases))


def session(*actions: Action, rate: int | None = None, speech_gap: float = 0.6) -> Session:
    """A session of ``actions`` numbered from 1."""
    steps = tuple(Step(i, a) for i, a in enumerate(actions, 1))
    return Session(id="t", title="T", steps=steps, rate=rate, speech_gap=speech_gap)


def build(s: Session) -> Timeline:
    """Compile exactly as the playing session was compiled."""
    return compile_session(s, FakeSpeaker(), RATE)


def body_session(header: str = HEADER) -> Session:
    return session_of(BODY, header)


def phases_of(tl: Timeline, step: int) -> list[Event]:
    """The breath phase markers of ``step``, in order."""
    return [e for e in tl.events if e.kind == "phase" and e.step == step]


def before(tl: Timeline, at: int) -> list[Event]:
    """The events that start before sample ``at``."""
    return [e for e in tl.events if e.start < at]


def player_at(tl: Timeline, position: int) -> Player:
    """A player over ``tl`` that has played ``position`` samples."""
    player = Player(tl)
    if position:
        player.fill(np.zeros(position, np.float32))
    assert player.position == position
    return player


def same(a: Timeline, b: Timeline) -> bool:
    """Whether two timelines are equal, audio included."""
    fields = ("sample_rate", "events", "step_starts", "length", "title", "gates")
    return (all(getattr(a, f) == getattr(b, f) for f in fields) and len(a.clips) == len(b.clips)
            and all(np.array_equal(x, y) for x, y in zip(a.clips, b.clips, strict=True)))


def sync(work: Callable[[], None]) -> None:
    work()


class RecordingPlayer(Player):
    """A player that remembers, for each swap, its position and where the new timeline first differs."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__(timeline)
        self.swaps: list[tuple[int, int]] = []

    def extend(self, timeline: Timeline, final: bool) -> None:
        self.swaps.append((self.position, first_difference(self.timeline, timeline)))
        super().extend(timeline, final)


# --- 1. Breathe.cycle with slow ----------------------------------------------------------------------------


def test_cycles_before_the_first_slowed_cycle_are_unchanged_and_later_ones_scaled() -> None:
    base = pattern(("inhale", 4.0), ("hold", 2.0), ("exhale", 6.0))
    b = Breathe(base, cycles=5, slow=((2, 1.5),))
    for n in (0, 1):
        assert b.cycle(n) == base.phases
    for n in (2, 3, 4):
        assert [p.kind for p in b.cycle(n)] == ["inhale", "hold", "exhale"]
        assert [p.seconds for p in b.cycle(n)] == pytest.approx([6.0, 3.0, 9.0])


def test_two_slow_entries_compound_from_their_own_first_cycles() -> None:
    base = pattern(("inhale", 4.0), ("exhale", 6.0))
    b = Breathe(base, cycles=6, slow=((1, 1.2), (3, 1.5)))
    assert [p.seconds for p in b.cycle(0)] == pytest.approx([4.0, 6.0])
    assert [p.seconds for p in b.cycle(2)] == pytest.approx([4.8, 7.2])
    assert [p.seconds for p in b.cycle(3)] == pytest.approx([4.0 * 1.8, 6.0 * 1.8])
    assert [p.seconds for p in b.cycle(5)] == pytest.approx([4.0 * 1.8, 6.0 * 1.8])
    # the same first cycle twice (two "slower" in the same breath) compounds too
    twice = Breathe(base, cycles=3, slow=((1, 1.2), (1, 1.2)))
    assert [p.seconds for p in twice.cycle(1)] == pytest.approx([4.0 * 1.44, 6.0 * 1.44])


def test_slowing_scales_the_progressed_pattern() -> None:
    base = pattern(("inhale", 4.0), ("exhale", 4.0))
    prog = Progression("exhale", by=1.0, every=2, limit=7.0)
    b = Breathe(base, cycles=10, progress=prog, slow=((4, 2.0),))
    plain = Breathe(base, cycles=10, progress=prog)
    exhales = [b.cycle(n)[1].seconds for n in range(10)]
    # the progression: 4, 4, 5, 5, 6, 6, 7, 7, 7, 7; doubled from cycle 4, after the limit is applied
    assert exhales == pytest.approx([4, 4, 5, 5, 12, 12, 14, 14, 14, 14])
    assert [b.cycle(n)[0].seconds for n in range(10)] == pytest.approx([4.0] * 4 + [8.0] * 6)
    for n in range(4):
        assert b.cycle(n) == plain.cycle(n)


def test_seconds_sums_the_slowed_cycles() -> None:
    base = pattern(("inhale", 4.0), ("hold", 1.0), ("exhale", 5.0))
    assert Breathe(base, cycles=4).seconds == pytest.approx(40.0)
    assert Breathe(base, cycles=4, slow=((2, 1.2),)).seconds == pytest.approx(20.0 + 2 * 12.0)
    assert Breathe(base, cycles=4, slow=((0, 1.2), (3, 1.5))).seconds == pytest.approx(3 * 12.0 + 18.0)
    prog = Progression("hold", by=1.0, every=1, limit=3.0)  # holds of 1, 2, 3, 3
    # doubled from cycle 2, except the hold: slowing never makes a short hold long (3 s stops at 5, not 6)
    assert Breathe(base, cycles=4, progress=prog, slow=((2, 2.0),)).seconds == pytest.approx(
        10.0 + 11.0 + 2 * (8.0 + 5.0 + 10.0))


# --- 2. adjust.slowed --------------------------------------------------------------------------------------


BOX = pattern(("inhale", 4.0), ("hold", 4.0), ("exhale", 4.0), ("hold", 4.0))


def test_slowed_leaves_earlier_steps_as_the_very_same_objects() -> None:
    s = session(Say("One."), Pause(3.0), Breathe(BOX, 4), Say("Two."), Pause(2.0))
    out = slowed(s, 3, 1, FACTOR, DEFAULT_RATE)
    assert out.steps[0] is s.steps[0]
    assert out.steps[1] is s.steps[1]
    assert all(a is not b for a, b in zip(out.steps[2:], s.steps[2:], strict=True))
    assert [st.index for st in out.steps] == [1, 2, 3, 4, 5]
    # pure: the session it was given is untouched
    assert s.steps[4].action == Pause(2.0)
    assert dataclasses.replace(out, steps=s.steps) == s


def test_slowed_say_rate_and_quiet_after() -> None:
    s = session(Say("Default gap."), Say("Own gap.", after=2.0), Say("Own rate.", rate=150), rate=120,
                speech_gap=0.5)
    out = [st.action for st in slowed(s, 1, 0, FACTOR, DEFAULT_RATE).steps]
    assert isinstance(out[0], Say) and isinstance(out[1], Say) and isinstance(out[2], Say)
    assert out[0].rate == 100  # the session's 120 / 1.2
    assert out[0].after == pytest.approx(0.5 * FACTOR)  # None became the session's gap, scaled
    assert out[1].rate == 100
    assert out[1].after == pytest.approx(2.4)
    assert out[2].rate == 125  # the line's own 150 is used before the session's 120
    assert out[2].text == "Own rate."


def test_slowed_say_uses_the_default_rate_when_none_is_set() -> None:
    s = session(Say("Hello."))
    (act,) = [st.action for st in slowed(s, 1, 0, FACTOR, 150).steps]
    assert isinstance(act, Say)
    assert act.rate == 125
    assert act.after == pytest.approx(0.6 * FACTOR)


def test_slowed_say_rate_stops_at_the_slowest_rate() -> None:
    s = session(Say("At the floor.", rate=SLOWEST_RATE), Say("Near it.", rate=100), Say("Far above.", rate=200))
    out = [st.action for st in slowed(s, 1, 0, FACTOR, DEFAULT_RATE).steps]
    assert [a.rate for a in out if isinstance(a, Say)] == [SLOWEST_RATE, SLOWEST_RATE, 167]
    # and slowing again keeps it there
    again = [st.action for st in slowed(slowed(s, 1, 0, FACTOR, DEFAULT_RATE), 1, 0, FACTOR, DEFAULT_RATE).steps]
    assert [a.rate for a in again if isinstance(a, Say)] == [SLOWEST_RATE, SLOWEST_RATE, 139]


def test_slowed_never_speeds_up_a_line_already_below_the_slowest_rate() -> None:
    s = session(Say("Very slow already.", rate=80))  # scripts may use rates from 60
    (act,) = [st.action for st in slowed(s, 1, 0, FACTOR, DEFAULT_RATE).steps]
    assert isinstance(act, Say) and act.rate is not None
    assert act.rate <= 80


def test_slowed_scales_pauses_and_affirmation_gaps() -> None:
    s = session(Pause(10.0), Affirm(3, gap=5.0, personal=False))
    out = [st.action for st in slowed(s, 1, 0, 1.5, DEFAULT_RATE).steps]
    assert out[0] == Pause(15.0)
    assert out[1] == Affirm(3, gap=7.5, personal=False)


def test_slowed_leaves_chimes_listening_and_sleep_alone() -> None:
    s = session(Chime("bell", Path("bell.wav")), Listen("How are you?"), Sleep(60.0), Pause(1.0))
    out = slowed(s, 1, 0, FACTOR, DEFAULT_RATE)
    for a, b in zip(out.steps[:3], s.steps[:3], strict=True):
        assert a is b
    assert out.steps[3].action == Pause(1.2)


def test_slowed_splits_the_breathing_step_at_the_cycle() -> None:
    first = Breathe(BOX, 6, slow=((1, 1.1),))
    s = session(first, Say("Between."), Breathe(BOX, 3), Breathe(BOX, 3))
    out = [st.action for st in slowed(s, 1, 3, FACTOR, DEFAULT_RATE).steps]
    assert isinstance(out[0], Breathe) and isinstance(out[2], Breathe) and isinstance(out[3], Breathe)
    assert out[0].slow == ((1, 1.1), (3, FACTOR))  # appended: earlier slowing kept
    assert out[2].slow == ((0, FACTOR),)  # later breathing steps: from their first cycle
    assert out[3].slow == ((0, FACTOR),)
    assert out[0].cycle(2) == first.cycle(2)
    assert out[0].cycle(3)[0].seconds == pytest.approx(4.0 * 1.1 * FACTOR)
    assert out[0].pattern is BOX and out[0].cycles == 6


# --- 3. the compiled prefix stays identical ----------------------------------------------------------------


def assert_same_before(old: Timeline, new: Timeline, change: int) -> None:
    """Every event starting before ``change`` is the same in both, down to its audio."""
    a, b = before(old, change), before(new, change)
    assert a, "the change should have something before it"
    assert a == b
    for e in a:
        if e.clip is not None:
            assert np.array_equal(old.clips[e.clip], new.clips[e.clip])
    assert [s for s in old.step_starts if s < change] == [s for s in new.step_starts if s < change]


def test_compiled_prefix_is_identical_before_a_slowed_breath() -> None:
    s = body_session()
    old = build(s)
    new = build(slowed(s, 2, 2, FACTOR, DEFAULT_RATE))
    old_phases, new_phases = phases_of(old, 2), phases_of(new, 2)
    per_cycle = 3
    cycle2 = old_phases[2 * per_cycle]
    assert cycle2.phase == "inhale"
    assert cycle2.start == old.step_starts[1] + 2 * CYCLE
    assert first_difference(old, new) == cycle2.start
    assert first_difference(new, old) == cycle2.start
    assert_same_before(old, new, cycle2.start)
    assert new_phases[:2 * per_cycle] == old_phases[:2 * per_cycle]
    for o, n in zip(old_phases[2 * per_cycle:], new_phases[2 * per_cycle:], strict=True):
        assert n.phase == o.phase
        assert abs((n.end - n.start) - FACTOR * (o.end - o.start)) <= 1
    later = (len(old_phases) - 2 * per_cycle) // per_cycle * (FACTOR - 1) * CYCLE  # three breaths, longer
    assert new.step_starts[2] - old.step_starts[2] == pytest.approx(later, abs=1)
    assert new.length - new.step_starts[2] > old.length - old.step_starts[2]  # what follows is slower too


def test_compiled_prefix_is_identical_before_the_next_part() -> None:
    s = body_session()
    old = build(s)
    new = build(slowed(s, 3, 0, FACTOR, DEFAULT_RATE))
    start = old.step_starts[2]
    assert first_difference(old, new) == start
    assert_same_before(old, new, start)
    (old_line,) = [e for e in old.events if e.step == 3]
    (new_line,) = [e for e in new.events if e.step == 3]
    assert old_line.start == new_line.start == start
    assert new_line.end - new_line.start > old_line.end - old_line.start  # spoken more slowly
    assert phases_of(new, 2) == phases_of(old, 2)


def test_a_breathing_step_slowed_from_its_start_differs_at_its_start() -> None:
    s = body_session()
    old = build(s)
    new = build(slowed(s, 2, 0, FACTOR, DEFAULT_RATE))
    assert first_difference(old, new) == old.step_starts[1]
    assert_same_before(old, new, old.step_starts[1])
    for o, n in zip(phases_of(old, 2), phases_of(new, 2), strict=True):
        assert abs((n.end - n.start) - FACTOR * (o.end - o.start)) <= 1


def test_first_difference_of_the_same_timeline_is_its_end() -> None:
    tl = build(body_session())
    assert first_difference(tl, build(body_session())) == tl.length


def marker_timeline(events: tuple[Event, ...], length: int) -> Timeline:
    return Timeline(RATE, events, (), (0,), length)


def test_first_difference_is_the_earlier_start_of_the_first_differing_events() -> None:
    bed = Event("ambient", 0, 500, 0, text="pink")
    a = marker_timeline((bed, Event("pause", 0, 100, 1), Event("pause", 100, 300, 2)), 300)
    b = marker_timeline((Event("pause", 0, 100, 1), Event("pause", 80, 400, 2)), 400)
    assert first_difference(a, b) == 80  # the ambient bed is left out of the comparison
    assert first_difference(b, a) == 80
    c = marker_timeline((Event("pause", 0, 100, 1), Event("pause", 100, 300, 2, text="other")), 300)
    assert first_difference(a, c) == 100
    longer = marker_timeline((Event("pause", 0, 100, 1), Event("pause", 100, 300, 2)), 900)
    assert first_difference(a, longer) == 300  # same events: the end of the shorter one
    assert first_difference(longer, a) == 300


# --- 4. change_point ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def body() -> tuple[Session, Timeline]:
    s = body_session()
    return s, build(s)


def cycle_starts(tl: Timeline, step: int, per_cycle: int = 3) -> list[int]:
    return [e.start for e in phases_of(tl, step)][::per_cycle]


def test_change_point_inside_a_breath_is_the_next_cycle(body: tuple[Session, Timeline]) -> None:
    s, tl = body
    starts = cycle_starts(tl, 2)
    assert len(starts) == 5
    assert change_point(s, tl, starts[0] + 1) == (2, 1)
    assert change_point(s, tl, starts[1] + CYCLE // 2) == (2, 2)
    assert change_point(s, tl, starts[3] - 1) == (2, 3)
    assert change_point(s, tl, starts[3]) == (2, 3)  # a cycle starting exactly there still counts
    assert change_point(s, tl, starts[3] + 1) == (2, 4)


def test_change_point_past_the_last_breath_is_the_next_step(body: tuple[Session, Timeline]) -> None:
    s, tl = body
    last = cycle_starts(tl, 2)[-1]
    assert change_point(s, tl, last + 1) == (3, 0)
    assert change_point(s, tl, tl.step_starts[2] - 1) == (3, 0)


def test_change_point_in_a_spoken_step_is_the_next_step(body: tuple[Session, Timeline]) -> None:
    s, tl = body
    assert change_point(s, tl, 0) == (2, 0)
    assert change_point(s, tl, tl.step_starts[1] - 1) == (2, 0)
    assert change_point(s, tl, tl.step_starts[2]) == (4, 0)
    assert change_point(s, tl, tl.step_starts[3] + 1) == (5, 0)


def test_change_point_in_the_last_step_is_none(body: tuple[Session, Timeline]) -> None:
    s, tl = body
    assert change_point(s, tl, tl.step_starts[4]) is None
    assert change_point(s, tl, tl.length - 1) is None
    assert change_point(s, tl, tl.length + 10 * RATE) is None


def test_change_point_in_the_last_breath_of_a_final_breathing_step_is_none() -> None:
    s = session_of('[[step]]\nsay = "Hi."\n[[step]]\nbreathe = { inhale = 2, exhale = 2 }\ncycles = 3\n')
    tl = build(s)
    starts = cycle_starts(tl, 2, per_cycle=2)
    assert change_point(s, tl, starts[1] + 1) == (2, 2)
    assert change_point(s, tl, starts[2] + 1) is None


# --- 5. Slower with a real player ----------------------------------------------------------------------------


def test_slower_swaps_in_a_longer_timeline_that_sounds_the_same_until_the_change() -> None:
    s = body_session(AMBIENT_HEADER)
    old = build(s)
    player = player_at(old, old.step_starts[1] + CYCLE + 2 * RATE)  # 2 s into the second breath
    said: list[str] = []
    slower = Slower(s, build, DEFAULT_RATE, say=said.append, run_in=sync)
    slower.request(player)
    new = player.timeline
    assert new is not old
    assert new.length > old.length
    change = first_difference(old, new)
    assert change == old.step_starts[1] + 2 * CYCLE  # the third breath: the next one 1.5 s ahead
    a, b = Mixer(old).render(), Mixer(new).render()
    assert np.array_equal(a[:change], b[:change])
    assert not np.array_equal(a[change:change + CYCLE], b[change:change + CYCLE])
    assert slower.times == 1
    assert said == [SLOWING_NEXT_BREATH]
    breathe = slower.session.steps[1].action
    assert isinstance(breathe, Breathe) and breathe.slow == ((2, FACTOR),)
    assert same(new, build(slower.session))


def test_slower_from_a_spoken_step_starts_at_the_next_part() -> None:
    s = body_session()
    old = build(s)
    player = player_at(old, 0)
    said: list[str] = []
    slower = Slower(s, build, DEFAULT_RATE, say=said.append, run_in=sync)
    slower.request(player)
    assert said == [SLOWING_NEXT_PART]
    assert first_difference(old, player.timeline) == old.step_starts[1]
    assert np.array_equal(Mixer(old).render()[:old.step_starts[1]],
                          Mixer(player.timeline).render()[:old.step_starts[1]])


def test_slower_waits_for_the_first_compile() -> None:
    s = body_session()
    old = build(s)
    order: list[str] = []

    def building(x: Session) -> Timeline:
        order.append("build")
        return build(x)

    slower = Slower(s, building, DEFAULT_RATE, ready=lambda: order.append("ready"), say=order.append, run_in=sync)
    slower.request(player_at(old, 0))
    assert order == ["ready", "build", SLOWING_NEXT_PART]


def test_slower_stops_after_most_times() -> None:
    s = body_session()
    old = build(s)
    player = player_at(old, old.step_starts[1] + CYCLE + 2 * RATE)
    said: list[str] = []
    built: list[Session] = []

    def building(x: Session) -> Timeline:
        built.append(x)
        return build(x)

    slower = Slower(s, building, DEFAULT_RATE, say=said.append, run_in=sync)
    for _ in range(5):
        slower.request(player)
    assert slower.times == 3
    assert len(built) == 3
    assert said == [SLOWING_NEXT_BREATH] * 3 + [AS_SLOW_AS_IT_GOES] * 2
    breathe = slower.session.steps[1].action
    assert isinstance(breathe, Breathe)
    assert breathe.slow == ((2, FACTOR),) * 3
    new_phases, old_phases = phases_of(player.timeline, 2), phases_of(old, 2)
    for o, n in zip(old_phases[6:], new_phases[6:], strict=True):
        assert abs((n.end - n.start) - FACTOR ** 3 * (o.end - o.start)) <= 1
    assert np.array_equal(Mixer(old).render()[:old_phases[6].start],
                          Mixer(player.timeline).render()[:old_phases[6].start])


def test_slower_honours_a_smaller_most_and_another_factor() -> None:
    s = body_session()
    old = build(s)
    player = player_at(old, 0)
    said: list[str] = []
    slower = Slower(s, build, DEFAULT_RATE, say=said.append, run_in=sync, factor=1.5, most=1)
    slower.request(player)
    slower.request(player)
    assert said == [SLOWING_NEXT_PART, AS_SLOW_AS_IT_GOES]
    for o, n in zip(phases_of(old, 2), phases_of(player.timeline, 2), strict=True):
        assert abs((n.end - n.start) - 1.5 * (o.end - o.start)) <= 1


def test_slower_near_the_end_says_nothing_is_left() -> None:
    s = body_session()
    old = build(s)
    player = player_at(old, old.step_starts[4] + 10)
    said: list[str] = []
    slower = Slower(s, build, DEFAULT_RATE, say=said.append, run_in=sync)
    slower.request(player)
    assert said == [NOTHING_LEFT]
    assert player.timeline is old
    assert slower.times == 0
    assert slower.session is s


def test_slower_within_the_lead_of_the_last_step_says_nothing_is_left() -> None:
    s = body_session()
    old = build(s)
    player = player_at(old, old.step_starts[4] - RATE)  # the last step begins in 1 s: less than the lead
    said: list[str] = []
    Slower(s, build, DEFAULT_RATE, say=said.append, run_in=sync).request(player)
    assert said == [NOTHING_LEFT]
    assert player.timeline is old


def test_a_failed_compile_leaves_the_session_playing_as_it_was() -> None:
    s = body_session()
    old = build(s)
    player = player_at(old, old.step_starts[1] + 10)
    said: list[str] = []

    def broken(x: Session) -> Timeline:
        raise RuntimeError("the voice went away")

    slower = Slower(s, broken, DEFAULT_RATE, say=said.append, run_in=sync)
    slower.request(player)
    assert len(said) == 1 and said[0].startswith("Could not slow down")
    assert said[0] != COULD_NOT_IN_TIME
    assert player.timeline is old
    assert slower.times == 0
    assert slower.session is s


def test_when_the_player_passes_the_change_it_tries_again_further_on() -> None:
    s = body_session()
    old = build(s)
    player = RecordingPlayer(old)
    player.fill(np.zeros(old.step_starts[1] + CYCLE + 2 * RATE, np.float32))
    said: list[str] = []
    built: list[Session] = []

    def slow_build(x: Session) -> Timeline:
        built.append(x)
        if len(built) == 1:  # the first compile takes a whole breath: the change point has gone by
            player.fill(np.zeros(CYCLE, np.float32))
        return build(x)

    slower = Slower(s, slow_build, DEFAULT_RATE, say=said.append, run_in=sync)
    slower.request(player)
    firsts: list[int] = []
    for x in built:
        b = x.steps[1].action
        assert isinstance(b, Breathe)
        firsts.append(b.slow[0][0])
    assert firsts == [2, 3]  # tried again a breath later
    assert said == [SLOWING_NEXT_BREATH]
    assert slower.times == 1
    (swap,) = player.swaps
    position, change = swap
    assert change == old.step_starts[1] + 3 * CYCLE
    assert position + int(MARGIN_SECONDS * RATE) < change
    assert np.array_equal(Mixer(old).render()[:change], Mixer(player.timeline).render()[:change])


def test_when_the_player_always_passes_the_change_it_gives_up_after_tries() -> None:
    s = body_session()
    old = build(s)
    player = RecordingPlayer(old)
    said: list[str] = []
    built: list[Session] = []

    def slow_build(x: Session) -> Timeline:
        built.append(x)
        player.fill(np.zeros(2 * CYCLE, np.float32))
        return build(x)

    slower = Slower(s, slow_build, DEFAULT_RATE, say=said.append, run_in=sync)
    slower.request(player)
    assert len(built) == TRIES
    assert said == [COULD_NOT_IN_TIME]
    assert player.swaps == []
    assert player.timeline is old
    assert slower.times == 0


def test_a_change_exactly_the_margin_ahead_is_not_swapped_in() -> None:
    s = body_session()
    old = build(s)
    player = RecordingPlayer(old)
    change = old.step_starts[1]
    said: list[str] = []

    def slow_build(x: Session) -> Timeline:
        if player.position < change:  # get to exactly the margin before the change point
            player.fill(np.zeros(change - int(MARGIN_SECONDS * RATE) - player.position, np.float32))
        return build(x)

    Slower(s, slow_build, DEFAULT_RATE, say=said.append, run_in=sync).request(player)
    # the first try (from step 2) is abandoned; the retry starts a breath further on
    (swap,) = player.swaps
    assert swap[1] > change
    assert swap[0] + int(MARGIN_SECONDS * RATE) < swap[1]
    assert said == [SLOWING_NEXT_BREATH]


def test_one_request_at_a_time_in_the_background() -> None:
    s = body_session()
    old = build(s)
    player = player_at(old, 0)
    said: list[str] = []
    go = threading.Event()

    def waiting_build(x: Session) -> Timeline:
        assert go.wait(5.0)
        return build(x)

    slower = Slower(s, waiting_build, DEFAULT_RATE, say=said.append)
    slower.request(player)
    slower.request(player)
    go.set()
    slower.join(5.0)
    assert said == ["Still slowing down from the last request.", SLOWING_NEXT_PART]
    assert slower.times == 1
    assert player.timeline is not old


def test_the_slower_command_is_counted_and_wakes_the_control_loop() -> None:
    player = Player(build(body_session()))
    player.controls.put(Command.SLOWER)
    player.controls.put(Command.SLOWER)
    player.fill(np.zeros(256, np.float32))
    assert player.slower == 2
    assert player.wake.is_set()
    assert player.position == 256  # playback goes on


def test_play_acts_on_slower_and_the_swap_is_inaudible() -> None:
    s = body_session(AMBIENT_HEADER)
    old = build(s)
    clock = FakeClock()
    output = FakeOutput(clock, blocksize=256)
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    said: list[str] = []
    slower = Slower(s, build, DEFAULT_RATE, say=said.append, run_in=sync)
    asked = old.step_starts[1] / RATE + 10.0  # during the second breath
    clock.at(asked, lambda: controls.put(Command.SLOWER))

    def too_long() -> None:
        raise AssertionError("the slowed session never came to its end")

    clock.at(2 * old.seconds, too_long)  # a guard against waiting forever for a timeline marked unfinished
    result = play(old, output, clock, controls, on_slower=slower.request)
    assert not result.stopped_early
    assert result.starved == 0
    assert said == [SLOWING_NEXT_BREATH]
    assert result.timeline.length > old.length
    assert same(result.timeline, build(slower.session))
    audio = output.audio()
    expected = Mixer(result.timeline).render()
    assert len(audio) >= len(expected)
    assert np.array_equal(audio[:len(expected)], expected)  # one seamless stream: what the new timeline says


def test_a_swap_during_the_ambient_fade_out_is_refused() -> None:
    """The bed's fade-out follows the session's end: a slower (longer) session fades later, so swapping it
    in during the old fade-out would make the bed jump back up. The bed is compared by its sound."""
    s = session_of('[[step]]\nsay = "Welcome."\n[[step]]\nbreathe = { inhale = 2, exhale = 2 }\ncycles = 6\n',
                   AMBIENT_HEADER)
    old = build(s)
    position = old.length - int(5.6 * RATE)  # 2.4 s into the bed's 8 s fade-out
    slower_version = build(slowed(s, 2, 5, FACTOR, DEFAULT_RATE))
    events_differ = first_difference(dataclasses.replace(old, events=tuple(e for e in old.events
                                                                          if e.kind != "ambient")),
                                     dataclasses.replace(slower_version, events=tuple(
                                         e for e in slower_version.events if e.kind != "ambient")))
    sound_differs = first_difference(old, slower_version, start=position)
    assert sound_differs == position < events_differ  # the bed already differs where the player is
    old_render, new_render = Mixer(old).render(), Mixer(slower_version).render()
    assert old_render[position] != new_render[position]
    player = player_at(old, position)
    said: list[str] = []
    Slower(s, build, DEFAULT_RATE, say=said.append, run_in=sync).request(player)
    assert player.timeline is old
    assert said and said[-1].startswith("Could not slow down")


def test_change_point_at_the_first_sample_of_a_breathing_step_is_its_first_cycle(
        body: tuple[Session, Timeline]) -> None:
    s, tl = body
    assert change_point(s, tl, tl.step_starts[1]) == (2, 0)
    assert change_point(s, tl, tl.step_starts[1] + 1) == (2, 1)


def test_slower_when_only_a_chime_is_left_changes_nothing_and_says_so() -> None:
    s = session_of('[[step]]\nsay = "Welcome to this practice."\n[[step]]\nchime = "bell"\n')
    old = build(s)
    player = player_at(old, 10)  # the change would come at the chime, which keeps its own time
    said: list[str] = []
    slower = Slower(s, build, DEFAULT_RATE, say=said.append, run_in=sync, lead=0.1)
    slower.request(player)
    assert said == [NOTHING_LEFT]
    assert player.timeline is old and slower.times == 0
