"""Keyword spotting with pocketsphinx: one long-lived decoder in keyword-list search, and a second
small decoder that checks each spotted word.

The spotter is loaded once and fed 16 kHz blocks for the whole session; it reports each keyword it
spots with where the word lies in the stream. Thresholds are per word: a less negative exponent is
stricter (fewer false triggers, more misses). The checker decodes the stretch of sound around a
spotted word with a grammar that allows only the listed words and says which one fits best; a word
the spotter imagined in other speech is often a different word to the checker.

Both decoders use a dictionary of just the listed words (cut from the model's 130 000-word
dictionary), so each loads in under 10 ms and takes about 6 MB instead of 30 MB.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from voiceguide.errors import BackendError
from voiceguide.seams import Samples

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""The rate the en-us acoustic model expects."""
FRAME_SAMPLES = 160
"""pocketsphinx analyses 100 frames per second."""
NEEDS_POCKETSPHINX = "Voice commands need pocketsphinx: pip install 'voiceguide[listen]'"
"""What to do when pocketsphinx is not installed."""
RESTART_SECONDS = 60.0
"""Start a fresh utterance about this often (at a quiet block) so decoder state stays small."""


def threshold_for(sensitivity: float) -> float:
    """The keyword threshold for a sensitivity 0..1: 1e-(10 + 40*s), so 0 gives 1e-10 (strict), 1 gives 1e-50.

    Higher sensitivity hears more and mishears more. (SpeechRecognition's ``keyword_entries`` maps its
    sensitivity s to 1e(100*s - 110), which runs the other way: there a larger s is stricter.)
    """
    return float(10.0 ** -(10.0 + 40.0 * min(1.0, max(0.0, sensitivity))))


@dataclass(frozen=True)
class Spotted:
    """A keyword the decoder heard."""

    word: str
    """The keyword as listed."""
    start: int
    """First sample of the word, counted from the first block fed."""
    end: int
    """Sample just after the word."""


class PocketsphinxSpotter:
    """Feed blocks with :meth:`feed`; get back the keywords newly spotted in them."""

    def __init__(self, sensitivity: Mapping[str, float]) -> None:
        self.sensitivity = dict(sensitivity)
        self._decoder = _decoder(self.sensitivity)
        self._utt_start = 0
        self._fed = 0
        self._seen: set[tuple[str, int]] = set()
        self._decoder.start_utt()

    def feed(self, block: Samples) -> list[Spotted]:
        """Decode one block of 16 kHz float32 audio."""
        pcm = (np.clip(block, -1.0, 1.0) * 32767.0).astype(np.int16)
        try:
            self._decoder.process_raw(pcm.tobytes(), False, False)
            found: list[Spotted] = []
            for seg in self._decoder.seg() or ():
                word = str(seg.word).strip()
                key = (word, int(seg.start_frame))
                if word in self.sensitivity and key not in self._seen:
                    self._seen.add(key)
                    found.append(Spotted(word, self._utt_start + int(seg.start_frame) * FRAME_SAMPLES,
                                         self._utt_start + (int(seg.end_frame) + 1) * FRAME_SAMPLES))
        except RuntimeError as exc:
            raise BackendError(f"the keyword spotter failed: {exc}") from exc
        self._fed += len(pcm)
        return found

    def restart_due(self) -> bool:
        """Whether the current utterance is old enough to be restarted at the next quiet moment."""
        return self._fed - self._utt_start >= RESTART_SECONDS * SAMPLE_RATE

    def restart(self) -> None:
        """End the utterance and begin a new one (call between words)."""
        try:
            self._decoder.end_utt()
            self._decoder.start_utt()
        except RuntimeError as exc:
            raise BackendError(f"the keyword spotter failed: {exc}") from exc
        self._utt_start = self._fed
        self._seen.clear()

    def close(self) -> None:
        """End the current utterance."""
        try:
            self._decoder.end_utt()
        except RuntimeError:
            log.debug("end_utt failed while closing", exc_info=True)


class PocketsphinxChecker:
    """Which of the listed words (or phrases) best fits a short stretch of audio."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = sorted(set(words))
        rule = " | ".join(self.words)
        grammar = f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {rule};\n"
        with _files(self.words, (".gram", grammar)) as (dictionary, path):
            self._decoder = _make("keyword checker", dict=dictionary, jsgf=path)

    def best(self, audio: Samples) -> str:
        """The listed word that fits ``audio`` (16 kHz) best, or "" if none could be aligned."""
        pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
        try:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm.tobytes(), False, True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
        except RuntimeError as exc:
            raise BackendError(f"the keyword checker failed: {exc}") from exc
        return "" if hyp is None else str(hyp.hypstr).strip()


def _decoder(sensitivity: Mapping[str, float]) -> Any:
    lines = "".join(f"{word} /{threshold_for(s):.0e}/\n" for word, s in sensitivity.items())
    with _files(sensitivity, (".kws", lines)) as (dictionary, path):
        decoder = _make("keyword spotter", dict=dictionary, kws=path)
    log.info("keyword spotter ready: %s", ", ".join(f"{w} ({s:g})" for w, s in sensitivity.items()))
    return decoder


def _make(what: str, **files: str) -> Any:
    try:
        from pocketsphinx import Decoder
    except ImportError as exc:
        raise BackendError(NEEDS_POCKETSPHINX) from exc
    try:
        return Decoder(loglevel="FATAL", **files)
    except (RuntimeError, ValueError, OSError) as exc:
        raise BackendError(f"cannot load the {what}: {exc}") from exc


@contextmanager
def _files(words: Iterable[str], search: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """Temporary files: a dictionary of the words' pronunciations and the search (suffix, text)."""
    paths = []
    try:
        for suffix, text in ((".dict", pronunciations(words)), search):
            fd, path = tempfile.mkstemp(suffix=suffix, text=True)
            paths.append(path)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        yield paths[0], paths[1]
    finally:
        for path in paths:
            os.unlink(path)


def pronunciations(words: Iterable[str]) -> str:
    """The lines of the en-us dictionary for every word in ``words`` (phrases are split into words);
    :class:`BackendError` names any word it does not know."""
    return _pronunciations(frozenset(w for phrase in words for w in phrase.lower().split()))


@functools.lru_cache(maxsize=8)
def _pronunciations(wanted: frozenset[str]) -> str:
    """Read once per set of words: the spotter and its checker ask for the same ones."""
    try:
        from pocketsphinx import get_model_path
    except ImportError as exc:
        raise BackendError(NEEDS_POCKETSPHINX) from exc
    path = os.path.join(get_model_path(), "en-us", "cmudict-en-us.dict")
    found: dict[str, list[str]] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                word = line.split(maxsplit=1)[0].split("(")[0] if line.strip() else ""
                if word in wanted:
                    found.setdefault(word, []).append(line if line.endswith("\n") else line + "\n")
    except OSError as exc:
        raise BackendError(f"cannot read the pocketsphinx dictionary {path}: {exc}") from exc
    missing = sorted(wanted - found.keys())
    if missing:
        raise BackendError(f"not in the en-us pronunciation dictionary: {', '.join(missing)}; pick other words")
    return "".join(line for w in sorted(found) for line in found[w])
