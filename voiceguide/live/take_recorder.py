"""One take from the microphone: a soft count-in, then recording until the person has spoken and paused.

The microphone is opened once for the whole walk-through (a PortAudio capture sends nothing for its first second
or so, FIELD-NOTES) and blocks are kept only while a take is armed. The loop waits on the clock for blocks to
arrive, never polling: with the fake clock and microphone a take is recorded in no time.

A take ends when speech has been heard and then :data:`END_SILENCE` seconds of quiet, when nothing is heard for
:data:`WAIT_FOR_SPEECH` seconds (an empty take), or at :data:`MAX_SECONDS`: a take that long (the person walked
away, something kept the room loud) is dropped with a message, never kept: memory stays bounded on a Pi.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import numpy as np

from voiceguide.errors import MicrophoneSilent
from voiceguide.seams import AudioInput, Clock, Samples

RATE = 48000
"""Takes are recorded at this rate (what packs store)."""
END_SILENCE = 1.6
"""Seconds of quiet after speech that end a take (a line's own pauses are shorter)."""
WAIT_FOR_SPEECH = 10.0
"""Seconds to wait for the first word before the take is given up as empty."""
MAX_SECONDS = 120.0
"""The longest take: two minutes covers the longest line; anything longer is dropped."""
OVER_ROOM_DB = 12.0
"""A block this far above the room (the quietest block so far: a pause between words at the latest) and above
-55 dBFS is speech."""
COUNT_IN = 3
"""Beats of the count-in."""


@dataclass(frozen=True)
class Recorded:
    """What one take recorded."""

    samples: Samples
    """The audio (mono, :data:`RATE`)."""
    too_long: bool = False
    """It ran to :data:`MAX_SECONDS` and was stopped."""
    heard_speech: bool = True
    """Speech was heard at all."""


class TakeRecorder:
    """Records takes from ``mic`` (opened by name through the AudioInput seam), paced by ``clock``."""

    def __init__(self, mic: AudioInput, clock: Clock, beat: Callable[[int], None] | None = None,
                 max_seconds: float = MAX_SECONDS) -> None:
        """``beat(n)`` is called for each beat of the count-in (3, 2, 1): a soft tick and a number on screen."""
        self.mic = mic
        self.clock = clock
        self.beat = beat or (lambda n: None)
        self.max_seconds = max_seconds
        self._blocks: queue.SimpleQueue[Samples] = queue.SimpleQueue()
        self._arrived = threading.Event()
        self._armed = False
        self._stack = contextlib.ExitStack()

    def _deliver(self, block: Samples) -> None:
        if self._armed:
            self._blocks.put(np.array(block, dtype=np.float32).reshape(-1))
            self._arrived.set()

    def __enter__(self) -> TakeRecorder:
        self._stack.enter_context(self.mic.open(RATE, self._deliver))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stack.close()

    def _count_in(self) -> None:
        never = threading.Event()
        for n in range(COUNT_IN, 0, -1):
            self.beat(n)
            self.clock.wait(never, 0.6)

    def record(self) -> Recorded:
        """Count in, then record one take (see the module's docstring for when it ends)."""
        self._count_in()
        while not self._blocks.empty():
            self._blocks.get_nowait()
        kept: list[Samples] = []
        total = 0
        room: float | None = None
        spoke_at: float | None = None
        last_speech = 0.0
        began = self.clock.monotonic()
        self._armed = True
        try:
            while True:
                self._arrived.clear()
                while not self._blocks.empty():
                    block = self._blocks.get_nowait()
                    kept.append(block)
                    total += len(block)
                    level = 20 * float(np.log10(max(float(np.sqrt(np.mean(np.square(block)))), 1e-9)))
                    now = total / RATE
                    room = level if room is None else min(room, level)  # the quietest block: the room itself
                    if level > room + OVER_ROOM_DB and level > -55.0:
                        spoke_at = now if spoke_at is None else spoke_at
                        last_speech = now
                seconds = total / RATE
                if seconds >= self.max_seconds:
                    return Recorded(np.zeros(0, np.float32), too_long=True, heard_speech=spoke_at is not None)
                if spoke_at is not None and seconds - last_speech >= END_SILENCE:
                    break
                if spoke_at is None and seconds >= WAIT_FOR_SPEECH:
                    return Recorded(np.concatenate(kept) if kept else np.zeros(0, np.float32), heard_speech=False)
                if total == 0 and self.clock.monotonic() - began > WAIT_FOR_SPEECH:
                    raise MicrophoneSilent("the microphone sent no sound at all: is it plugged in and switched on?")
                self.clock.wait(self._arrived, 0.5)
        finally:
            self._armed = False
        return Recorded(np.concatenate(kept))
