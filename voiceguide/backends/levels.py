"""Sound levels in 10 ms frames: what the taught spotter's segmenter and the command filter's isolation test
both measure a word by (one definition, in the bottom layer both can reach)."""

from __future__ import annotations

import numpy as np

from voiceguide.seams import Samples

FRAME = 160
"""Samples per level frame: 10 ms at 16 kHz."""


def frame_db(audio: Samples) -> np.ndarray:
    """The level of each whole 10 ms frame in dB (power; -120 dB for digital silence)."""
    n = len(audio) // FRAME * FRAME
    power = np.mean(np.square(audio[:n].reshape(-1, FRAME), dtype=np.float64), axis=1)
    levels: np.ndarray = 10.0 * np.log10(power + 1e-12)
    return levels
