"""Taught voice commands, the matching: a word as a sequence of cepstral frames, compared by time warping.

A language-independent way to hear a handful of command words: the person says each word a few times
(``voiceguide commands teach``), and a word heard later is compared with those takes. No model of any
language is involved, so Dutch (which pocketsphinx has no model for here) works as well as English.

- **Features.** 25 ms Hann frames every 10 ms, a 26-band mel filterbank (100-7000 Hz), band energies more
  than 30 dB below the word's loudest raised to that floor (room noise lives there: on synthetic Dutch at
  -40 dBFS of noise this separated right from wrong words best of 20-80 dB), log, DCT to 13 cepstral
  coefficients of which c1..c12 are kept (c0 is loudness: a word said softly is the same word),
  with the utterance's own mean taken off (a different microphone or room is mostly a constant offset).
- **Distance.** Dynamic time warping with steps that each advance one frame of the word heard and 0, 1
  or 2 frames of the take (so one is at most twice as fast as the other), Euclidean frame distance,
  divided by the number of frames walked; computed both ways round and averaged. Each row is one numpy step, so a
  1-second word against a 1-second take costs about a millisecond; no numba, no scipy.
- **Decision.** The nearest word wins if it is nearer than that word's own threshold (from the spread
  of its taught takes) and clearly nearer than the next word (``margin``).

Pure numpy, no new dependency: the package index has DTW libraries, but the algorithm is about 60 lines
here with nothing to build on a Pi (19 ms CPU to match a 0.84 s word against six words of three takes).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from voiceguide.seams import Samples

SAMPLE_RATE = 16000
"""Taught commands are heard at 16 kHz, like the other listening."""
WINDOW = 400
"""Samples per analysis frame (25 ms)."""
HOP = 160
"""Samples between frames (10 ms)."""
FFT = 512
"""FFT size."""
BANDS = 26
"""Mel bands."""
COEFFS = 12
"""Cepstral coefficients kept (c1..c12)."""
THRESHOLD_SCALE = 2.5
"""A word is accepted up to this many times the typical distance between its own taught takes ..."""
THRESHOLD_FLOOR = 8.0
"""... but never stricter than this distance (three nearly identical takes would make it impossible)."""
RANGE_DB = 30.0
"""Band energies more than this far below the word's loudest are raised to that floor (room noise there is
not the word)."""
MARGIN = 1.12
"""The second-nearest word must be at least this many times farther than the nearest."""


@functools.lru_cache(maxsize=1)
def _mel_matrix() -> np.ndarray:
    def mel(hz: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(np.array(100.0)), mel(np.array(7000.0)), BANDS + 2))
    bins = np.fft.rfftfreq(FFT, 1.0 / SAMPLE_RATE)
    weights = np.zeros((BANDS, len(bins)))
    for b in range(BANDS):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        weights[b] = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0.0, None)
    return weights.T


@functools.lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    n = np.arange(BANDS)
    k = np.arange(1, COEFFS + 1)[:, None]
    return np.cos(np.pi * k * (2 * n + 1) / (2 * BANDS)).T


def features(audio: Samples) -> np.ndarray:
    """The word's cepstral frames, shape (frames, 12), mean-normalised; at least one frame."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    if len(x) < WINDOW:
        x = np.pad(x, (0, WINDOW - len(x)))
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    count = 1 + (len(x) - WINDOW) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, WINDOW)[::HOP][:count] * np.hanning(WINDOW)
    power = np.abs(np.fft.rfft(frames, FFT)) ** 2
    mel = power @ _mel_matrix()
    floor = max(float(mel.max()) * 10.0 ** (-RANGE_DB / 10.0), 1e-10)  # detail far below the word is the room's
    cepstra = np.log(np.maximum(mel, floor)) @ _dct_matrix()
    out: np.ndarray = (cepstra - cepstra.mean(axis=0)).astype(np.float32)
    return out


def _one_way(a: np.ndarray, b: np.ndarray) -> float:
    """Time-warped distance walking every frame of ``a``, each step moving 0, 1 or 2 frames along ``b``."""
    n, m = len(a), len(b)
    if m - 1 > 2 * (n - 1):  # the path cannot reach the end of b
        return float("inf")
    cost = np.sqrt(np.maximum(
        (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * a @ b.T, 0.0))
    inf = np.full(2, np.inf)
    row = np.full(m, np.inf)
    row[0] = cost[0, 0]
    for i in range(1, n):
        shifted = np.concatenate((inf, row))
        row = cost[i] + np.minimum(np.minimum(shifted[2:], shifted[1:-1]), shifted[:-2])
    return float(row[-1] / n)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """How unlike two feature sequences are (0 for the same; inf when one is over twice the other's length)."""
    return 0.5 * (_one_way(a, b) + _one_way(b, a))


@dataclass(frozen=True)
class Match:
    """What the templates say about one heard word."""

    word: str | None
    """The word accepted, or None."""
    best: str
    """The nearest word (accepted or not)."""
    distance: float
    """Its distance."""
    threshold: float
    """Its threshold."""
    runner_up: float
    """The distance of the nearest other word (inf with one word taught)."""


def threshold(takes: Sequence[np.ndarray]) -> float:
    """A word's acceptance distance from its takes: :data:`THRESHOLD_SCALE` times their mean distance to
    each other, at least :data:`THRESHOLD_FLOOR`."""
    pairs = [distance(a, b) for i, a in enumerate(takes) for b in takes[i + 1:]]
    finite = [d for d in pairs if np.isfinite(d)]
    spread = float(np.mean(finite)) if finite else THRESHOLD_FLOOR
    return max(THRESHOLD_FLOOR, THRESHOLD_SCALE * spread)


class Matcher:
    """The nearest taught word to a heard one, if near enough and clearly nearest."""

    def __init__(self, takes: Mapping[str, Sequence[np.ndarray]], thresholds: Mapping[str, float] | None = None,
                 margin: float = MARGIN) -> None:
        self.takes = {w: list(t) for w, t in takes.items() if t}
        self.thresholds = {w: float((thresholds or {}).get(w) or threshold(t)) for w, t in self.takes.items()}
        self.margin = margin

    def match(self, audio: Samples) -> Match:
        """Compare the word in ``audio`` (already trimmed to the word) with every take."""
        nearest = self._ranked(features(audio))
        if not nearest:
            return Match(None, "", float("inf"), 0.0, float("inf"))
        best, word = nearest[0]
        second = nearest[1][0] if len(nearest) > 1 else float("inf")
        limit = self.thresholds[word]
        accepted = best <= limit and second >= best * self.margin
        return Match(word if accepted else None, word, best, limit, second)

    def nearest(self, heard: np.ndarray) -> str:
        """The nearest word to the feature frames ``heard`` ("" with nothing taught)."""
        ranked = self._ranked(heard)
        return ranked[0][1] if ranked else ""

    def _ranked(self, heard: np.ndarray) -> list[tuple[float, str]]:
        return sorted((min(distance(heard, t) for t in takes), word) for word, takes in self.takes.items())
