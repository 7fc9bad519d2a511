"""A volume ramp at the start of a stream: a scheduled 7:00 session does not start at full volume.

It wraps any :class:`AudioOutput`, so the player and mixer stay as they are; the gain is applied to each
block after the player has filled it, on the audio thread, with buffers allocated once.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy as np

from voiceguide.daemon.config import Ramp
from voiceguide.seams import AudioOutput, FillCallback, Samples


class RampedOutput:
    """An output whose first ``ramp.seconds`` rise linearly from ``ramp.start`` to full gain."""

    def __init__(self, inner: AudioOutput, ramp: Ramp) -> None:
        self.inner = inner
        self.ramp = ramp

    def check(self) -> str | None:
        """The wrapped output's check."""
        return self.inner.check()

    def close(self) -> None:
        """Close the wrapped output."""
        self.inner.close()

    def open(self, sample_rate: int, fill: FillCallback) -> AbstractContextManager[object]:
        """Open the wrapped output with a fill that applies the ramp."""
        total = max(1, int(self.ramp.seconds * sample_rate))
        start = float(self.ramp.start)
        step = (1.0 - start) / total
        done = 0
        index = np.zeros(0, dtype=np.float64)
        gains = np.zeros(0, dtype=np.float64)

        def ramped(out: Samples, lost: int = 0) -> None:
            nonlocal done, index, gains
            if lost:
                fill(out, lost)
            else:
                fill(out)
            if done >= total:
                return
            n = len(out)
            if len(index) < n:  # the first block (stream blocks keep their size): allocate once
                index = np.arange(n, dtype=np.float64)
                gains = np.empty(n, dtype=np.float64)
            k = min(n, total - done)
            g = gains[:k]
            np.add(index[:k], done, out=g)
            g *= step
            g += start
            np.multiply(out[:k], g, out=out[:k], casting="same_kind")
            done += k

        return self.inner.open(sample_rate, ramped)
