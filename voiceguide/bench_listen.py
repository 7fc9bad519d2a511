"""Measurements of listening beyond word error rate, used by ``python -m voiceguide.bench_stt`` and tests.

* :func:`invented_answers`: how often a recognizer "hears" words in silence or room noise (Whisper is
  known to write "Thank you." or "you" there).
* :func:`room_noise`: a synthetic room: a steady fan-like hiss, mains hum, and a rustle that rises loud
  enough for the endpointer to take it as the start of an answer (the case that reaches the recognizer).
"""

from __future__ import annotations

import numpy as np

from .seams import Clip, Recognizer

RATE = 16000
"""Sample rate of the clips made here."""


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
