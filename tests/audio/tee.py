"""A tee at the output seam: what the player hands the sound output, captured inside the process.

The recording of a null sink's monitor shows what reached the sound server; it cannot show whether the
player's samples were exact, because a new PulseAudio stream asks for its first blocks late, and a busy
machine makes the stream run dry now and then. The tee can: it wraps the ``fill`` callback that
``SoundDeviceOutput`` calls on the audio thread, and keeps a copy of every block the player filled, at
its place in the stream's own sample clock (the player's ``stream_frames``: blocks, plus the frames the
output reported lost before a block). The stream is never held up: a block is copied and appended, nothing
more, and everything is written to a file once voiceguide returns.

Run voiceguide teed as ``python -m tests.audio.tee OUT.npz [voiceguide arguments]`` (from the repository
folder); :class:`Teed` reads the file back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Fill = Callable[..., None]


class Tee:
    """The blocks of every output stream opened in this process, in order."""

    def __init__(self) -> None:
        self.streams: list[list[tuple[int, int, npt.NDArray[np.float32]]]] = []
        """Per stream: (stream frame where the block starts, frames reported lost just before it, the block)."""

    def wrap(self, fill: Fill) -> Fill:
        """``fill``, teed into a new stream's list."""
        blocks: list[tuple[int, int, npt.NDArray[np.float32]]] = []
        self.streams.append(blocks)
        at = 0

        def teed(out: Any, lost: int = 0) -> None:
            nonlocal at
            if lost:
                fill(out, lost)
            else:
                fill(out)
            at += lost
            blocks.append((at, lost, np.array(out, dtype=np.float32, copy=True)))
            at += len(out)

        return teed

    def install(self) -> None:
        """Tee every stream that :class:`SoundDeviceOutput` opens from now on."""
        from voiceguide.backends.sounddevice_out import SoundDeviceOutput

        original = SoundDeviceOutput.open
        tee = self

        def open_teed(self: SoundDeviceOutput, sample_rate: int, fill: Fill) -> Any:
            return original(self, sample_rate, tee.wrap(fill))

        SoundDeviceOutput.open = open_teed  # type: ignore[method-assign]

    def save(self, path: Path) -> None:
        """All streams into one ``.npz`` file (see :class:`Teed`)."""
        arrays: dict[str, Any] = {"count": np.array(len(self.streams))}
        for n, blocks in enumerate(self.streams):
            arrays[f"starts{n}"] = np.array([b[0] for b in blocks], dtype=np.int64)
            arrays[f"lost{n}"] = np.array([b[1] for b in blocks], dtype=np.int64)
            arrays[f"samples{n}"] = (np.concatenate([b[2] for b in blocks]) if blocks
                                     else np.zeros(0, dtype=np.float32))
        np.savez(path, **arrays)


@dataclass(frozen=True)
class Handed:
    """What the player handed one output stream."""

    stream: npt.NDArray[np.float64]
    """Indexed by the stream's sample clock; NaN where the player handed nothing (frames the output lost)."""
    losses: list[tuple[int, int]]
    """(stream frame where the handed samples resume, frames) for each loss the output reported to the player;
    the lost frames are the ones just before that frame."""

    @property
    def lost(self) -> int:
        """Frames reported lost in all."""
        return sum(n for _, n in self.losses)


class Teed:
    """A tee file read back."""

    def __init__(self, path: Path) -> None:
        with np.load(path) as data:
            self.streams = [self._stream(data, n) for n in range(int(data["count"]))]

    @staticmethod
    def _stream(data: Any, n: int) -> Handed:
        starts, lost, samples = data[f"starts{n}"], data[f"lost{n}"], data[f"samples{n}"]
        sizes = _sizes(starts, lost, len(samples))
        stream = np.full(max((int(s) + k for s, k in zip(starts, sizes, strict=True)), default=0), np.nan)
        offset = 0
        for s, k in zip(starts, sizes, strict=True):  # a later block wins where the output dropped audio
            stream[int(s):int(s) + k] = samples[offset:offset + k]
            offset += k
        losses = [(int(s), int(n)) for s, n in zip(starts, lost, strict=True) if n]
        return Handed(stream, losses)


LSB = 1.0 / 32768
"""One step of a 16-bit sample: the references are renders written as 16-bit WAV files."""


def differing(handed: Handed, reference: npt.NDArray[np.float64], start: int = 0, tolerance: float = LSB) -> int:
    """The first stream frame at or after ``start`` where the handed samples differ from ``reference`` by more
    than ``tolerance`` (frames the output lost, NaN, are skipped; past the reference's end the player must hand
    silence), or -1 if none does."""
    n = min(len(handed.stream), len(reference))
    bad = np.abs(handed.stream[start:n] - reference[start:n]) > tolerance  # NaN compares False
    after = np.abs(handed.stream[max(start, n):]) > tolerance
    hits = np.flatnonzero(bad)
    if len(hits):
        return start + int(hits[0])
    if len(handed.stream) < len(reference):
        return len(handed.stream)
    hits = np.flatnonzero(after)
    return max(start, n) + int(hits[0]) if len(hits) else -1


