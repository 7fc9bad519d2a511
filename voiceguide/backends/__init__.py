"""Backends by name: registries (``registry``) of factories (``factories``), which import their heavy library
only when called; and the choice of a speech backend and a recognizer for a session."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceguide.backends import factories
from voiceguide.backends.registry import Backend, Registry
from voiceguide.backends.system_clock import (
    SystemClock as _SystemClock,  # imported here so the submodule never shadows system_clock()
)
from voiceguide.errors import BackendError, SpeechError, VoiceguideError

if TYPE_CHECKING:  # the seams bring numpy: reading a config (the phone remote's process does) needs only the names
    import numpy as np

    from voiceguide.seams import AudioInput, AudioOutput, Clock, Recognizer, Speaker, SpeechParams

    Takes = Mapping[str, list[np.ndarray]]
    """A taught spotter's takes: each word's cepstral frames, one array per take."""

log = logging.getLogger(__name__)










TTS: Registry[Speaker] = Registry("speech backend", {
    "espeak": factories.espeak, "pyttsx3": factories.pyttsx3, "fake": factories.fake_speaker,
    "piper": Backend(factories.piper, voice_search=True),
})
"""Speech backends, built with no arguments. ``piper`` (a natural voice; the ``voiceguide[piper]`` extra) is the
default for a language it has a voice for, English with the bundled one; ``espeak`` (espeak-ng, a process per
line) is the dependable default for every other language where espeak-ng is installed, ``pyttsx3`` (the system's
voices: SAPI5 on Windows, NSSpeechSynthesizer on macOS) elsewhere."""

VOICE_SEARCH = tuple(TTS.names("voice_search"))
"""Backends, after the default one, whose voices a ``--voice`` without ``--tts`` may name."""


def fallback_tts() -> str:
    """The dependable speech backend: ``espeak`` if espeak-ng is installed, else ``pyttsx3``."""
    return "espeak" if shutil.which("espeak-ng") else "pyttsx3"


NATURAL_MIN_MEMORY_MB = 1024
"""Piper is the default only on a machine with at least this much memory. Rendering with it, the daemon's speech
child peaked at 349 MB and the daemon at 123 MB (docs/benchmarks.md, "Voices"): too much for a Pi Zero 2 W's
512 MB, where espeak-ng stays the default and Piper is used only when named."""


def memory_mb() -> float | None:
    """The machine's memory in MB, or None where it cannot be told."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (ValueError, OSError, AttributeError):
        return None


def natural_tts(language: str) -> str | None:
    """``piper`` when it is installed here with a voice for ``language`` (found from files: nothing loads) and
    the machine has the memory for it (:data:`NATURAL_MIN_MEMORY_MB`)."""
    from voiceguide.backends import piper_tts

    memory = memory_mb()
    if memory is not None and memory < NATURAL_MIN_MEMORY_MB:
        return None
    return "piper" if piper_tts.available(language) else None


def default_tts(language: str | None = None) -> str:
    """The speech backend used unless one is named: the natural voice for ``language`` where there is one,
    else :func:`fallback_tts` (also when no language is given)."""
    natural = natural_tts(language) if language else None
    return natural or fallback_tts()


PACK = "pack"
"""The backend of recorded voice packs (``voice_pack``): chosen by a ``--voice`` that names a pack."""


def _pack_speaker(cache: Path | None) -> Speaker:
    """Voice packs; their unrecorded lines are spoken by the default voice of each language, cached."""
    from voiceguide.backends.voice_pack import PackSpeaker
    from voiceguide.seams import SpeechParams

    return PackSpeaker(lambda language: speaker_for(None, SpeechParams(language=language), cache)[0])


def speaker(name: str, cache: Path | None = None) -> Speaker:
    """The speech backend called ``name``, wrapped in the on-disk cache unless ``cache`` is None (a pack's
    recordings are files already: only its fallback voice is cached)."""
    if name == PACK:
        return _pack_speaker(cache)
    backend = TTS.make(name)
    if cache is None:
        return backend
    from voiceguide.backends.speech_cache import CachedSpeaker

    return CachedSpeaker(backend, cache)


def _has_voice(name: str, voice: str) -> bool:
    """Whether the backend called ``name`` loads here and has ``voice``."""
    from voiceguide.seams import SpeechParams

    try:
        backend = TTS[name]()
    except VoiceguideError as exc:
        log.info("not looking for voice %r in %s: %s", voice, name, exc)
        return False
    try:
        backend.resolve_voice(SpeechParams(voice=voice))
        return True
    except SpeechError:
        return False
    finally:
        backend.close()


