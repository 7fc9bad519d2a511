"""The daemon's master volume, like a knob on the speaker: one level for every session, kept across restarts.

:class:`VolumeOutput` wraps any :class:`AudioOutput` (as the start ramp does): after the player fills a
block, the block is scaled by the level. A change glides there over :data:`GLIDE_SECONDS` (no click, no
jump); buffers are allocated once, on the first block.
"""

from __future__ import annotations

import logging
import math
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np

from voiceguide import places
from voiceguide.bounds import LEVEL
from voiceguide.errors import InputFileError
from voiceguide.safe_read import read_text
from voiceguide.seams import AudioOutput, FillCallback, Samples

log = logging.getLogger(__name__)

GLIDE_SECONDS = 0.3
"""How long a change from silence to full volume takes; smaller changes take proportionally less."""
VOLUME_FILE = "volume"
"""The file in the user data folder that keeps the level (one number, 0..1), readable by its owner only."""
LONGEST_FILE = 64
"""Bytes read of it at most (it holds one number)."""


class Volume:
    """The level asked for, 0..1 (read by the audio thread, set by the daemon loop: one float, no lock).

    With ``path``, every :meth:`set` is written there (a temporary file renamed into place, mode 0600), and
    :meth:`kept` reads it back when the daemon starts again: the knob stays where it was turned."""

    def __init__(self, level: float = 1.0, path: Path | None = None) -> None:
        self.level = _clamped(level)
        self.path = path

    @classmethod
    def kept(cls, path: Path) -> Volume:
        """The level last kept at ``path``; full volume when there is none, or what is there is not a level."""
        try:
            text = read_text(path, LONGEST_FILE)
        except InputFileError as exc:
            if not exc.missing:
                log.info("the kept volume in %s cannot be read (%s); starting at full volume", path, exc)
            return cls(1.0, path)
        try:
            level = float(text.strip())
        except ValueError:
            level = math.nan
        if level not in LEVEL:
            log.info("the kept volume in %s is not a level %s; starting at full volume", path, LEVEL)
            return cls(1.0, path)
        return cls(level, path)

    def set(self, level: float) -> float:
        """Clamp to 0..1 and keep (in the file too, if there is one); returns the new level."""
        self.level = _clamped(level)
        if self.path is not None:
            self._save(self.path)
        return self.level

    def _save(self, path: Path) -> None:
        try:
            places.write_private(path, f"{self.level:.3f}\n")
        except OSError as exc:  # the level still applies now; it is only not kept for the next start
            log.warning("the volume could not be kept in %s: %s", path, exc)


def _clamped(level: float) -> float:
    value = float(level)
    return 1.0 if math.isnan(value) else min(1.0, max(0.0, value))


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
