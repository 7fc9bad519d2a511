"""Measurements that the tests share with the benchmarks (``benchmarks/``): pure functions, no devices.

* :func:`find_onset`, :func:`find_onsets`: where a known clip starts in a recording, by normalised
  cross-correlation (FFT-based, one window per expected cue).
* :func:`word_errors`, :func:`wer`: word-level edit distance and word error rate of transcripts.
* :func:`silence`, :func:`room_noise`, :func:`invented_answers`: synthetic quiet and noisy rooms, and what a
  recognizer "hears" in them (Whisper is known to write "Thank you." or "you" there).
* :func:`matches`: which spoken command words a voice-command filter caught in time.

The benchmarks import these from here (one copy); a test that only needs one of them imports it from here,
not from a benchmark.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from voiceguide.playback.control import Command
from voiceguide.seams import Clip, Recognizer

Audio = npt.NDArray[np.floating]
"""A recording or template: any float array."""


def _correlate(window: npt.NDArray[np.float64], template: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``out[k] = sum_j window[k + j] * template[j]`` for every full overlap, via the FFT."""
    n = len(window) + len(template) - 1
    size = 1 << (n - 1).bit_length()
    spec = np.fft.rfft(window, size) * np.conj(np.fft.rfft(template, size))
    full: npt.NDArray[np.float64] = np.fft.irfft(spec, size)
    return full[: len(window) - len(template) + 1]


def find_onset(recording: Audio, template: Audio, expected: int, search: int,
               lead: int = 0) -> tuple[int, float]:
    """Where ``template`` best matches ``recording`` within ``expected ± search`` samples, and how well.

    The score is the normalised cross-correlation (1.0 for an exact, scaled copy); a low score
    (below ~0.5) means the cue was probably not in the window. ``lead`` > 0 matches that many samples
    of silence before the template too: use it for a cue that starts after quiet and is self-similar
    (a bell repeats itself almost exactly every few ms; without a lead, a match one 'period' late scores
    0.99). Raises ``ValueError`` if the window lies outside the recording.
    """
    tpl = np.concatenate((np.zeros(max(0, lead)), np.asarray(template, dtype=np.float64)))
    length = len(tpl)
    expected -= max(0, lead)
    lo = max(0, expected - search)
    hi = min(len(recording), expected + search + length)
    if length == 0 or hi - lo < length:
        raise ValueError(f"no room to look for a {length}-sample cue near sample {expected} "
                         f"(recording has {len(recording)} samples)")
    window = np.asarray(recording[lo:hi], dtype=np.float64)
    corr = _correlate(window, tpl)
    energy_t = float(np.dot(tpl, tpl))
    sums = np.concatenate(([0.0], np.cumsum(window * window)))
    local = sums[length:] - sums[:-length]
    norm = np.sqrt(np.maximum(local, 1e-6 * energy_t) * energy_t)
    score = corr / norm
    best = int(np.argmax(score))
    return lo + best + max(0, lead), float(score[best])


def find_onsets(recording: Audio, template: Audio, expected_starts: Sequence[int], search: int,
                lead: int = 0) -> list[int]:
    """The sample where ``template`` starts near each of ``expected_starts`` (within ``± search`` samples).

    Each expected start is searched independently, so ``search`` should stay below half the spacing
    of cues. Accuracy is one sample for a clean copy of the template. ``lead``: see :func:`find_onset`.
    """
    return [find_onset(recording, template, e, search, lead)[0] for e in expected_starts]


SPELLED_OUT: dict[str, str] = {"mr": "mister", "mrs": "missus", "dr": "doctor"}
"""Abbreviations Whisper writes for words the transcripts spell out ("Mr." for "mister")."""


def normalise(text: str) -> list[str]:
    """Lowercase words without punctuation (apostrophes inside words stay; "Mr." is "mister")."""
    return [SPELLED_OUT.get(w, w) for w in re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*", text.lower())]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference word count): word-level edit distance."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[-1], len(ref)


def wer(pairs: list[tuple[str, str]]) -> float:
    """Word error rate over (reference, hypothesis) pairs: total errors / total reference words."""
    errors = words = 0
    for reference, hypothesis in pairs:
        e, n = word_errors(reference, hypothesis)
        errors, words = errors + e, words + n
    return errors / words if words else 0.0


RATE = 16000
"""Sample rate of the clips made here and of the command streams :func:`matches` judges (16 kHz)."""


def silence(seconds: float = 3.0, seed: int = 0) -> Clip:
    """A quiet room through a real microphone: faint white noise around -70 dBFS (never exact zeros)."""
    rng = np.random.default_rng(seed)
    return Clip((rng.standard_normal(int(seconds * RATE)) * 3e-4).astype(np.float32), RATE)


def room_noise(seconds: float = 3.0, seed: int = 0) -> Clip:
    """Hiss and hum with a rustle (band-passed noise, a slow swell) in the middle; different per ``seed``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    hiss = np.cumsum(rng.standard_normal(n)) * 2e-4  # brown: a fan or traffic far away
    hiss -= np.convolve(hiss, np.ones(801) / 801, mode="same")
    hum = 0.004 * np.sin(2 * np.pi * 50 * t + rng.uniform(0, 6)) + 0.002 * np.sin(2 * np.pi * 100 * t)
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    low, high = rng.uniform(300, 1500), rng.uniform(2500, 6000)
    spectrum[(freqs < low) | (freqs > high)] = 0
    rustle = np.fft.irfft(spectrum, n)
    rustle /= np.max(np.abs(rustle)) + 1e-9
    centre, width = rng.uniform(0.35, 0.65) * seconds, rng.uniform(0.3, 0.8)
    swell = np.exp(-0.5 * ((t - centre) / width) ** 2)
    loud = rng.uniform(0.03, 0.15)
    audio = hiss + hum + loud * rustle * swell
    return Clip(audio.astype(np.float32), RATE)


def invented_answers(recognizer: Recognizer, tries: int = 20) -> dict[str, list[str]]:
    """What ``recognizer`` wrote for ``tries`` clips each of silence and room noise (non-empty = invented)."""
    found: dict[str, list[str]] = {"silence": [], "room noise": []}
    for seed in range(tries):
        for kind, make in (("silence", silence), ("room noise", room_noise)):
            text = recognizer.transcribe(make(2.0 + (seed % 3), seed)).text
            if text.strip():
                found[kind].append(text)
    return found


def matches(spoken: list[tuple[Command, int, int]], heard: list[tuple[Command, int]]) -> list[bool]:
    """For each spoken (command, start, end), whether its command came out between the word's start and
    2 s after its end; each command heard (command, sample when it came out) counts once."""
    used: set[int] = set()
    found = []
    for command, start, end in spoken:
        match = next((k for k, (c, at) in enumerate(heard)
                      if k not in used and c is command and start <= at <= end + 2 * RATE), None)
        if match is not None:
            used.add(match)
        found.append(match is not None)
    return found
