"""How each backend is built: one small factory per backend, importing its heavy library only when called.

The registries in :mod:`voiceguide.backends` map names to these; nothing here runs at import, so reading a
config or building the CLI's parser loads none of pyttsx3, sounddevice, pocketsphinx, vosk or faster-whisper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voiceguide.seams import AudioInput, AudioOutput, Recognizer, Speaker


def espeak() -> Speaker:
    from voiceguide.backends.espeak_tts import EspeakSpeaker

    return EspeakSpeaker()


def pyttsx3() -> Speaker:
    from voiceguide.backends.pyttsx3_tts import Pyttsx3Speaker

    return Pyttsx3Speaker()


def fake_speaker() -> Speaker:
    from voiceguide.backends.fake import FakeSpeaker

    return FakeSpeaker()


def piper() -> Speaker:
    from voiceguide.backends.piper_tts import PiperSpeaker

    return PiperSpeaker()


def sounddevice_output(device: str | None) -> AudioOutput:
    from voiceguide.backends.sounddevice_out import SoundDeviceOutput

    return SoundDeviceOutput(device)


def sounddevice_input(device: str | None) -> AudioInput:
    from voiceguide.backends.sounddevice_in import SoundDeviceInput

    return SoundDeviceInput(device)


def sphinx(**config: Any) -> Recognizer:
    from voiceguide.backends.sphinx import SphinxRecognizer

    return SphinxRecognizer(**config)


def sphinx_sr(**config: Any) -> Recognizer:
    from voiceguide.backends.sr_recognizers import SRSphinxRecognizer

    return SRSphinxRecognizer(**config)


def vosk(**config: Any) -> Recognizer:
    from voiceguide.backends.sr_recognizers import VoskRecognizer

    return VoskRecognizer(**config)


def whisper(**config: Any) -> Recognizer:
    from voiceguide.backends.sr_recognizers import WhisperRecognizer

    return WhisperRecognizer(**config)


def faster_whisper(**config: Any) -> Recognizer:
    from voiceguide.backends.whisper_stt import FasterWhisperRecognizer

    return FasterWhisperRecognizer(**config)


def fake_recognizer(**config: Any) -> Recognizer:
    from voiceguide.backends.fake_stt import FakeRecognizer

    return FakeRecognizer(**config)
