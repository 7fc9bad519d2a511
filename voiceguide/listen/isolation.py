"""Is a spotted command word said on its own? Judged on 10 ms frame levels around it.

The keyword spotter's word edges are rough: for a slowly spoken "repeat" it may mark only the first
syllable, so the rest of the word would sit in the "after" context and fail the test. So the word is
first grown to the whole stretch of sound around it (frames clearly above the room's noise floor and
not far below the word's loudest frame, across pauses of up to ``bridge`` such as the closure before
a "p"), by at most ``grow`` each side; then that stretch must stand ``margin_db`` above the audio
``gap`` before and after it. A keyword inside running speech grows past the limit and is turned
down at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def level_db(frames: np.ndarray) -> float:
    """A robust loudness of some frames: their 90th percentile level (-120 dB if there are none)."""
    return float(np.percentile(frames, 90)) if len(frames) else -120.0


@dataclass(frozen=True)
class Isolation:
    """The rule, in frames."""

    margin_db: float
    """How much louder than its context the (grown) word must be."""
    gap: int
    """Frames between the word's edges and its context."""
    context: int
    """Frames of context before and after."""
    bridge: int
    """Longest quiet run inside a word."""
    grow: int
    """Most frames the word may grow by at each end (0: judge the spotted word as it is)."""
    longest: int
    """Most frames the grown word may last (a command word is short; a phrase is not)."""
    above_floor_db: float = 6.0
    """A frame is part of the word if it is this much above the noise floor (the quietest tenth of
    the frames around the word) ..."""
    depth_db: float = 30.0
    """... and no more than this below the word's loudest frame."""

    @property
    def reach(self) -> int:
        """Frames needed after the spotted end (and before its start) to judge every case."""
        return self.grow + self.gap + self.context


@dataclass(frozen=True)
class Verdict:
    """What the rule says about one spotted word."""

    alone: bool | None
    """True: said on its own; False: not; None: more audio is needed."""
    why: str = ""
    """Why not, for the log."""
    first: int = 0
    """The first frame of the word as grown (when said on its own)."""
    last: int = 0
    """The frame just after the word as grown."""


def judge(frames: np.ndarray, start: int, end: int, rule: Isolation, complete: bool) -> Verdict:
    """Judge the word spotted at frames ``[start, end)`` of ``frames``, which should run from
    ``rule.reach`` frames before ``start`` to ``rule.reach`` after ``end``; if they stop short and
    ``complete`` is false, the answer may be "wait"."""
    start, end = max(0, start), min(max(end, start + 1), len(frames))
    floor, peak = float(np.percentile(frames, 10)), float(frames[start:end].max())
    loud = frames >= max(floor + rule.above_floor_db, peak - rule.depth_db)
    if rule.grow:
        first = _grow_back(loud, start, rule)
        last, ended = _grow_on(loud, end, rule)
    else:  # the spotter's edges as they are
        first, last, ended = start, end, True
    word = level_db(frames[first:last])
    if last - end > rule.grow or start - first > rule.grow:
        return Verdict(False, f"not said on its own (the sound around it runs on, {word:.0f} dB)")
    if not ended and not complete:
        return Verdict(None)
    if last - first > rule.longest:
        return Verdict(False, f"not said on its own (a stretch of sound {(last - first) / 100:.2f} s long)")
    if last + rule.gap + rule.context > len(frames) and not complete:
        return Verdict(None)
    before = level_db(frames[max(0, first - rule.gap - rule.context):max(0, first - rule.gap)])
    after = level_db(frames[last + rule.gap:last + rule.gap + rule.context])
    if max(before, after) > word - rule.margin_db:
        return Verdict(False, f"not said on its own ({word:.0f} dB vs {before:.0f}/{after:.0f} dB around)")
    return Verdict(True, first=first, last=last)


def _grow_on(loud: np.ndarray, end: int, rule: Isolation) -> tuple[int, bool]:
    """The end of the stretch of sound from ``end`` on, and whether it is final: a pause longer than
    ``bridge`` was seen, or sound beyond the growth limit (then the stretch runs on)."""
    last = end
    for i in range(end, min(len(loud), end + rule.grow + rule.bridge + 1)):
        if loud[i]:
            last = i + 1
            if last - end > rule.grow:
                return last, True
        elif i - last >= rule.bridge:
            return last, True
    return last, len(loud) > end + rule.grow + rule.bridge


def _grow_back(loud: np.ndarray, start: int, rule: Isolation) -> int:
    """The start of the stretch of sound that ends at ``start`` (the past is all there); more than
    ``grow`` frames back if it runs on."""
    first = start
    for i in range(start - 1, max(-1, start - rule.grow - rule.bridge - 2), -1):
        if loud[i]:
            first = i
            if start - first > rule.grow:
                break
        elif first - i > rule.bridge:
            break
    return first