def piece_problems(handed: Handed, reference: npt.NDArray[np.float64], pieces: list[tuple[int, int, int]],
                   tolerance: float = LSB) -> list[str]:
    """What is wrong with ``handed`` as the ``reference`` played in ``pieces`` (the player's own account:
    ``(stream start, reference start, reference end)`` per stretch played without a jump); empty if nothing.

    Each piece must be handed out sample for sample; what lies between pieces in the reference must be
    silence (the player may skip only quiet time, to catch up); the pieces must play the reference to its end;
    and outside the pieces the player must hand silence (or nothing, where the output lost frames)."""
    found = []
    covered = np.zeros(len(handed.stream), dtype=bool)
    end = 0
    for stream, start, stop in pieces:
        got = handed.stream[stream:stream + stop - start]
        want = reference[start:stop]
        if len(got) < len(want):
            found.append(f"piece {stream, start, stop} runs past the handed stream ({len(handed.stream)})")
            continue
        bad = np.flatnonzero(np.abs(got - want) > tolerance)
        if len(bad):
            found.append(f"piece {stream, start, stop}: {len(bad)} samples differ, the first at reference "
                         f"sample {start + int(bad[0])}")
        if start > end and np.abs(reference[end:start]).max() > tolerance:
            found.append(f"reference samples {end}-{start} were skipped, and they are not silent")
        covered[stream:stream + stop - start] = True
        end = max(end, stop)
    if end < len(reference):
        found.append(f"played to reference sample {end} of {len(reference)}")
    loud = np.flatnonzero(~covered & (np.abs(handed.stream) > tolerance))
    if len(loud):
        found.append(f"{len(loud)} samples outside the pieces are not silent, the first at stream frame {loud[0]}")
    return found


RATE_OF_TEE = 48000
"""The sample rate of the streams these tests tee."""


EXACT_GAIN = 0.002
"""How far a gain read from one frame may be off: the render is 16-bit, so at the loudness judged (0.02) one
step is 0.0015 of the sample."""
SHORTEST_FADE = 0.05
"""Seconds: the player's shortest fade (pause, resume, skip). A fall in gain faster than a full fade this long
is a cut."""


@dataclass(frozen=True)
class HandedFade:
    """The end of what the player handed, measured against the render it plays: ``stream[n] = reference[n - lag]
    * gain[n]``, exact where the reference is loud enough to read the gain from."""

    lag: int
    """Stream frame minus reference sample at the end (0 unless underruns shifted the stream against the plan)."""
    start: int
    """The first stream frame where the gain is below 1 (the fade begins)."""
    end: int
    """One past the last stream frame the player handed sound in (after it, only silence)."""
    lost: int
    """Frames the output lost between :attr:`start` and :attr:`end` (the fade's own time excludes them)."""
    frames: npt.NDArray[np.int64]
    """The stream frames judged (where the aligned reference is loud), from 1 s before the fade."""
    gains: npt.NDArray[np.float64]
    """The gain at each judged frame; 0 where the player handed silence for a loud reference."""

    @property
    def seconds(self) -> float:
        """How long the fade took, from its first frame below full gain to silence."""
        return (self.end - self.start - self.lost) / RATE_OF_TEE

    def problems(self, longest: float = 0.5) -> list[str]:
        """What is wrong with this as a fade-out of at most ``longest`` seconds: the gain may only fall (never
        rise), never faster than a whole fade in :data:`SHORTEST_FADE` s, from full gain to silence, within
        ``longest``; empty if nothing is."""
        found = []
        fading = self.frames >= self.start
        if int(fading.sum()) < RATE_OF_TEE // 20:
            found.append(f"only {int(fading.sum())} frames with a loud reference during the fade to judge by")
            return found
        before = self.gains[~fading]
        if len(before) and float(np.abs(before - 1.0).max()) > EXACT_GAIN:
            found.append(f"before the fade the handed samples are not the render (gain {float(before.min()):.3f}-"
                         f"{float(before.max()):.3f})")
        # from the last frame at full gain (a cut at full level has no frame below it before the silence); the
        # silence the player handed after the end, where the reference sounds, is judged as gain 0
        last_full = [k for k in [int(np.count_nonzero(~fading)) - 1] if k >= 0]
        at = np.concatenate((self.frames[last_full], self.frames[fading]))
        gain = np.concatenate((self.gains[last_full], self.gains[fading]))
        rises = np.flatnonzero(np.diff(gain) > 2 * EXACT_GAIN)
        if len(rises):
            found.append(f"the gain rises during the fade at stream frame {int(at[rises[0] + 1])} "
                         f"({gain[rises[0]]:.3f} -> {gain[rises[0] + 1]:.3f})")
        drop, span = -np.diff(gain), np.diff(at)
        steep = np.flatnonzero((drop > 0.05) & (drop > 1.5 * span / (SHORTEST_FADE * RATE_OF_TEE)))
        if len(steep):
            k = int(steep[0])
            found.append(f"the gain falls from {gain[k]:.3f} to {gain[k + 1]:.3f} within {int(span[k])} frames at "
                         f"stream frame {int(at[k])} (a cut, not a fade)")
        if self.seconds > longest:
            found.append(f"the fade takes {self.seconds:.3f} s, more than {longest} s")
        return found


