"""A keyword spotter for tests of the real audio path: it hears a word when that word's test tone sounds.

pocketsphinx hearing a synthetic voice through a virtual microphone is a matter of luck, so a test of "saying
stop ends the session" that speaks to it proves the recognizer's accuracy at best and fails at random at worst.
With this spotter (``fake`` in ``backends.SPOTTERS``: ``voiceguide run --spotter fake``, ``spotter = "fake"``
under the daemon's ``[wake]``) a word is a pure tone at :func:`tone_hz` of it, at least :data:`MIN_SECONDS`
long: a signal no room, voice or chime makes by chance, and one that crosses any resampling in the sound path
unchanged. Everything after the spotter (the isolation test, the speaking gate, the repeat guard, the player or
the daemon, the fade) runs as with the real one, so the test proves that path without a recognizer's luck.
pocketsphinx's accuracy is measured in ``benchmarks/commands.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np

from voiceguide.backends.spotter import SAMPLE_RATE, Spotted
from voiceguide.errors import BackendError
from voiceguide.seams import Samples

FRAME = 800
"""Samples per analysed frame (50 ms at 16 kHz: 20 Hz per FFT bin)."""
LOWEST_HZ = 500.0
"""The lowest test tone (above every pitch of the fake voice and of real voices' fundamentals)."""
STEP_HZ = 100.0
"""Test tones lie on a grid this fine."""
TONES = 30
"""How many grid points the words are spread over (500-3400 Hz)."""
MIN_SECONDS = 0.3
"""A tone shorter than this is not a word."""
MIN_RMS = 0.01
"""A frame quieter than this (-40 dBFS) holds no word."""
PURITY = 0.8
"""Share of a frame's energy that must lie within 40 Hz of its strongest frequency."""


def tone_hz(word: str) -> float:
    """The frequency of ``word``'s test tone (the same on every machine and run)."""
    return LOWEST_HZ + STEP_HZ * (zlib.crc32(word.lower().encode("utf-8")) % TONES)


def tone(word: str, seconds: float = 0.5, amplitude: float = 0.3, rate: int = SAMPLE_RATE) -> Samples:
    """``word`` as this spotter hears it: its tone for ``seconds``, with 10 ms ramps (no click)."""
    n = round(seconds * rate)
    wave = amplitude * np.sin(2 * np.pi * tone_hz(word) * np.arange(n) / rate)
    ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.01 * rate))
    return (wave * ramp).astype(np.float32)


class ToneSpotter:
    """Spots each listed word's test tone; a word is reported when its tone ends."""

    def __init__(self, words: Iterable[str]) -> None:
        self.tones: dict[str, float] = {}
        for word in words:
            clash = next((w for w, hz in self.tones.items() if hz == tone_hz(word)), None)
            if clash is not None:
                raise BackendError(f"the fake spotter's test tones for '{clash}' and '{word}' coincide")
            self.tones[word] = tone_hz(word)
        self._window = np.hanning(FRAME)
        self._rest = np.zeros(0, dtype=np.float32)
        self._frames = 0  # frames analysed so far
        self._run: tuple[str, int] | None = None  # the word sounding now and its first frame

    def feed(self, block: Samples) -> list[Spotted]:
        """Analyse one block of 16 kHz audio; words whose tone ended in it."""
        audio = np.concatenate([self._rest, np.asarray(block, dtype=np.float32).reshape(-1)])
        whole = len(audio) // FRAME * FRAME
        self._rest = audio[whole:]
        found = []
        for at in range(0, whole, FRAME):
            word = self._word(audio[at:at + FRAME])
            if self._run is not None and self._run[0] != word:
                spotted = self._ended(self._frames)
                if spotted is not None:
                    found.append(spotted)
            if word is not None and self._run is None:
                self._run = (word, self._frames)
            self._frames += 1
        return found

    def _ended(self, frame: int) -> Spotted | None:
        assert self._run is not None
        word, first = self._run
        self._run = None
        if (frame - first) * FRAME < MIN_SECONDS * SAMPLE_RATE:
            return None
        return Spotted(word, first * FRAME, frame * FRAME)

    def _word(self, frame: Samples) -> str | None:
        x = frame.astype(np.float64)
        if float(np.sqrt(np.mean(x * x))) < MIN_RMS:
            return None
        power = np.abs(np.fft.rfft(x * self._window)) ** 2
        peak = int(np.argmax(power))
        near = round(40.0 * FRAME / SAMPLE_RATE)
        if power[max(0, peak - near):peak + near + 1].sum() < PURITY * power.sum():
            return None
        hz = peak * SAMPLE_RATE / FRAME
        return next((w for w, tone in self.tones.items() if abs(tone - hz) <= STEP_HZ / 2 - 10), None)

    def restart_due(self) -> bool:
        """Never: there is no decoder state to trim."""
        return False

    def restart(self) -> None:
        """Nothing to restart."""

    def close(self) -> None:
        """Nothing to release."""
