"""A fake microphone driven by a :class:`~voiceguide.backends.fake.FakeClock`.

It delivers a prepared recording in fixed blocks as fake time passes, then silence (a quiet
room) or nothing at all (a dead microphone), so listening tests need no hardware and no waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from voiceguide.backends.fake import FakeClock
from voiceguide.errors import AudioUnavailable
from voiceguide.seams import Samples


class FakeInput:
    """Plays ``audio`` into whoever opens it, one ``blocksize`` block per block of fake time."""

    def __init__(self, clock: FakeClock, audio: Samples | None = None, sample_rate: int = 16000,
                 blocksize: int = 1600, then: str = "silence", unavailable: bool = False) -> None:
        if then not in ("silence", "nothing"):
            raise ValueError("then must be 'silence' or 'nothing'")
        self.clock = clock
        self.audio = np.zeros(0, dtype=np.float32) if audio is None else np.asarray(audio, dtype=np.float32)
        self.sample_rate = sample_rate
        self.blocksize = blocksize
        self.then = then
        self.unavailable = unavailable
        self.delivered = 0
        """Samples delivered so far."""
        self.opened = 0
        """How many times a stream was opened."""
        self.is_open = False
        """True while a stream is open."""

    def check(self) -> None:
        """Always there (an ``unavailable`` one fails when opened, as a microphone unplugged late does)."""

    def close(self) -> None:
        """Nothing to release."""

    @contextmanager
    def open(self, sample_rate: int, deliver: Callable[[Samples], None]) -> Iterator[object]:
        """Deliver blocks from the recording to ``deliver`` as fake time advances."""
        if self.unavailable:
            raise AudioUnavailable("No microphone (fake input set to unavailable).")
        if sample_rate != self.sample_rate:
            raise AudioUnavailable(f"fake input records at {self.sample_rate} Hz, not {sample_rate} Hz")
        self.opened += 1
        self.is_open = True
        owed = 0.0
        silence = np.zeros(self.blocksize, dtype=np.float32)

        def tick(seconds: float) -> None:
            nonlocal owed
            owed += seconds * sample_rate
            while owed >= self.blocksize:
                owed -= self.blocksize
                start = self.delivered
                if start >= len(self.audio) and self.then == "nothing":
                    continue
                block = self.audio[start:start + self.blocksize]
                if len(block) < self.blocksize:
                    block = np.concatenate((block, silence[:self.blocksize - len(block)]))
                self.delivered += self.blocksize
                deliver(block)

        unsubscribe = self.clock.listen(tick)
        try:
            yield self
        finally:
            unsubscribe()
            self.is_open = False