def tts_for(name: str | None, voice: str | None, language: str | None = None) -> str:
    """The backend to speak with: ``name`` when given; else the one that has ``voice`` (the dependable
    backend first, then :data:`VOICE_SEARCH`); else the default for ``language``. A voice no backend has is
    a :class:`SpeechError`."""
    if name is not None:
        return name
    if not voice:
        return default_tts(language)
    from voiceguide.backends import voice_pack

    if voice_pack.is_pack(voice):
        return PACK
    for candidate in (fallback_tts(), *VOICE_SEARCH):
        if _has_voice(candidate, voice):
            return candidate
    raise SpeechError(f"no voice called '{voice}'; 'voiceguide voices' lists the voices here")


def speaker_for(name: str | None, params: SpeechParams, cache: Path | None = None,
                get: Callable[[str], Speaker] | None = None) -> tuple[Speaker, str | None]:
    """The backend for a session spoken with ``params`` (``name``, or else chosen by :func:`tts_for`), and a
    note if it had to fall back. ``get(name)`` gives the backend called ``name`` (default: a new one, with
    the ``cache``); a caller that keeps its backends for their life (``engine.builder``) passes its own.

    When a named backend other than the dependable one has no voice for ``params.language`` (no voice named),
    the session is spoken by the default backend for the language instead; the note is one line saying so,
    for the person to see. The natural voice chosen by default that cannot start here is quietly replaced by
    the dependable one (logged, no note: nobody asked for it).
    """
    make = get if get is not None else (lambda backend: speaker(backend, cache))
    chosen_name = tts_for(name, params.voice, params.language)
    default = fallback_tts()
    if name is None and not params.voice and chosen_name != default:  # the natural voice, by default
        try:
            return make(chosen_name), None
        except VoiceguideError as exc:
            log.info("the %s voice cannot start here (%s); speaking with %s", chosen_name, exc, default)
            return make(default), None
    chosen = make(chosen_name)
    if chosen_name == default or params.voice:
        return chosen, None
    try:
        chosen.resolve_voice(params)
    except SpeechError as exc:
        default = default_tts(params.language)
        note = f"{chosen_name} has no voice for language '{params.language}'; using {default} for this session"
        log.info("%s (%s)", note, exc)
        return make(default), note
    return chosen, None




OUTPUTS: Registry[AudioOutput] = Registry("audio output", {"sounddevice": factories.sounddevice_output})
"""Audio outputs, given an optional device name. The fake output is built with its clock (see ``fake``)."""


def output(name: str, device: str | None = None) -> AudioOutput:
    """The audio output called ``name`` for ``device``."""
    return OUTPUTS.make(name, device)




INPUTS: Registry[AudioInput] = Registry("audio input", {"sounddevice": factories.sounddevice_input})
"""Microphones, given an optional device name. The fake input is built with its clock (see ``fake_input``)."""


def audio_input(name: str = "sounddevice", device: str | None = None) -> AudioInput:
    """The microphone backend called ``name`` for ``device``."""
    return INPUTS.make(name, device)












def whisper_ready(language: str = "en", model: str | None = None) -> bool:
    """Whether faster-whisper is installed with a model for ``language`` (or ``model`` is a Whisper one)."""
    import importlib.util

    from voiceguide.backends import whisper_models

    if importlib.util.find_spec("faster_whisper") is None:
        return False
    if model is None:
        return whisper_models.choose(language) is not None
    if model in whisper_models.MODELS:
        return whisper_models.installed(whisper_models.MODELS[model])
    return (Path(model).expanduser() / "model.bin").is_file()


def _auto(model: str | None = None, language: str = "en") -> Recognizer:
    """faster-whisper where its model is installed (or ``model`` is a Whisper folder); else pocketsphinx."""
    if whisper_ready(language, model):
        return factories.faster_whisper(model=model, language=language)
    log.info("no Whisper model for '%s' is installed: answers are recognised by pocketsphinx", language)
    return factories.sphinx(model_dir=model) if model else factories.sphinx()




