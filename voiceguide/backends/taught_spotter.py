"""Taught voice commands, the listening: find short words said on their own, then match them.

A :class:`Segmenter` follows the 10 ms frame levels against the room's noise floor (the quietest tenth
of the last few seconds) and reports each stretch of sound once 0.3 s of quiet has followed it. Only a
stretch that is short (0.2-1.5 s) and had quiet before it too is a candidate word; only a candidate is
matched (see ``taught_match``), so running speech, music or silence cost no more than the frame levels.
The same segmenter cuts the takes while teaching, so a word is cut the same way when taught and heard.

:class:`TaughtSpotter` is the ``taught`` entry of ``backends.SPOTTERS`` (built with the person's takes, which
``listen.taught_store`` loads) and has the shape of the ``Spotter`` in ``listen.voice_commands``: the isolation
test, the speaking gate and the refractory filter there stay in front of the player.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from voiceguide.backends.levels import FRAME, frame_db
from voiceguide.backends.spotter import Spotted
from voiceguide.backends.taught_match import SAMPLE_RATE, Matcher
from voiceguide.seams import Samples

log = logging.getLogger(__name__)

ABOVE_FLOOR_DB = 9.0
"""A frame is sound when it is this much above the noise floor ..."""
QUIETEST_DB = -60.0
"""... and above this absolute level (dBFS)."""
END_QUIET = 0.3
"""Seconds of quiet that end a stretch of sound (shorter pauses, as in "sla over", are inside the word)."""
QUIET_BEFORE = 0.5
"""Seconds of quiet a word needs before it."""
SHORTEST = 0.2
"""Shortest word, seconds."""
LONGEST = 1.5
"""Longest word, seconds."""
FLOOR_SECONDS = 5.0
"""How far back the noise floor looks."""
PAD = 2
"""Frames of audio kept each side of the sound when a word is cut out."""


@dataclass(frozen=True)
class Stretch:
    """A stretch of sound the segmenter found."""

    start: int
    """Its first sample, counted from the first block fed."""
    end: int
    """The sample just after its last loud frame."""
    audio: Samples
    """Its samples with :data:`PAD` frames either side."""
    quiet_before: bool
    """Whether it had :data:`QUIET_BEFORE` of quiet before it."""
    peak: float
    """Its largest absolute sample (1.0 is full scale)."""

    @property
    def seconds(self) -> float:
        """How long it lasts."""
        return (self.end - self.start) / SAMPLE_RATE

    @property
    def word_like(self) -> bool:
        """Short and on its own: a candidate command word."""
        return self.quiet_before and SHORTEST <= self.seconds <= LONGEST


class Segmenter:
    """Feed 16 kHz blocks; get back the stretches of sound that ended in them."""

    def __init__(self) -> None:
        self._levels: deque[float] = deque(maxlen=round(FLOOR_SECONDS * 100))
        self._audio: deque[Samples] = deque()
        self._kept = 0  # samples in _audio
        self._audio_start = 0  # sample index of _audio[0][0]
        self._rest = np.zeros(0, dtype=np.float32)
        self._frame = 0  # frames seen
        self._start: int | None = None  # first frame of the current stretch
        self._last_loud = -1
        self._previous_end = -10**9  # frame after the previous stretch

    def feed(self, block: Samples) -> list[Stretch]:
        """Take one block; return the stretches that ended (were followed by enough quiet) in it."""
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        self._audio.append(block)
        self._kept += len(block)
        keep = round((LONGEST + END_QUIET + 1.0) * SAMPLE_RATE)
        while self._kept - len(self._audio[0]) >= keep:
            self._kept -= len(self._audio[0])
            self._audio_start += len(self._audio.popleft())
        audio = np.concatenate((self._rest, block))
        whole = len(audio) // FRAME * FRAME
        self._rest = audio[whole:]
        levels = frame_db(audio[:whole])
        self._levels.extend(float(v) for v in levels)
        if not self._levels:
            return []
        floor = float(np.percentile(np.fromiter(self._levels, float), 10))
        found: list[Stretch] = []
        quiet_frames = round(END_QUIET * 100)
        for level in levels:
            i = self._frame
            self._frame += 1
            if level > max(floor + ABOVE_FLOOR_DB, QUIETEST_DB):
                if self._start is None:
                    self._start = i
                self._last_loud = i
            elif self._start is not None and i - self._last_loud >= quiet_frames:
                found.append(self._cut(self._start, self._last_loud + 1))
                self._previous_end = self._last_loud + 1
                self._start = None
        return found

    def _cut(self, first: int, stop: int) -> Stretch:
        quiet_before = first - self._previous_end >= round(QUIET_BEFORE * 100)
        lo, hi = (first - PAD) * FRAME, (stop + PAD) * FRAME
        held = np.concatenate(self._audio) if self._audio else np.zeros(0, np.float32)
        audio = held[max(0, lo - self._audio_start):max(0, hi - self._audio_start)]
        peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
        return Stretch(first * FRAME, stop * FRAME, audio, quiet_before, peak)


class TaughtSpotter:
    """Spots the taught words: each word-like stretch is matched against the person's own takes."""

    def __init__(self, takes: Mapping[str, list[np.ndarray]], thresholds: Mapping[str, float] | None = None) -> None:
        self.matcher = Matcher(takes, thresholds)
        self._segmenter = Segmenter()
        self.matched = 0
        """How many stretches were matched (the costly part), for benchmarks."""

    def feed(self, block: Samples) -> list[Spotted]:
        """Spot taught words that ended in this block."""
        spotted = []
        for stretch in self._segmenter.feed(block):
            if not stretch.word_like:
                continue
            self.matched += 1
            match = self.matcher.match(stretch.audio)
            log.debug("heard a short word: nearest '%s' at %.2f (threshold %.2f, next %.2f)",
                      match.best, match.distance, match.threshold, match.runner_up)
            if match.word is not None:
                spotted.append(Spotted(match.word, stretch.start, stretch.end))
        return spotted

    def restart_due(self) -> bool:
        """Never: there is no decoder state to refresh."""
        return False

    def restart(self) -> None:
        """Nothing to restart."""

    def close(self) -> None:
        """Nothing to release."""
