"""Ambient beds: pink noise, brown noise and a soft drone, generated with numpy as seamless loops.

A loop is made in the frequency domain (or from whole cycles), so its end flows into its start
with no seam. A bed is laid out as repeated events of one loop clip, plus two clips that carry
the fade-in and fade-out: memory stays at about one loop however long the bed plays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voiceguide.seams import Samples

LOOP_SECONDS = 20.0
REFERENCE_RMS = 0.1
"""RMS of a bed at ambient_volume 1.0: about the loudness of the voice."""
FADE_IN_SECONDS = 6.0


def _shaped_noise(n: int, sample_rate: int, exponent: float, seed: int) -> Samples:
    """Noise with power falling as 1/f**exponent, softened above 3 kHz; periodic over ``n`` samples."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    freqs[0] = freqs[1]
    shape = freqs ** (-exponent / 2) / np.sqrt(1.0 + (freqs / 3000.0) ** 4)
    shape[freqs < 30.0] *= (freqs[freqs < 30.0] / 30.0) ** 2  # no rumble below hearing
    shape[0] = 0.0
    wave = np.fft.irfft(spectrum * shape, n)
    return _level(wave)


def pink(n: int, sample_rate: int) -> Samples:
    """Pink noise: soft, like distant rain."""
    return _shaped_noise(n, sample_rate, 1.0, seed=1)


def brown(n: int, sample_rate: int) -> Samples:
    """Brown noise: deeper, like a far-off waterfall."""
    return _shaped_noise(n, sample_rate, 2.0, seed=2)


def drone(n: int, sample_rate: int) -> Samples:
    """A low, slowly breathing chord. Every partial and swell completes whole cycles in the loop."""
    seconds = n / sample_rate
    t = np.arange(n, dtype=np.float64) / sample_rate
    wave = np.zeros(n)
    for hz, amp, swell in ((110.0, 1.0, 2), (165.0, 0.6, 3), (220.0, 0.35, 5), (277.5, 0.2, 4)):
        f = round(hz * seconds) / seconds  # whole cycles per loop: seamless
        depth = 0.5 + 0.5 * np.sin(2 * np.pi * swell * t / seconds + hz)
        wave += amp * depth * np.sin(2 * np.pi * f * t)
    return _level(wave)


def _level(wave: np.ndarray) -> Samples:
    rms = float(np.sqrt(np.mean(wave**2)))
    out: Samples = (wave * (REFERENCE_RMS / rms)).astype(np.float32)
    return out


BEDS: dict[str, Callable[[int, int], Samples]] = {"pink": pink, "brown": brown, "drone": drone}
"""Ambient beds by name."""


def loop(name: str, sample_rate: int) -> Samples:
    """One seamless loop of the named bed."""
    return BEDS[name](int(LOOP_SECONDS * sample_rate), sample_rate)


def faded_head(looped: Samples, fade_in: int) -> Samples:
    """The first loop of a bed, faded in."""
    head = looped.copy()
    n = min(fade_in, len(head))
    head[:n] *= _ramp(n, rising=True).astype(np.float32)
    return head


def _ramp(n: int, rising: bool) -> np.ndarray:
    x = np.linspace(0.0, np.pi, n)
    return 0.5 - 0.5 * np.cos(x) if rising else 0.5 + 0.5 * np.cos(x)


def layout(looped: Samples, total: int, fade_in: int, fade_out: int) -> list[tuple[int, Samples]]:
    """(offset, clip) pairs covering ``total`` samples with the loop, faded in and out.

    Middle pieces are the very same ``looped`` array (shared, not copied).
    """
    length = len(looped)
    if total <= 0:
        return []
    fade_in = min(fade_in, total // 2)
    fade_out = min(fade_out, total - fade_in)
    last_start = max(0, ((total - fade_out) // length) * length)
    if last_start > 0 and last_start < fade_in:
        last_start = 0
    pieces: list[tuple[int, Samples]] = []
    for offset in range(0, last_start, length):
        pieces.append((offset, looped))
    tail = np.resize(looped, total - last_start).astype(np.float32)  # np.resize tiles the loop
    tail[len(tail) - fade_out:] *= _ramp(fade_out, rising=False).astype(np.float32)
    pieces.append((last_start, tail))
    first_offset, first = pieces[0]
    head = first.copy()
    head[:fade_in] *= _ramp(fade_in, rising=True).astype(np.float32)
    pieces[0] = (first_offset, head)
    return pieces