RECOGNIZERS: Registry[Recognizer] = Registry("recognizer", {
    "auto": Backend(_auto, model_option="model", language_aware=True),
    "sphinx": Backend(factories.sphinx, model_option="model_dir"),
    "sphinx-sr": Backend(factories.sphinx_sr),
    "vosk": Backend(factories.vosk, model_option="model_dir"),
    "whisper": Backend(factories.whisper, model_option="model", language_aware=True),
    "faster-whisper": Backend(factories.faster_whisper, model_option="model", language_aware=True),
    "fake": Backend(factories.fake_recognizer),
})
"""Speech recognizers, given their keyword config (e.g. ``model_dir``, ``model``); ``auto`` is the default:
faster-whisper where its model is installed, pocketsphinx otherwise. Each says which setting a ``--model``
goes to and whether it is told the session's language."""

DEFAULT_RECOGNIZER = "auto"
"""The recognizer used unless one is named."""

LANGUAGE_AWARE = frozenset(RECOGNIZERS.names("language_aware"))
"""Recognizers that are told the session's language."""


def recognizer(name: str = DEFAULT_RECOGNIZER, **config: Any) -> Recognizer:
    """The recognizer called ``name`` built with ``config``; its model loads on first use, never from the network."""
    entry = RECOGNIZERS.get_backend(name)
    try:
        return entry(**config)
    except TypeError as exc:
        raise BackendError(f"bad settings for recognizer '{name}': {exc}") from exc


MODEL_OPTION: dict[str, str] = {name: entry.model_option for name, entry in RECOGNIZERS.items()
                                if entry.model_option is not None}
"""Which setting of each recognizer a ``--model`` value goes to (a folder, or a Whisper name or path)."""


def recognizer_config(name: str = DEFAULT_RECOGNIZER, model: str | None = None,
                      language: str | None = None) -> dict[str, Any]:
    """The keyword config of recognizer ``name`` for ``model`` (from ``--model``) and a session ``language``."""
    config: dict[str, Any] = {}
    if model is not None:
        if name not in MODEL_OPTION:
            raise BackendError(f"the '{name}' recognizer takes no model; --model is for {', '.join(MODEL_OPTION)}")
        config[MODEL_OPTION[name]] = model
    if language and name in RECOGNIZERS and RECOGNIZERS[name].language_aware:
        config["language"] = language
    return config


def recognizer_with_model(name: str = DEFAULT_RECOGNIZER, model: str | None = None,
                          language: str | None = None) -> Recognizer:
    """The recognizer called ``name``, with ``model`` (from ``--model``) as its model folder or name, for
    answers in ``language`` (used by the recognizers that can be told it)."""
    return recognizer(name, **recognizer_config(name, model, language))


def _pocketsphinx_spotter(sensitivity: Mapping[str, float], takes: Takes | None = None) -> Any:
    from voiceguide.backends.spotter import PocketsphinxSpotter

    return PocketsphinxSpotter(sensitivity)


def _fake_spotter(sensitivity: Mapping[str, float], takes: Takes | None = None) -> Any:
    from voiceguide.backends.fake_spotter import ToneSpotter

    return ToneSpotter(sensitivity)


def _taught_spotter(sensitivity: Mapping[str, float], takes: Takes | None = None) -> Any:
    if not takes:
        raise BackendError("the taught keyword spotter hears only taught words, and none are taught "
                           "('voiceguide commands teach')")
    from voiceguide.backends.taught_spotter import TaughtSpotter

    return TaughtSpotter(takes)


SPOTTERS: Registry[Any] = Registry("keyword spotter", {
    "pocketsphinx": _pocketsphinx_spotter,
    "fake": _fake_spotter,
    "taught": Backend(_taught_spotter, taught=True),
})
"""Keyword spotters for voice commands and the wake phrase, given each word's sensitivity 0..1 and, for a
``taught`` entry, the person's takes of each word (the cepstral frames ``listen.taught_store`` keeps); each is a
``listen.voice_commands.Spotter`` (typed ``Any`` here: that protocol lives in the layer above). ``pocketsphinx``
is the default (English words); ``taught`` hears the words the person taught, in any language (which spotter a
session's language gets is chosen in ``listen.command_choice``); ``fake`` hears only test tones
(``fake_spotter``), for tests of the real audio path."""

DEFAULT_SPOTTER = "pocketsphinx"
"""The keyword spotter used unless one is named."""


def system_clock() -> Clock:
    """The real clock."""
    return _SystemClock()
