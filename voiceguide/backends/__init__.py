"""Backends by name: plain dicts of factories, each importing its heavy library only when called."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import BackendError
from ..seams import AudioOutput, Clock, Speaker


def _pyttsx3() -> Speaker:
    from .pyttsx3_tts import Pyttsx3Speaker

    return Pyttsx3Speaker()


def _fake_speaker() -> Speaker:
    from .fake import FakeSpeaker

    return FakeSpeaker()


TTS: dict[str, Callable[[], Speaker]] = {"pyttsx3": _pyttsx3, "fake": _fake_speaker}
"""Speech backends; ``pyttsx3`` is the default."""


def speaker(name: str, cache: Path | None = None) -> Speaker:
    """The speech backend called ``name``, wrapped in the on-disk cache unless ``cache`` is None."""
    try:
        factory = TTS[name]
    except KeyError:
        raise BackendError(f"unknown speech backend '{name}'; known: {', '.join(TTS)}") from None
    backend = factory()
    if cache is None:
        return backend
    from ..speech_cache import CachedSpeaker

    return CachedSpeaker(backend, cache)


def _sounddevice_output(device: str | None) -> AudioOutput:
    from .sounddevice_out import SoundDeviceOutput

    return SoundDeviceOutput(device)


OUTPUTS: dict[str, Callable[[str | None], AudioOutput]] = {"sounddevice": _sounddevice_output}
"""Audio outputs, given an optional device name. The fake output is built with its clock (see ``fake``)."""


def output(name: str, device: str | None = None) -> AudioOutput:
    """The audio output called ``name`` for ``device``."""
    try:
        return OUTPUTS[name](device)
    except KeyError:
        raise BackendError(f"unknown audio output '{name}'; known: {', '.join(OUTPUTS)}") from None


def system_clock() -> Clock:
    """The real clock."""
    from .system_clock import SystemClock

    return SystemClock()
