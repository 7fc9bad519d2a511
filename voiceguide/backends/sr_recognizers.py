"""Recognizers reached through SpeechRecognition's ``AudioData``: ``sphinx-sr``, Vosk, Whisper.

(faster-whisper has its own module, ``whisper_stt``: it is used directly, with its filters.)

Each is optional: its library is imported only when the recognizer is built, and a model that is
configured but missing is a :class:`RecognizerError` naming the path and how to get it. Nothing here
downloads anything. Unlike SpeechRecognition's own ``recognize_vosk``/``recognize_whisper``, the
model is loaded once per process and reused.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voiceguide.backends.sphinx import SAMPLE_RATE, pcm16
from voiceguide.errors import BackendError, RecognizerError
from voiceguide.seams import Clip, Transcript

log = logging.getLogger(__name__)

_MODELS: dict[tuple[str, str], Any] = {}
_MODELS_LOCK = threading.Lock()


def _need(module: str, extra: str) -> Any:
    """Import ``module`` or raise :class:`BackendError` with the install command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendError(f"this recognizer needs the '{module}' package; "
                           f"install it with: pip install {extra}") from exc


def audio_data(clip: Clip) -> Any:
    """``clip`` as a SpeechRecognition ``AudioData`` (16 kHz, 16-bit mono)."""
    sr = _need("speech_recognition", "'voiceguide[listen]'")
    return sr.AudioData(pcm16(clip), SAMPLE_RATE, 2)


def _cached(kind: str, key: str, load: Callable[[], Any]) -> Any:
    """The model ``kind``/``key`` for this process, loaded by ``load`` on first use."""
    with _MODELS_LOCK:
        if (kind, key) not in _MODELS:
            _MODELS[(kind, key)] = load()
        return _MODELS[(kind, key)]


class SRSphinxRecognizer:
    """SpeechRecognition's ``recognize_sphinx`` as is (a new decoder every call): for comparison."""

    name = "sphinx-sr"

    def close(self) -> None:
        """Nothing of its own to release: its model, if any, is shared by the process."""

    def transcribe(self, clip: Clip) -> Transcript:
        """Recognize ``clip`` with ``recognize_sphinx``."""
        sr = _need("speech_recognition", "'voiceguide[listen]'")
        try:
            text = sr.Recognizer().recognize_sphinx(audio_data(clip))
        except sr.UnknownValueError:
            return Transcript("", None)
        except sr.RequestError as exc:
            raise RecognizerError(f"recognize_sphinx failed: {exc}") from exc
        return Transcript(str(text).strip(), None)


class VoskRecognizer:
    """Vosk (Kaldi) with a model directory you unpacked yourself."""

    name = "vosk"

    def __init__(self, model_dir: str | Path | None = None) -> None:
        if model_dir is None:
            raise RecognizerError("the vosk recognizer needs model_dir: unpack a model from "
                                  "https://alphacephei.com/vosk/models (e.g. vosk-model-small-en-us-0.15) "
                                  "and pass its folder")
        self.model_dir = Path(model_dir).expanduser()
        if not (self.model_dir / "am").is_dir() and not (self.model_dir / "conf").is_dir():
            raise RecognizerError(f"no Vosk model in {self.model_dir}: download one from "
                                  "https://alphacephei.com/vosk/models and unpack it there")
        self._vosk = _need("vosk", "vosk")
        self._lock = threading.Lock()

    def close(self) -> None:
        """Nothing of its own to release: its model, if any, is shared by the process."""

    def transcribe(self, clip: Clip) -> Transcript:
        """Recognize ``clip``; the confidence is the mean of Vosk's word confidences."""
        model = _cached("vosk", str(self.model_dir), lambda: self._vosk.Model(str(self.model_dir)))
        raw = audio_data(clip).get_raw_data(convert_rate=SAMPLE_RATE, convert_width=2)
        with self._lock:
            try:
                rec = self._vosk.KaldiRecognizer(model, SAMPLE_RATE)
                rec.SetWords(True)
                rec.AcceptWaveform(raw)
                result = json.loads(rec.FinalResult())
            except (RuntimeError, ValueError, OSError) as exc:
                raise RecognizerError(f"vosk failed: {exc}") from exc
        words = result.get("result") or []
        confs = [float(w["conf"]) for w in words if "conf" in w]
        return Transcript(str(result.get("text", "")).strip(), sum(confs) / len(confs) if confs else None)


def _confidence(segments: list[Any]) -> float | None:
    """exp(mean average log-probability) of Whisper segments, as dicts or objects."""
    logprobs = [s["avg_logprob"] if isinstance(s, dict) else s.avg_logprob for s in segments]
    return math.exp(sum(logprobs) / len(logprobs)) if logprobs else None


def _via_sr(adapter: Any, clip: Clip, options: dict[str, Any]) -> Transcript:
    """Run a Whisper-style model through SpeechRecognition's Whisper-compatible front end."""
    from speech_recognition.recognizers.whisper_local.base import WhisperCompatibleRecognizer

    try:
        result = WhisperCompatibleRecognizer(adapter).recognize(audio_data(clip), show_dict=True, **options)
    except (RuntimeError, ValueError, OSError) as exc:
        raise RecognizerError(f"whisper failed: {exc}") from exc
    return Transcript(str(result["text"]).strip(), _confidence(list(result["segments"])))


class WhisperRecognizer:
    """OpenAI Whisper with a model file already on this device (a name in the cache, or a .pt path)."""

    name = "whisper"

    def __init__(self, model: str = "base", language: str | None = "en", download_root: str | None = None) -> None:
        self._whisper = _need("whisper", "openai-whisper")
        root = Path(download_root).expanduser() if download_root else Path.home() / ".cache" / "whisper"
        known: dict[str, str] = getattr(self._whisper, "_MODELS", {})
        if model in known:
            path = root / Path(known[model]).name
            hint = ("fetch it once on a connected machine with: "
                    f"python -c \"import whisper; whisper.load_model('{model}')\"")
        else:
            path = Path(model).expanduser()
            hint = f"known model names: {', '.join(known) or 'see openai-whisper'}"
        if not path.is_file():
            raise RecognizerError(f"whisper model '{model}' not found at {path}; {hint}")
        self.path = path
        self.options: dict[str, Any] = {"language": language, "fp16": False} if language else {"fp16": False}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Nothing of its own to release: its model, if any, is shared by the process."""

    def transcribe(self, clip: Clip) -> Transcript:
        """Recognize ``clip``."""
        from speech_recognition.recognizers.whisper_local.whisper import TranscribableAdapter

        model = _cached("whisper", str(self.path), lambda: self._whisper.load_model(str(self.path)))
        with self._lock:
            return _via_sr(TranscribableAdapter(model), clip, self.options)
