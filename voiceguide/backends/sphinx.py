"""The default recognizer: pocketsphinx with ONE decoder per process, kept alive between answers.

SpeechRecognition's ``recognize_sphinx`` builds a new decoder (and reads ~35 MB of model) on every
call. Here the decoder is built once per model and tuning, cached for the life of the process and
guarded by a lock, so later answers pay only for decoding. The model files are the ones
SpeechRecognition ships (its language model is markedly better on read speech than the one in the
pocketsphinx wheel, see docs/benchmarks.md); the pocketsphinx wheel's model is the fallback.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voiceguide.errors import BackendError, RecognizerError
from voiceguide.seams import Clip, Transcript

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""The rate the bundled acoustic models were trained on."""

TUNING: dict[str, Any] = {"fwdflat": False, "maxhmmpf": 2000}
"""Decoder settings on top of the model's: skip the second (flat-lexicon) pass and cap active HMMs
per frame. Measured on the LibriVox clips: the same WER as the defaults at about half the CPU."""

MIN_SECONDS = 0.1
"""Shorter clips hold no word and are not decoded."""

SILENCE = 10 ** (-70 / 20)
"""Peak level (-70 dBFS) below which a clip is taken as silence without decoding."""

INSTALL_HINT = "install it with: pip install 'voiceguide[listen]'"

_FILLERS = ("<s>", "</s>", "<sil>")


@dataclass(frozen=True)
class SphinxModel:
    """Where a pocketsphinx model's three parts are."""

    acoustic: Path
    """Directory of acoustic model parameters (``mdef``, ``means`` ...)."""
    language_model: Path
    """The n-gram language model (``.lm.bin`` or ARPA)."""
    dictionary: Path
    """The pronunciation dictionary."""

    def check(self) -> None:
        """Raise :class:`RecognizerError` naming the first part that is missing."""
        for part, path, is_dir in (("acoustic model directory", self.acoustic, True),
                                   ("language model", self.language_model, False),
                                   ("pronunciation dictionary", self.dictionary, False)):
            if not (path.is_dir() if is_dir else path.is_file()):
                raise RecognizerError(f"pocketsphinx {part} not found: {path}; {INSTALL_HINT}, "
                                      "or pass model_dir pointing at a complete model")


def _package_dir(name: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def model_in(folder: Path) -> SphinxModel:
    """The model in ``folder``, laid out like SpeechRecognition's ``pocketsphinx-data/en-US`` or like
    the pocketsphinx wheel's ``model/en-us``."""
    if (folder / "acoustic-model").is_dir() or (folder / "language-model.lm.bin").exists():
        return SphinxModel(folder / "acoustic-model", folder / "language-model.lm.bin",
                           folder / "pronounciation-dictionary.dict")  # sic: SpeechRecognition's spelling
    name = folder.name
    return SphinxModel(folder / name, folder / f"{name}.lm.bin", folder / f"cmudict-{name}.dict")


def default_model() -> SphinxModel:
    """SpeechRecognition's en-US model when installed, else the one in the pocketsphinx wheel."""
    sr_dir = _package_dir("speech_recognition")
    if sr_dir is not None and (sr_dir / "pocketsphinx-data" / "en-US").is_dir():
        return model_in(sr_dir / "pocketsphinx-data" / "en-US")
    ps_dir = _package_dir("pocketsphinx")
    if ps_dir is None:
        raise BackendError(f"the sphinx recognizer needs pocketsphinx; {INSTALL_HINT}")
    log.warning("SpeechRecognition's sphinx model not found; using pocketsphinx's (less accurate)")
    return model_in(ps_dir / "model" / "en-us")


def pcm16(clip: Clip, rate: int = SAMPLE_RATE) -> bytes:
    """``clip`` as 16-bit little-endian mono PCM at ``rate`` (resampled with soxr when needed)."""
    samples = np.asarray(clip.samples, dtype=np.float32)
    if clip.sample_rate != rate and len(samples):
        import soxr

        samples = np.asarray(soxr.resample(samples, clip.sample_rate, rate, quality="HQ"), dtype=np.float32)
    # scaled as libsndfile scales float to 16-bit (by 32768, clipped): an answer the journal keeps as 16-bit
    # FLAC then gives a recognizer exactly the samples it heard live, so retranscribing it gives the same words
    scaled = np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767)
    return scaled.astype("<i2").tobytes()


