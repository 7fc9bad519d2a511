"""Keyword spotting with pocketsphinx: one long-lived decoder in keyword-list search.

The decoder is loaded once (about half a second) and fed 16 kHz blocks for the whole session;
it reports each keyword it spots with where the word lies in the stream. Thresholds are per
word: a less negative exponent is stricter (fewer false triggers, more misses).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BackendError
from ..seams import Samples

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""The rate the en-us acoustic model expects."""
FRAME_SAMPLES = 160
"""pocketsphinx analyses 100 frames per second."""
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


def _decoder(sensitivity: Mapping[str, float]) -> Any:
    try:
        from pocketsphinx import Decoder
    except ImportError as exc:
        raise BackendError("Voice commands need pocketsphinx: pip install 'voiceguide[listen]'") from exc
    lines = "".join(f"{word} /{threshold_for(s):.0e}/\n" for word, s in sensitivity.items())
    fd, path = tempfile.mkstemp(suffix=".kws", text=True)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(lines)
        decoder = Decoder(kws=path, loglevel="FATAL")
    except (RuntimeError, ValueError, OSError) as exc:
        raise BackendError(f"cannot load the keyword spotter: {exc}") from exc
    finally:
        os.unlink(path)
    log.info("keyword spotter ready: %s", ", ".join(f"{w} ({s:g})" for w, s in sensitivity.items()))
    return decoder
