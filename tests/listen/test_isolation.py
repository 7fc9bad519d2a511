"""The isolation rule on synthetic 10 ms frame levels: growing the spotted word, bridges, limits, context, waiting."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest

from voiceguide.backends.levels import FRAME, frame_db
from voiceguide.listen.isolation import Isolation, Verdict, judge, level_db

RULE = Isolation(margin_db=10.0, gap=15, context=30, bridge=6, grow=70, longest=200)
"""The rule in frames (about what ``CommandConfig``'s defaults give, with a 200-frame longest)."""
QUIET = -80.0
WORD = -20.0
START = RULE.reach
"""Where the spotted words start: with the full reach of frames before them."""
TOTAL = 400


def levels(*spans: tuple[int, int, float], total: int = TOTAL, base: float = QUIET) -> npt.NDArray[np.float64]:
    """Frame levels: ``base`` everywhere, then each (first, after last, dB) span."""
    out = np.full(total, base, dtype=np.float64)
    for lo, hi, db in spans:
        out[lo:hi] = db
    return out


def decide(frames: npt.NDArray[np.float64], start: int = START, end: int = START + 15, rule: Isolation = RULE,
           complete: bool = False) -> Verdict:
    return judge(frames, start, end, rule, complete)


# growing the spotted word

def test_a_word_spotted_by_its_first_part_grows_to_the_whole_word() -> None:
    verdict = decide(levels((START, START + 60, WORD)), START, START + 15)
    assert verdict == Verdict(True, first=START, last=START + 60)


def test_a_word_spotted_by_its_last_part_grows_back_to_its_start() -> None:
    verdict = decide(levels((START - 40, START + 20, WORD)), START, START + 20)
    assert verdict == Verdict(True, first=START - 40, last=START + 20)


def test_a_pause_up_to_the_bridge_inside_the_word_is_crossed_and_a_longer_one_ends_it() -> None:
    word, faint = (START, START + 45, WORD), -45.0  # the rest of the word: faint, but within depth_db of the peak
    crossed = levels(word, (START + 45 + RULE.bridge, START + 65, faint))
    assert decide(crossed) == Verdict(True, first=START, last=START + 65)
    ended = levels(word, (START + 45 + RULE.bridge + 1, START + 65, faint))
    assert decide(ended) == Verdict(True, first=START, last=START + 45)


def test_a_pause_up_to_the_bridge_before_the_spotted_start_is_crossed_and_a_longer_one_ends_it() -> None:
    word, faint = (START, START + 45, WORD), -45.0
    crossed = levels((START - 20, START - RULE.bridge, faint), word)
    assert decide(crossed) == Verdict(True, first=START - 20, last=START + 45)
    ended = levels((START - 20, START - RULE.bridge - 1, faint), word)
    assert decide(ended) == Verdict(True, first=START, last=START + 45)


def test_sound_running_on_past_the_growth_limit_after_the_word_is_not_a_word_on_its_own() -> None:
    end = START + 15
    assert decide(levels((START, end + RULE.grow, WORD)), end=end) == Verdict(True, first=START,
                                                                              last=end + RULE.grow)
    verdict = decide(levels((START, end + RULE.grow + 1, WORD)), end=end)
    assert verdict.alone is False and "runs on" in verdict.why


def test_sound_running_back_past_the_growth_limit_before_the_word_is_not_a_word_on_its_own() -> None:
    assert decide(levels((START - RULE.grow, START + 15, WORD))) == Verdict(True, first=START - RULE.grow,
                                                                            last=START + 15)
    verdict = decide(levels((START - RULE.grow - 1, START + 15, WORD)))
    assert verdict.alone is False and "runs on" in verdict.why


@pytest.mark.parametrize("side", ["after", "before"])
def test_sound_that_resumes_past_the_limit_after_a_short_pause_runs_on(side: str) -> None:
    """A pause of up to ``bridge`` frames just inside the growth limit does not end the word."""
    if side == "after":
        end = START + 15
        word, resumed = (START, end + RULE.grow - 2, WORD), (end + RULE.grow + 2, end + RULE.grow + 10, WORD)
        verdict = decide(levels(word, resumed), end=end)
    else:
        word, resumed = (START - RULE.grow + 2, START + 15, WORD), (START - RULE.grow - 10, START - RULE.grow - 2, WORD)
        verdict = decide(levels(word, resumed))
    assert verdict.alone is False and "runs on" in verdict.why


def test_a_keyword_inside_running_speech_is_not_a_word_on_its_own() -> None:
    verdict = decide(levels((0, TOTAL, WORD)), START + 100, START + 130)
    assert verdict.alone is False and verdict.why.startswith("not said on its own")


def test_a_stretch_of_sound_longer_than_longest_is_not_a_word() -> None:
    rule = replace(RULE, longest=40)
    assert decide(levels((START, START + 40, WORD)), rule=rule) == Verdict(True, first=START, last=START + 40)
    verdict = decide(levels((START, START + 41, WORD)), rule=rule)
    assert verdict.alone is False and "0.41 s long" in verdict.why


# the context

@pytest.mark.parametrize("side", ["before", "after"])
def test_context_less_than_the_margin_quieter_than_the_word_rejects_it(side: str) -> None:
    word = (START, START + 50, WORD)
    lo = START - RULE.gap - RULE.context if side == "before" else START + 50 + RULE.gap
    context = (lo, lo + RULE.context)
    loud = decide(levels(word, (*context, WORD - RULE.margin_db + 1)))
    assert loud.alone is False
    assert ("vs -29/-80 dB around" if side == "before" else "vs -80/-29 dB around") in loud.why
    quiet_enough = decide(levels(word, (*context, WORD - RULE.margin_db - 1)))
    assert quiet_enough == Verdict(True, first=START, last=START + 50)


def test_only_the_context_window_counts() -> None:
    word = (START, START + 50, WORD)
    before = START - RULE.gap - RULE.context
    after = START + 50 + RULE.gap + RULE.context
    assert decide(levels((0, before, WORD), word, (after, TOTAL, WORD))) == Verdict(True, first=START, last=START + 50)


@pytest.mark.parametrize("side", ["before", "after"])
def test_the_context_window_starts_gap_frames_from_the_word_and_lasts_context_frames(side: str) -> None:
    word, n = (START, START + 50, WORD), 4  # 4 of 30 frames: above the 10 % that level_db looks past
    if side == "before":
        near, far = START - RULE.gap, START - RULE.gap - RULE.context
        gap_noise = (near, START - RULE.bridge - 1)  # too far from the word to be grown into it
        spans = {"in the gap": gap_noise, "at the near edge": (near - n, near), "at the far edge": (far, far + n),
                 "beyond": (far - n, far)}
    else:
        near, far = START + 50 + RULE.gap, START + 50 + RULE.gap + RULE.context
        gap_noise = (START + 50 + RULE.bridge + 1, near)
        spans = {"in the gap": gap_noise, "at the near edge": (near, near + n), "at the far edge": (far - n, far),
                 "beyond": (far, far + n)}
    alone = {where: decide(levels(word, (*span, WORD))).alone for where, span in spans.items()}
    assert alone == {"in the gap": True, "at the near edge": False, "at the far edge": False, "beyond": True}


def test_the_context_is_measured_from_the_grown_word_not_the_spotted_one() -> None:
    # loud right after the spotted end: part of the word, not its context
    assert decide(levels((START, START + 40, WORD)), START, START + 10) == Verdict(True, first=START, last=START + 40)


# waiting for more audio

def test_frames_stopping_inside_the_word_wait_unless_the_stream_is_complete() -> None:
    frames = levels((START, START + 55, WORD), total=START + 55)
    assert decide(frames, complete=False).alone is None
    assert decide(frames, complete=True) == Verdict(True, first=START, last=START + 55)
    assert decide(frames, rule=replace(RULE, longest=40), complete=False).alone is None  # it may yet run on
    assert decide(frames, rule=replace(RULE, longest=40), complete=True).alone is False


def test_frames_stopping_inside_the_after_context_wait_unless_the_stream_is_complete() -> None:
    short = START + 50 + RULE.gap + 10
    frames = levels((START, START + 50, WORD), total=short)
    assert decide(frames, complete=False).alone is None
    assert decide(frames, complete=True) == Verdict(True, first=START, last=START + 50)
    noisy = levels((START, START + 50, WORD), (START + 50 + RULE.gap, short, WORD - 5), total=short)
    assert decide(noisy, complete=False).alone is None
    assert decide(noisy, complete=True).alone is False


# the noise floor and the depth

def test_in_a_noisy_room_the_word_grows_only_over_the_word() -> None:
    room = np.random.default_rng(3).uniform(-42.0, -38.0, TOTAL)  # the noise floor is about -40 dB
    frames = room.copy()
    frames[START - 5:START] = -30.0  # a soft onset, well above the room
    frames[START:START + 50] = -10.0
    frames[START + 50:START + 55] = -30.0  # a soft release
    assert decide(frames, START, START + 10) == Verdict(True, first=START - 5, last=START + 55)
    # counting every frame above the floor as sound, the word would run on into the room noise
    no_floor = replace(RULE, above_floor_db=0.0, depth_db=40.0)
    verdict = decide(frames, START, START + 10, rule=no_floor)
    assert verdict.alone is False and "runs on" in verdict.why


def test_depth_stops_the_word_growing_into_a_faint_tail() -> None:
    frames = levels((START, START + 50, -10.0), (START + 50, START + 70, -50.0), base=-100.0)
    assert decide(frames) == Verdict(True, first=START, last=START + 50)  # the tail is 40 dB below the peak
    assert decide(frames, rule=replace(RULE, depth_db=60.0)) == Verdict(True, first=START, last=START + 70)


# frame levels

def test_frame_db_measures_each_whole_10_ms_frame() -> None:
    assert FRAME == 160
    assert frame_db(np.zeros(1000, np.float32)).tolist() == pytest.approx([-120.0] * 6)  # the partial frame is dropped
    steps = np.concatenate([np.full(FRAME, 0.1), np.full(FRAME, 0.01), np.full(FRAME, -0.1)]).astype(np.float32)
    assert frame_db(steps).tolist() == pytest.approx([-20.0, -40.0, -20.0], abs=1e-4)
    sine = np.sin(2 * np.pi * 1000 * np.arange(4 * FRAME) / 16000).astype(np.float32)  # 10 periods per frame
    assert frame_db(sine).tolist() == pytest.approx([10 * np.log10(0.5)] * 4, abs=1e-4)
    assert len(frame_db(np.zeros(FRAME - 1, np.float32))) == 0


def test_level_db_is_the_90th_percentile_and_minus_120_for_nothing() -> None:
    assert level_db(np.zeros(0)) == -120.0
    assert level_db(np.arange(11.0)) == pytest.approx(9.0)
    click = np.full(100, -60.0)
    click[50] = 0.0
    assert level_db(click) == pytest.approx(-60.0)  # one loud frame does not make a stretch loud


def test_with_no_growth_the_spotted_word_is_judged_as_it_is() -> None:
    rule = replace(RULE, grow=0)
    word = levels((START, START + 30, WORD))
    assert decide(word, rule=rule) == Verdict(True, first=START, last=START + 15)  # the rest is in the gap
    longer = levels((START, START + 60, WORD))  # reaches into the context after the spotted end
    verdict = decide(longer, rule=rule)
    assert verdict.alone is False and "vs -80/-20 dB around" in verdict.why