class _Loaded:
    """A decoder and the lock that keeps one utterance at a time on it."""

    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder
        self.lock = threading.Lock()


_CACHE: dict[tuple[object, ...], _Loaded] = {}
_CACHE_LOCK = threading.Lock()
_loads = 0


def load_count() -> int:
    """How many decoders this process has built (tests check that a second answer builds none)."""
    return _loads


def _load(model: SphinxModel, tuning: dict[str, Any]) -> _Loaded:
    """The process-wide decoder for ``model`` and ``tuning``, built on first use."""
    global _loads
    key = (model, tuple(sorted(tuning.items())))
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        model.check()
        try:
            import pocketsphinx
        except ImportError as exc:
            raise BackendError(f"the sphinx recognizer needs pocketsphinx; {INSTALL_HINT}") from exc
        try:
            decoder = pocketsphinx.Decoder(hmm=str(model.acoustic), lm=str(model.language_model),
                                           dict=str(model.dictionary), logfn=os.devnull, **tuning)
        except (RuntimeError, ValueError, KeyError, OSError) as exc:
            raise RecognizerError(f"pocketsphinx cannot load the model in {model.acoustic.parent}: {exc}") from exc
        _loads += 1
        log.info("loaded pocketsphinx model from %s", model.acoustic.parent)
        loaded = _CACHE[key] = _Loaded(decoder)
        return loaded


class SphinxRecognizer:
    """Offline pocketsphinx recognition with a decoder that stays loaded for the whole process."""

    name = "sphinx"

    def __init__(self, model_dir: str | Path | None = None, **tuning: Any) -> None:
        """``model_dir``: a model folder (see :func:`model_in`); ``tuning``: pocketsphinx settings that
        replace :data:`TUNING` (e.g. ``fwdflat=True``). The model loads on first use or :meth:`load`."""
        self.model = model_in(Path(model_dir).expanduser()) if model_dir else default_model()
        self.model.check()
        self.tuning = {**TUNING, **tuning}

    def load(self) -> None:
        """Load the model now (e.g. while the first question is being spoken)."""
        _load(self.model, self.tuning)

    @property
    def decoder(self) -> Any:
        """The shared pocketsphinx decoder (loads it if needed)."""
        return _load(self.model, self.tuning).decoder

    def close(self) -> None:
        """Nothing of its own to release: the loaded model is shared by the process."""

    def transcribe(self, clip: Clip) -> Transcript:
        """Decode ``clip`` as one utterance; the confidence is the mean posterior of the words heard."""
        loaded = _load(self.model, self.tuning)
        if clip.seconds < MIN_SECONDS or not np.any(np.abs(clip.samples) >= SILENCE):
            return Transcript("", None)  # pocketsphinx fails on empty input and invents words in silence
        audio = pcm16(clip)
        with loaded.lock:
            decoder = loaded.decoder
            try:
                decoder.start_utt()
                decoder.process_raw(audio, False, True)
                decoder.end_utt()
                hyp = decoder.hyp()
                posteriors = [seg.prob for seg in decoder.seg() if _is_word(seg.word)] if hyp else []
            except (RuntimeError, ValueError, IndexError) as exc:
                raise RecognizerError(f"pocketsphinx failed to decode: {exc}") from exc
        if hyp is None or not hyp.hypstr.strip():
            return Transcript("", None)
        confidence = float(np.mean(posteriors)) if posteriors else None
        return Transcript(hyp.hypstr.strip(), confidence)


def _is_word(token: str) -> bool:
    """False for sentence markers, silence and fillers like ``[NOISE]``."""
    return token not in _FILLERS and not token.startswith("[") and not token.startswith("++")