def handed_fade(handed: Handed, reference: npt.NDArray[np.float64], loud: float = 0.02) -> HandedFade:
    """How the player ended ``handed``: the stream aligned with ``reference`` (exactly, by the stretch before the
    fade), and the gain read at every frame where the reference is louder than ``loud``. A loss moves the rest
    of the stream on by the frames lost (the player goes on where it was), so the alignment does too."""
    x = handed.stream
    sounding = np.flatnonzero(np.isfinite(x) & (np.abs(x) > LSB))
    assert len(sounding), "the player handed only silence"
    end = int(sounding[-1]) + 1
    first, lag = _fade_lag(handed, reference, end)
    frames = np.arange(first, min(len(x), end + RATE_OF_TEE // 2))
    ref = np.zeros(len(frames))
    cuts = [first, *[at for at, _ in handed.losses if first < at < frames[-1]], int(frames[-1]) + 1]
    for a, b in pairwise(cuts):
        ref[a - first:b - first] = _shifted(reference, lag, a, b)
        lag += next((n for at, n in handed.losses if at == b), 0)
    got = x[frames]
    keep = (np.abs(ref) > loud) & np.isfinite(got)
    frames, gains = frames[keep], got[keep] / ref[keep]
    below = np.flatnonzero(gains < 1 - EXACT_GAIN)
    start = int(frames[below[0]]) if len(below) else end
    judged = frames >= start - RATE_OF_TEE
    lost = int(np.count_nonzero(~np.isfinite(x[start:end])))
    return HandedFade(lag, start, end, lost, frames[judged], gains[judged].astype(np.float64))


def _fade_lag(handed: Handed, reference: npt.NDArray[np.float64], end: int) -> tuple[int, int]:
    """Where to begin judging, and the lag there: the handed stream from the last loss before it, at most 1.6 s
    before ``end``, up to 0.6 s before ``end`` (before any fade of at most 0.5 s), must be the reference sample for
    sample at one lag: 0, what the losses shifted it by, or else found by correlation."""
    a, b = max(0, end - RATE_OF_TEE * 8 // 5), max(0, end - RATE_OF_TEE * 3 // 5)
    a = max([a, *[at for at, _ in handed.losses if at < b]])
    piece = handed.stream[a:b]
    lost = ~np.isfinite(piece)  # frames the output lost are no evidence either way
    shifts = np.cumsum([0, *[n for at, n in handed.losses if at <= a]])

    def misfit(lag: int) -> float:
        return float(np.abs(piece - _shifted(reference, lag, a, b))[~lost].max(initial=0.0))

    candidates = list(dict.fromkeys([0, *[int(s) for s in shifts]]))
    fits = [lag for lag in candidates if misfit(lag) <= LSB]
    if fits:
        return a, fits[-1]
    if b > a:  # a catch-up jumped: find the lag by correlation
        padded = np.zeros(b)
        padded[a:b] = np.nan_to_num(piece)
        n = len(padded) + len(reference)
        size = 1 << (n - 1).bit_length()
        corr = np.fft.irfft(np.fft.rfft(padded, size) * np.conj(np.fft.rfft(reference, size)), size)
        k = int(np.argmax(corr))
        candidates.append(k if k < size // 2 else k - size)
    best = candidates[-1]
    assert misfit(best) <= LSB, f"the stream {a}-{b} before the fade is not the render at any lag of {candidates}"
    return a, best


def _shifted(reference: npt.NDArray[np.float64], lag: int, a: int, b: int) -> npt.NDArray[np.float64]:
    """``reference[n - lag]`` for stream frames ``a <= n < b`` (zero outside the reference)."""
    out = np.zeros(b - a)
    lo, hi = max(a, lag), min(b, lag + len(reference))
    if lo < hi:
        out[lo - a:hi - a] = reference[lo - lag:hi - lag]
    return out


def _sizes(starts: npt.NDArray[np.int64], lost: npt.NDArray[np.int64], total: int) -> list[int]:
    """The length of each block: the next block starts where this one ended plus the next one's loss."""
    sizes = [int(b - a - n) for a, b, n in zip(starts, starts[1:], lost[1:], strict=False)]
    return [*sizes, total - sum(sizes)] if len(starts) else []


def main(argv: list[str]) -> int:
    """``OUT.npz ARGS...``: run ``voiceguide ARGS`` with every output stream teed, then save the tee."""
    from voiceguide.cli.main import main as voiceguide

    tee = Tee()
    tee.install()
    try:
        return voiceguide(argv[1:])
    finally:
        tee.save(Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
