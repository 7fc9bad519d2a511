"""Hearing the person over the session's own voice: when to yield during an acknowledgement.

After an answer the session says a short acknowledgement ("Thank you."). If the person goes on speaking then,
the voice should yield (fade) and the answer go on. On a bedside speaker the microphone also hears that
acknowledgement, so "sound during the thanks" cannot mean "the person speaks": the session would yield to its
own voice and cut every thanks short.

The session's voice just reached the microphone as it asked the question, so the microphone itself measured
how loud that voice arrives (the echo): the loud frames of the seconds before the window opened. The
acknowledgement is the same voice at the same loudness (speech is levelled when rendered), so during it a
frame counts as the person's speech only when it is :data:`ECHO_MARGIN_DB` louder than that echo (and
:data:`SPEECH_MARGIN_DB` above the room's floor). With no echo at all (headphones, a microphone across the
room) the threshold is the floor's, as for any answer. This is a level-only double-talk detector: speech quieter at the
microphone than the voice's echo plus the margin is not noticed during the acknowledgement (the voice then
finishes its few words over it, as before). Chosen over an echo canceller because it needs no sample alignment
of the played signal to the microphone's and costs one RMS per 20 ms frame; see docs/benchmarks.md.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

import numpy as np

from voiceguide.listen.shared_input import SharedInput
from voiceguide.listen.vad import level_db
from voiceguide.seams import Clock, Samples

log = logging.getLogger(__name__)

FRAME = 0.02
"""Analysis frame (seconds)."""
ECHO_MARGIN_DB = 10.0
"""How much louder than the session's own voice at the microphone a frame must be to be the person's."""
SPEECH_MARGIN_DB = 10.0
"""How far above the room's floor a frame must be to be speech at all."""
MIN_LEVEL_DB = -60.0
"""Frames quieter than this are never speech."""
ONSET_WINDOW = 0.2
"""Speech starts where :data:`ONSET_VOICED` seconds of the last this-many seconds of frames are speech."""
ONSET_VOICED = 0.12
"""How much of :data:`ONSET_WINDOW` must be speech (a click or a cough of one frame is not)."""
QUESTION_SECONDS = 3.0
"""How much of what the microphone heard before the window opened is taken as the question's echo ..."""
ANSWER_EARLY = 0.6
"""... leaving out the last this-many seconds, where the person may already be answering over the cue."""
WATCH_WAIT = 0.1
"""Longest single wait on the clock while watching (bounds how late the end of the acknowledgement is noticed)."""


@dataclass(frozen=True)
class Echo:
    """How loud the room and the session's own voice are at the microphone."""

    floor_db: float
    """The room's quiet: the 10th percentile of the frames' levels."""
    voice_db: float
    """The session's voice as the microphone hears it: the 95th percentile of the frames' levels (the floor, when
    the microphone does not hear the voice at all)."""

    @property
    def threshold_db(self) -> float:
        """A frame louder than this is the person's speech."""
        return max(self.floor_db + SPEECH_MARGIN_DB, self.voice_db + ECHO_MARGIN_DB, MIN_LEVEL_DB)


def frame_levels(audio: Samples, rate: int) -> np.ndarray:
    """The level (dBFS) of each whole :data:`FRAME` of ``audio``."""
    size = max(1, round(FRAME * rate))
    n = len(audio) // size
    if n == 0:
        return np.zeros(0)
    return level_db(np.asarray(audio[:n * size], dtype=np.float32).reshape(n, size))


def measure_echo(heard_before: Samples, rate: int) -> Echo:
    """The :class:`Echo` from what the microphone heard while the question was asked (see the module)."""
    levels = frame_levels(heard_before, rate)
    if len(levels) == 0:
        return Echo(MIN_LEVEL_DB - SPEECH_MARGIN_DB, MIN_LEVEL_DB - ECHO_MARGIN_DB)
    return Echo(float(np.percentile(levels, 10)), float(np.percentile(levels, 95)))


class SpeechOverVoice:
    """Fed the microphone's blocks during the acknowledgement; says where the person's speech starts."""

    def __init__(self, echo: Echo, rate: int) -> None:
        self.echo = echo
        self.rate = rate
        self._size = max(1, round(FRAME * rate))
        self._window = max(1, round(ONSET_WINDOW / FRAME))
        self._needed = max(1, round(ONSET_VOICED / FRAME))
        self._pending = np.zeros(0, dtype=np.float32)
        self._frames = 0
        self._voiced: list[bool] = []
        self.onset: int | None = None
        """Where the person's speech started (samples since the first block fed), once found."""

    def feed(self, block: Samples) -> int | None:
        """Take the next block; the onset (see :attr:`onset`) once the person is heard, else None."""
        if self.onset is not None:
            return self.onset
        audio = np.concatenate((self._pending, np.asarray(block, dtype=np.float32).reshape(-1)))
        whole = len(audio) // self._size * self._size
        self._pending = audio[whole:]
        for loud in level_db(audio[:whole].reshape(-1, self._size)) > self.echo.threshold_db:
            self._voiced.append(bool(loud))
            self._frames += 1
            recent = self._voiced[-self._window:]
            if sum(recent) >= self._needed:
                self.onset = (self._frames - len(recent) + recent.index(True)) * self._size
                return self.onset
        del self._voiced[:-self._window]
        return None


def watch(mic: SharedInput, clock: Clock, echo: Echo, over: threading.Event) -> int | None:
    """Listen on ``mic`` until ``over`` is set (the acknowledgement is left); the microphone sample (a value of
    ``mic.heard``) where the person's speech began over it, or None if they did not speak."""
    arrived = threading.Event()
    blocks: queue.SimpleQueue[Samples] = queue.SimpleQueue()
    start = mic.heard

    def deliver(block: Samples) -> None:
        blocks.put(np.array(block, dtype=np.float32, copy=True).reshape(-1))
        arrived.set()

    if start is None:
        return None
    detector = SpeechOverVoice(echo, mic.rate)
    with mic.open(mic.rate, deliver, earlier=lambda block, _: deliver(block), since=start):
        while not over.is_set():
            arrived.clear()
            while True:
                try:
                    onset = detector.feed(blocks.get_nowait())
                except queue.Empty:
                    break
                if onset is not None:
                    log.info("the person spoke during the acknowledgement (%.2f s into it): the voice yields",
                             onset / mic.rate)
                    return start + onset
            clock.wait(arrived, WATCH_WAIT)
    return None
