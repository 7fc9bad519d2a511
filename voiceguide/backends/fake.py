"""Fakes shipped in the package: dry runs and tests with no hardware and no waiting.

``FakeClock.wait`` advances time at once and lets a :class:`FakeOutput` pull exactly that much
audio from the player, so a 20-minute session plays in well under a second.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from voiceguide.seams import Clip, FillCallback, Samples, SpeechParams, Voice


class FakeSpeaker:
    """Deterministic tone-like 'speech' of plausible length for the text and rate."""

    name = "fake"
    sample_rate = 16000

    def __init__(self) -> None:
        self.calls: list[tuple[str, SpeechParams]] = []

    @staticmethod
    def seconds(text: str, params: SpeechParams) -> float:
        """How long the fake voice takes to say ``text``: 0.2 s plus 90 % of the words' time at ``params.rate``.

        Measured against espeak-ng on 304 bundled lines, that is within a few percent of the real voice,
        so lengths estimated with the fake (``voiceguide list``) are honest.
        """
        return 0.2 + 0.9 * max(1, len(text.split())) * 60.0 / params.rate

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        """Syllable-like tone bursts lasting as long as ``text`` would take at ``params.rate``."""
        self.calls.append((text, params))
        n = int(self.seconds(text, params) * self.sample_rate)
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
        t = np.arange(n, dtype=np.float64) / self.sample_rate
        pitch = 140.0 + seed % 60
        syllables = 0.5 - 0.5 * np.cos(2 * np.pi * t * (params.rate / 60.0) * 1.5)
        wave = (np.sin(2 * np.pi * pitch * t) + 0.3 * np.sin(4 * np.pi * pitch * t)) * syllables
        edge = min(n // 2, int(0.02 * self.sample_rate))
        if edge:
            ramp = np.linspace(0.0, 1.0, edge)
            wave[:edge] *= ramp
            wave[-edge:] *= ramp[::-1]
        return Clip((0.3 * params.volume * wave).astype(np.float32), self.sample_rate)

    def voices(self) -> list[Voice]:
        """Two pretend voices."""
        return [Voice("fake-en", "Fake English", ("en",)), Voice("fake-nl", "Fake Dutch", ("nl",))]

    def resolve_voice(self, params: SpeechParams) -> str:
        """``fake-<language>`` unless a voice is named."""
        return params.voice or f"fake-{params.language}"

    def close(self) -> None:
        """Nothing to release."""


class FakeTimer(FakeSpeaker):
    """The fake voice's timing without its sound: silent clips of the same length, made at 8 kHz.

    For estimating a session's length (``voiceguide list``, ``--minutes``, planning ahead) at no cost.
    """

    sample_rate = 8000
    timing_only = True
    """Its clips are only lengths: the engine computes a line's length without shaping any audio."""

    def __init__(self, sample_rate: int = 8000) -> None:
        """``sample_rate`` 16000 gives exactly the lengths of :class:`FakeSpeaker` (for ``show``)."""
        super().__init__()
        self.sample_rate = sample_rate

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        """Silence as long as the fake voice would speak ``text``, held in no memory (a zero-stride view)."""
        self.calls.append((text, params))
        n = int(self.seconds(text, params) * self.sample_rate)
        return Clip(np.broadcast_to(np.float32(0.0), (n,)), self.sample_rate)


class FakeClock:
    """A clock whose ``wait`` returns at once after moving time forward and running tick listeners."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._listeners: list[Callable[[float], None]] = []
        self._timers: list[tuple[float, Callable[[], None]]] = []

    def monotonic(self) -> float:
        """The fake time."""
        return self.now

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action`` once fake time reaches ``when`` (for scripted key presses in tests)."""
        self._timers.append((when, action))
        self._timers.sort(key=lambda item: item[0])

    def listen(self, listener: Callable[[float], None]) -> Callable[[], None]:
        """Call ``listener(seconds)`` whenever time advances; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def close(self) -> None:
        """Nothing to release."""

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Advance by ``timeout`` (or less, up to the next timer) unless ``event`` is already set."""
        if event.is_set():
            return True
        step = timeout
        if self._timers:
            step = max(0.0, min(step, self._timers[0][0] - self.now))
        self.now += step
        for listener in list(self._listeners):
            listener(step)
        while self._timers and self._timers[0][0] <= self.now:
            self._timers.pop(0)[1]()
        return event.is_set()


class FakeOutput:
    """An output device driven by a :class:`FakeClock`; keeps what it played when ``record`` is set.

    Faults can be staged in fake time: :meth:`stall` (the callback comes too late: the device plays silence
    and then tells ``fill`` how many frames it lost) and :meth:`vanish` (the device stops asking for sound).
    """

    def __init__(self, clock: FakeClock, blocksize: int = 1024, record: bool = True) -> None:
        self.clock = clock
        self.blocksize = blocksize
        self.record = record
        self.played: list[Samples] = []
        self.frames = 0
        """Frames the device has played, including silence while a callback was late."""
        self.opened = 0
        self._stalls: list[tuple[float, float]] = []
        self._vanish_at: float | None = None

    def stall(self, at: float, seconds: float) -> None:
        """From fake time ``at``, call no callback for ``seconds``: an underrun of that length."""
        self._stalls.append((at, at + seconds))
        self._stalls.sort()

    @property
    def active(self) -> bool:
        """Like PortAudio's ``Stream.active``: False once the device has vanished."""
        return self._vanish_at is None or self.clock.now < self._vanish_at

    def check(self) -> None:
        """Always there (a vanished fake output is noticed while it plays); no name to tell."""

    def close(self) -> None:
        """Nothing to release."""

    def vanish(self, at: float) -> None:
        """From fake time ``at`` on, never call the callback again (the sound server was stopped)."""
        self._vanish_at = at

    @contextmanager
    def open(self, sample_rate: int, fill: FillCallback) -> Iterator[object]:
        """Pull audio from ``fill`` in blocks as fake time passes."""
        self.opened += 1
        buffer = np.zeros(self.blocksize, dtype=np.float32)
        owed = 0.0
        lost = 0

        def play(block: Samples) -> None:
            self.frames += len(block)
            if self.record:
                self.played.append(block.copy())

        def tick(seconds: float) -> None:
            nonlocal owed, lost
            owed += seconds * sample_rate
            while owed >= self.blocksize:
                now = self.clock.now - (owed - self.blocksize) / sample_rate  # when this block is due
                owed -= self.blocksize
                if self._vanish_at is not None and now >= self._vanish_at:
                    owed = 0.0
                    return
                if any(start <= now < end for start, end in self._stalls):
                    lost += self.blocksize  # the device plays silence: those frames are gone for the player
                    play(np.zeros(self.blocksize, dtype=np.float32))
                    continue
                fill(buffer, lost)
                lost = 0
                play(buffer)

        fill(buffer)  # a real stream asks for its first block at once
        play(buffer)
        unsubscribe = self.clock.listen(tick)
        try:
            yield self
        finally:
            unsubscribe()

    def audio(self) -> Samples:
        """Everything played so far as one array."""
        return np.concatenate(self.played) if self.played else np.zeros(0, dtype=np.float32)
