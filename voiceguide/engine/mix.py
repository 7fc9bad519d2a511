"""The mixer: a pure function from (timeline, frame range) to samples.

Both the live player and offline ``render`` call :meth:`Mixer.mix_into`, so a render is the
test oracle for a live run. It writes into a caller's buffer and allocates no audio memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from voiceguide.engine.timeline import Timeline
from voiceguide.seams import Samples


class Mixer:
    """Precomputes an index of audible events so each call finds its overlaps by binary search."""

    def __init__(self, timeline: Timeline,
                 scaled: dict[tuple[int, float], tuple[Samples, Samples]] | None = None,
                 prescale: bool = True) -> None:
        """``scaled`` may be shared between mixers of a growing timeline, so gains are applied once.

        With ``prescale`` off (an offline render) no scaled copies are kept: each gain is applied to
        the part of its clip a block needs, as the block is mixed. The samples are the same.
        """
        self.timeline = timeline
        events = timeline.audible()
        self._starts = np.array([e.start for e in events], dtype=np.int64)
        self._ends = np.array([e.end for e in events], dtype=np.int64)
        scaled = {} if scaled is None else scaled
        self._clips: list[Samples] = []
        self._gains: list[np.float32 | None] = []
        self._scratch = np.zeros(0, dtype=np.float32)
        for e in events:
            assert e.clip is not None
            clip = timeline.clips[e.clip]
            if e.gain == 1.0 or not prescale:
                self._clips.append(clip)
                self._gains.append(None if e.gain == 1.0 else np.float32(e.gain))
                continue
            self._gains.append(None)
            key = (id(clip), float(e.gain))  # the entry keeps ``clip`` alive, so its id stays unique
            if key not in scaled:  # gains are applied once here, never in the audio callback
                scaled[key] = (clip, (clip * np.float32(e.gain)).astype(np.float32))
            self._clips.append(scaled[key][1])
        self._longest = int((self._ends - self._starts).max()) if events else 0

    def mix_into(self, start: int, out: Samples) -> None:
        """Fill ``out`` with timeline samples ``start .. start+len(out)``; silence outside it."""
        n = len(out)
        out.fill(0.0)
        stop = start + n
        first = int(np.searchsorted(self._starts, start - self._longest, side="left"))
        last = int(np.searchsorted(self._starts, stop, side="left"))
        for i in range(first, last):
            s, e = int(self._starts[i]), int(self._ends[i])
            if e <= start:
                continue
            a, b = max(s, start), min(e, stop)
            gain = self._gains[i]
            if gain is None:
                out[a - start:b - start] += self._clips[i][a - s:b - s]
                continue
            if len(self._scratch) < n:
                self._scratch = np.zeros(n, dtype=np.float32)
            part = self._scratch[:b - a]
            np.multiply(self._clips[i][a - s:b - s], gain, out=part)  # what the prescaled copy would hold
            out[a - start:b - start] += part
        np.clip(out, -1.0, 1.0, out=out)

    def blocks(self, size: int = 1 << 16) -> Iterator[tuple[int, Samples]]:
        """The timeline as ``(start, samples)`` blocks of ``size`` (the last one shorter), in one reused buffer."""
        buffer = np.zeros(size, dtype=np.float32)
        for start in range(0, self.timeline.length, size):
            out = buffer[:min(size, self.timeline.length - start)]
            self.mix_into(start, out)
            yield start, out

    def render(self) -> Samples:
        """The whole timeline as one array (for tests; ``render`` streams :meth:`blocks` to the file)."""
        out = np.zeros(self.timeline.length, dtype=np.float32)
        block = 1 << 16
        for start in range(0, self.timeline.length, block):
            self.mix_into(start, out[start:start + block])
        return out
