"""The engine's seams: each outside dependency is one small interface here.

Real backends live in ``voiceguide.backends`` and are chosen by name from plain dicts there;
the engine only ever sees these protocols.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]
"""Mono audio as float32 in -1..1."""



class FillCallback(Protocol):
    """Called by an output with a buffer to fill completely; must not block."""

    def __call__(self, out: Samples, lost: int = 0) -> None:
        """Fill ``out``. ``lost``: frames the device played without us since the last call (an underrun: it
        ran dry and played silence, or dropped what it had), negative if it dropped more than it waited."""
        ...


@dataclass(frozen=True)
class Clip:
    """A piece of mono audio."""

    samples: Samples
    """The audio, float32 in -1..1."""
    sample_rate: int
    """Samples per second."""

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class SpeechParams:
    """How to speak a line."""

    language: str = "en"
    """Language code used to pick a voice when ``voice`` is None."""
    voice: str | None = None
    """Voice id or name; None picks one for the language."""
    rate: int = 135
    """Words per minute."""
    volume: float = 1.0
    """Loudness 0..1 passed to the engine."""
    pitch: int | None = None
    """Base pitch 0..100 (50 is normal); None leaves the voice's own. Only backends that can honour it do
    (pyttsx3 with espeak-ng); the others ignore it."""


@dataclass(frozen=True)
class Voice:
    """A voice a speech backend offers."""

    id: str
    """Identifier to pass back as ``voice``."""
    name: str
    """Human-readable name."""
    languages: tuple[str, ...]
    """Language codes it speaks."""


class Speaker(Protocol):
    """Text-to-speech: turns a line into PCM before it is needed."""

    name: str
    """Backend name, part of the speech cache key."""

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        """Render ``text`` to audio."""
        ...

    def voices(self) -> list[Voice]:
        """The voices available."""
        ...

    def resolve_voice(self, params: SpeechParams) -> str:
        """The id of the voice ``synthesize`` would use for these params."""
        ...

    def close(self) -> None:
        """Release the engine (its thread, process or files); the speaker is not used after this."""
        ...


@dataclass(frozen=True)
class Transcript:
    """What a recognizer heard."""

    text: str
    """The words, lowercase as the recognizer gives them; empty when nothing was understood."""
    confidence: float | None = None
    """How sure the recognizer is, 0..1, or None when it cannot say."""


class Recognizer(Protocol):
    """Speech-to-text for captured answers (used by the listening feature)."""

    name: str
    """Backend name."""

    def transcribe(self, clip: Clip) -> Transcript:
        """The words heard in ``clip`` (any sample rate; backends resample as they need)."""
        ...

    def close(self) -> None:
        """Release the model or worker process (a model shared by the process stays loaded)."""
        ...


class AudioOutput(Protocol):
    """A device that pulls audio from a callback on its own schedule."""

    def open(self, sample_rate: int, fill: FillCallback) -> AbstractContextManager[object]:
        """Start one long-lived stream calling ``fill``; closing the context stops it."""
        ...

    def check(self) -> str | None:
        """Raise :class:`~voiceguide.errors.AudioUnavailable` if the device is not there (before time is spent
        on speech); else its name, or None when there is none to tell."""
        ...

    def close(self) -> None:
        """Release what the output holds between streams (each stream closes with its ``open`` context)."""
        ...


class AudioInput(Protocol):
    """A microphone delivering blocks of mono audio (used by the listening feature)."""

    def open(self, sample_rate: int, deliver: Callable[[Samples], None]) -> AbstractContextManager[object]:
        """Start capturing; ``deliver`` receives each block."""
        ...

    def check(self) -> str | None:
        """Raise :class:`~voiceguide.errors.AudioUnavailable` if the microphone is not there; else its name,
        or None when there is none to tell."""
        ...

    def close(self) -> None:
        """Release what the input holds between streams (each stream closes with its ``open`` context)."""
        ...


class Clock(Protocol):
    """Time, injected so tests of long sessions take milliseconds."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``event``; return whether it is set."""
        ...

    def close(self) -> None:
        """Release what the clock holds (the real and the fake clocks hold nothing)."""
        ...
