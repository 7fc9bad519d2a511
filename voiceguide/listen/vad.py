"""Endpointing: find where a spoken answer starts and ends in a stream of audio blocks.

A pure, energy-based voice activity detector with an adaptive noise floor. It is fed blocks of
any size and reports events by sample index, so tests can run it on arrays and measure it on
real recordings. Nothing here blocks, sleeps or touches a device.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voiceguide.seams import Samples

SILENT_DB = -100.0
"""The level reported for digital silence (all zeros)."""


class EndReason(enum.Enum):
    """Why listening for an answer stopped."""

    SILENCE = "silence"
    """The person stopped speaking (trailing silence reached)."""
    LIMIT = "limit"
    """The answer reached the length limit."""
    TIMEOUT = "timeout"
    """Nobody started speaking before the timeout."""
    INPUT_STOPPED = "input-stopped"
    """The microphone stopped delivering audio."""


class EventKind(enum.Enum):
    """What the endpointer noticed."""

    STARTED = "started"
    """Speech began at ``sample``."""
    ENDED = "ended"
    """Speech ended at ``sample`` (the end of the last voiced frame, or the limit)."""
    TIMED_OUT = "timed-out"
    """No speech started within the timeout; ``sample`` is where waiting stopped."""


@dataclass(frozen=True)
class VadEvent:
    """One endpointing event."""

    kind: EventKind
    """What happened."""
    sample: int
    """Where, in samples since the endpointer was created."""
    reason: EndReason | None = None
    """For ``ENDED`` and ``TIMED_OUT``: why."""


@dataclass(frozen=True)
class VadConfig:
    """Endpointing parameters (times in seconds, levels in dB relative to full scale)."""

    sample_rate: int = 16000
    """Samples per second of the audio fed in."""
    timeout: float = 8.0
    """How long to wait for speech to start."""
    limit: float = 60.0
    """The longest answer, counted from the start of speech."""
    trailing_silence: float = 1.2
    """Silence after speech that ends the answer."""
    frame: float = 0.02
    """Analysis frame length."""
    start_margin_db: float = 10.0
    """How far above the noise floor a frame must be to count towards the start of speech."""
    keep_margin_db: float = 6.0
    """How far above the noise floor a frame must be to keep speech going once started."""
    min_level_db: float = -60.0
    """Frames quieter than this are never speech (a muted or dead microphone times out)."""
    onset_window: float = 0.2
    """Window in which enough speech frames must fall to declare a start (rejects clicks)."""
    onset_min: float = 0.08
    """Voiced time needed inside ``onset_window``."""
    floor_window: float = 0.3
    """The first noise floor is the quietest frame of this much audio, so that listening can begin in the
    middle of speech (the first frame alone would take the voice for the room)."""
    floor_fall: float = 0.3
    """Fraction of the gap the noise floor moves per frame when the level is below it."""
    floor_rise_db_per_s: float = 2.0
    """Fastest rise of the noise floor, so steady noise is learned but speech is not."""

    @property
    def frame_samples(self) -> int:
        """Samples per analysis frame."""
        return max(1, round(self.frame * self.sample_rate))


def level_db(frames: Samples) -> npt.NDArray[np.float64]:
    """Mean-square level in dB of each row of ``frames`` (2-D: frames x samples)."""
    power = np.mean(np.square(frames, dtype=np.float64), axis=1)
    levels: npt.NDArray[np.float64] = np.maximum(10.0 * np.log10(power + 1e-30), SILENT_DB)
    return levels



class Endpointer:
    """Feed blocks with :meth:`feed`; it returns the events each block caused.

    Once it has reported ``ENDED`` or ``TIMED_OUT`` it is finished and ignores further audio.
    """

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        c = self.config
        self._n = c.frame_samples
        self._rest = np.zeros(0, dtype=np.float32)
        self._frame_index = 0
        self._floor: float | None = None
        self._window = max(1, round(c.onset_window / c.frame))
        self._need = max(1, min(self._window, round(c.onset_min / c.frame)))
        self._recent: deque[int] = deque()
        self._rise = c.floor_rise_db_per_s * c.frame
        self._first: list[float] = []  # levels held back until the first floor is known
        self._first_n = max(1, round(c.floor_window / c.frame))
        self.start: int | None = None
        """Sample where speech started, once it has."""
        self.end: int | None = None
        """Sample where speech ended, once it has."""
        self.reason: EndReason | None = None
        """Why it finished, once it has."""
        self._last_voiced_end = 0

    @property
    def finished(self) -> bool:
        """True once speech has ended or waiting timed out."""
        return self.reason is not None

    @property
    def noise_floor_db(self) -> float | None:
        """The current noise floor estimate."""
        return self._floor

    @property
    def samples_seen(self) -> int:
        """Samples analysed so far (whole frames only)."""
        return self._frame_index * self._n

    def feed(self, block: Samples) -> list[VadEvent]:
        """Analyse ``block`` (mono float32) and return what happened in it."""
        if self.finished:
            return []
        data = np.concatenate((self._rest, np.asarray(block, dtype=np.float32).reshape(-1)))
        whole = len(data) // self._n * self._n
        self._rest = data[whole:].copy()
        if not whole:
            return []
        levels: list[float] = level_db(data[:whole].reshape(-1, self._n)).tolist()
        if self._floor is None:
            self._first.extend(levels)
            if len(self._first) < self._first_n:
                return []
            self._floor = max(min(self._first[:self._first_n]), SILENT_DB)
            levels, self._first = self._first, []
        events: list[VadEvent] = []
        for level in levels:
            event = self._frame(float(level))
            self._frame_index += 1
            if event is not None:
                events.append(event)
                if event.kind is EventKind.STARTED:
                    continue
                self._rest = np.zeros(0, dtype=np.float32)
                break
        return events

    def _adapt(self, level: float) -> None:
        assert self._floor is not None
        gap = level - self._floor
        self._floor += self.config.floor_fall * gap if gap < 0 else min(gap, self._rise)

    def _frame(self, level: float) -> VadEvent | None:
        c = self.config
        assert self._floor is not None
        i = self._frame_index
        frame_end = (i + 1) * self._n
        audible = level > c.min_level_db
        if self.start is None:
            if audible and level > self._floor + c.start_margin_db:
                self._recent.append(i)
            else:
                self._adapt(level)
            while self._recent and self._recent[0] <= i - self._window:
                self._recent.popleft()
            if len(self._recent) >= self._need:
                self.start = self._recent[0] * self._n
                self._last_voiced_end = frame_end
                return VadEvent(EventKind.STARTED, self.start)
            if frame_end >= c.timeout * c.sample_rate:
                self.reason = EndReason.TIMEOUT
                return VadEvent(EventKind.TIMED_OUT, frame_end, EndReason.TIMEOUT)
            return None
        if audible and level > self._floor + c.keep_margin_db:
            self._last_voiced_end = frame_end
        limit_at = self.start + math.ceil(c.limit * c.sample_rate)
        if frame_end >= limit_at:
            return self.finish(min(limit_at, frame_end), EndReason.LIMIT)
        if frame_end - self._last_voiced_end >= c.trailing_silence * c.sample_rate:
            return self.finish(self._last_voiced_end, EndReason.SILENCE)
        return None

    def finish(self, sample: int, reason: EndReason) -> VadEvent:
        """End now (also used by the caller when the input stops): speech ended at ``sample``."""
        self.end = sample
        self.reason = reason
        return VadEvent(EventKind.ENDED, sample, reason)
