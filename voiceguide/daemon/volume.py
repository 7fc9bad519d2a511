"""The daemon's master volume, like a knob on the speaker: one level for every session while it runs.

:class:`VolumeOutput` wraps any :class:`AudioOutput` (as the start ramp does): after the player fills a
block, the block is scaled by the level. A change glides there over :data:`GLIDE_SECONDS` (no click, no
jump); buffers are allocated once, on the first block.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy as np

from voiceguide.seams import AudioOutput, FillCallback, Samples

GLIDE_SECONDS = 0.3
"""How long a change from silence to full volume takes; smaller changes take proportionally less."""


class Volume:
    """The level asked for, 0..1 (read by the audio thread, set by the daemon loop: one float, no lock)."""

    def __init__(self, level: float = 1.0) -> None:
        self.level = min(1.0, max(0.0, level))

    def set(self, level: float) -> float:
        """Clamp to 0..1 and keep; returns the new level."""
        self.level = min(1.0, max(0.0, float(level)))
        return self.level


class VolumeOutput:
    """An output whose every block is scaled by ``volume.level``, gliding to a new level."""

    def __init__(self, inner: AudioOutput, volume: Volume) -> None:
        self.inner = inner
        self.volume = volume

    def check(self) -> str | None:
        """The wrapped output's check."""
        return self.inner.check()

    def close(self) -> None:
        """Close the wrapped output."""
        self.inner.close()

    def open(self, sample_rate: int, fill: FillCallback) -> AbstractContextManager[object]:
        """Open the wrapped output with a fill that applies the level."""
        per_sample = 1.0 / max(1.0, GLIDE_SECONDS * sample_rate)
        gain = self.volume.level
        index = np.zeros(0, dtype=np.float64)
        gains = np.zeros(0, dtype=np.float64)

        def scaled(out: Samples, lost: int = 0) -> None:
            nonlocal gain, index, gains
            if lost:  # an underrun: the player makes the time up (see catchup)
                fill(out, lost)
            else:
                fill(out)
            target = self.volume.level
            if gain == target:
                if gain != 1.0:
                    out *= gain
                return
            n = len(out)
            if len(index) < n:  # stream blocks keep their size: allocate once
                index = np.arange(1, n + 1, dtype=np.float64)
                gains = np.empty(n, dtype=np.float64)
            direction = 1.0 if target > gain else -1.0
            g = gains[:n]
            np.multiply(index[:n], direction * per_sample, out=g)
            g += gain
            np.minimum(g, target, out=g) if direction > 0 else np.maximum(g, target, out=g)
            np.multiply(out, g, out=out, casting="same_kind")
            gain = float(g[-1])

        return self.inner.open(sample_rate, scaled)
