"""A recorded take made ready for a voice pack: trimmed at its quiet ends, checked, lightly denoised where that
helps, and brought to the synthetic voices' loudness.

Speech is told from the room by 20 ms frames: the room's level is a low percentile of the frames' RMS, and a
frame is speech when it is well above it. The take keeps :data:`LEAD` seconds before the first speech and
:data:`TAIL` after the last (a breath in, a word's fading end), with short fades at both cuts.

Loudness is EBU R128 integrated loudness (ITU-R BS.1770, pyloudnorm: the ``voiceguide[record]`` extra), brought
to :data:`TARGET_LUFS`, what the synthetic lines measure (espeak-ng and Piper alike: -20.1 LUFS, median of 30
lines). A take whose peaks would pass :data:`PEAK` is raised only as far as they allow, and says so.

Denoising: noisereduce (spectral gating) was the obvious library, but it needs scipy, matplotlib, joblib and
tqdm, too heavy for a Pi Zero's 512 MB for a light touch. A small spectral gate here does the job instead: the
room's spectrum is measured in the take's quiet parts and each bin is lowered by at most :data:`GATE_FLOOR_DB`
where it is not clearly above it. It is used only when the room is audible (:data:`DENOISE_SNR_DB`); a clean
take is left untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voiceguide.errors import BackendError
from voiceguide.seams import Samples

TARGET_LUFS = -20.1
"""The loudness of the synthetic lines (median of espeak-ng's and of Piper's; docs/benchmarks.md, "Voices")."""
PEAK = 0.8
"""No take is raised above this peak (as the synthetic lines)."""
FRAME = 0.02
"""Seconds per analysis frame."""
LEAD = 0.12
"""Seconds kept before the first speech."""
TAIL = 0.35
"""Seconds kept after the last speech."""
FADE = 0.02
"""Seconds of fade at each cut."""
SPEECH_OVER_ROOM_DB = 12.0
"""A frame is speech when this far above the room's level (and above :data:`SILENT_DBFS`); in a noisy room,
half-way between the room and the loud frames (at least 6 dB)."""
SILENT_DBFS = -55.0
"""Frames under this are never speech: a take without any is 'heard nothing'."""
QUIET_DBFS = -38.0
"""Speech whose loud frames stay under this is too quiet (far from the microphone, input turned down)."""
CLIPPED_SHARE = 0.001
"""More than this share of samples at full scale is a clipped take."""
NOISY_SNR_DB = 20.0
"""A room within this many dB of the speech is too noisy to keep without saying so."""
DENOISE_SNR_DB = 45.0
"""The gate is used only when the room is within this many dB of the speech."""
GATE_FLOOR_DB = -10.0
"""The most the gate lowers a bin: light, so the voice never sounds underwater."""
MIN_SPEECH = 0.15
"""Less speech than this (seconds) is taken for a cough or a click: 'heard nothing'."""


@dataclass(frozen=True)
class Take:
    """A take ready to keep, and what was found about it."""

    samples: Samples
    """Trimmed, denoised where it helped, at the target loudness."""
    problems: tuple[str, ...]
    """Plain sentences for the person (too quiet, clipped, noisy room, heard nothing); empty when fine."""
    lufs: float
    """Its loudness now (LUFS)."""
    denoised: bool
    """Whether the gate was used."""
    lead: float
    """Seconds before the first speech that were kept."""


def _db(x: float) -> float:
    return 20.0 * float(np.log10(max(x, 1e-9)))


def frame_levels(samples: Samples, rate: int) -> np.ndarray:
    """RMS of each :data:`FRAME` of ``samples`` in dBFS."""
    n = max(1, int(FRAME * rate))
    count = len(samples) // n
    if count == 0:
        return np.full(1, -120.0)
    frames = samples[: count * n].astype(np.float64).reshape(count, n)
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    levels: np.ndarray = 20.0 * np.log10(np.maximum(rms, 1e-9))
    return levels


def loudness(samples: Samples, rate: int) -> float:
    """Integrated loudness in LUFS (pyloudnorm); short takes are padded with silence, which its gate ignores."""
    try:
        import pyloudnorm
    except ImportError as exc:
        raise BackendError("recording a voice pack needs pyloudnorm: pip install 'voiceguide[record]'") from exc
    padded = np.concatenate([samples, np.zeros(max(0, int(0.5 * rate) - len(samples)), np.float32)])
    value = float(pyloudnorm.Meter(rate).integrated_loudness(padded.astype(np.float64)))
    return value if np.isfinite(value) else -120.0


GATE_SIZE, GATE_HOP = 1024, 256
"""The gate's STFT frame and hop, in samples."""
GATE_BLOCK = 256
"""Frames transformed at a time: a two-minute take's whole spectrogram would take ~600 MB (measured); a block
of frames takes ~4 MB, so a take's cost is a few copies of its samples."""


def _spectra(padded: np.ndarray, first: int, last: int, window: np.ndarray) -> np.ndarray:
    """The windowed spectra of frames ``first`` to ``last`` (exclusive) of ``padded`` (zeros after the end)."""
    idx = np.arange(GATE_SIZE)[None, :] + GATE_HOP * np.arange(first, last)[:, None]
    spectra: np.ndarray = np.fft.rfft(padded[idx].astype(np.float64) * window, axis=1)
    return spectra


def _frame_count(length: int) -> int:
    return 1 + (length - 1) // GATE_HOP


def _padded(x: Samples) -> np.ndarray:
    return np.concatenate([np.asarray(x, np.float32), np.zeros(GATE_SIZE, np.float32)])


def _gate(samples: Samples, noise: Samples) -> Samples:
    """``samples`` with each STFT bin lowered (at most :data:`GATE_FLOOR_DB`) where not clearly above ``noise``.

    Worked out :data:`GATE_BLOCK` frames at a time; the gain is smoothed over three frames in time (so bins do
    not flicker), for which each block looks one frame beyond each of its ends."""
    window = np.hanning(GATE_SIZE)
    if len(noise) < GATE_SIZE or len(samples) < GATE_SIZE:
        return samples
    quiet, quiet_count = _padded(noise), _frame_count(len(noise))
    total = np.zeros(GATE_SIZE // 2 + 1)
    for first in range(0, quiet_count, GATE_BLOCK):
        total += np.abs(_spectra(quiet, first, min(first + GATE_BLOCK, quiet_count), window)).sum(axis=0)
    profile = total / quiet_count
    floor = 10 ** (GATE_FLOOR_DB / 20)
    padded, count = _padded(samples), _frame_count(len(samples))
    out = np.zeros(len(samples) + GATE_SIZE, np.float32)  # at most four pieces overlap: float32 is plenty
    norm = np.zeros(len(samples) + GATE_SIZE, np.float32)
    square = (window ** 2).astype(np.float32)
    for first in range(0, count, GATE_BLOCK):
        last = min(first + GATE_BLOCK, count)
        lo, hi = max(first - 1, 0), min(last + 1, count)
        spec = _spectra(padded, lo, hi, window)
        magnitude = np.abs(spec)
        gain = np.zeros((last - first + 2, spec.shape[1]))  # zero rows beyond the take, as np.convolve pads
        gain[lo - (first - 1): hi - (first - 1)] = np.clip((magnitude - 2.0 * profile) /
                                                           np.maximum(magnitude, 1e-12), floor, 1.0)
        smooth = (gain[:-2] + gain[1:-1] + gain[2:]) / 3
        pieces = np.fft.irfft(spec[first - lo: first - lo + last - first] * smooth, GATE_SIZE, axis=1) * window
        for i, piece in enumerate(pieces, first):
            out[i * GATE_HOP: i * GATE_HOP + GATE_SIZE] += piece
            norm[i * GATE_HOP: i * GATE_HOP + GATE_SIZE] += square
    result = out[: len(samples)]
    result /= np.maximum(norm[: len(samples)], 1e-3)
    return result


def prepare(samples: Samples, rate: int) -> Take:
    """Trim, check, denoise where it helps and normalise one take (mono float32 at ``rate``)."""
    samples = np.asarray(samples, dtype=np.float32)
    if len(samples) == 0:
        return Take(samples, ("heard nothing: is the microphone on and close by?",), -120.0, False, 0.0)
    clipped = float(np.mean(np.abs(samples) >= 0.99)) > CLIPPED_SHARE
    levels = frame_levels(samples, rate)
    room = float(np.percentile(levels, 10))
    loud = float(np.percentile(levels, 95))
    over = max(6.0, min(SPEECH_OVER_ROOM_DB, (loud - room) / 2))  # a noisy room: half-way, so no word is cut
    speech = np.flatnonzero((levels > room + over) & (levels > SILENT_DBFS))
    n = int(FRAME * rate)
    if len(speech) * FRAME < MIN_SPEECH:
        return Take(samples[:0], ("heard nothing: is the microphone on and close by?",), -120.0, False, 0.0)
    first, last = int(speech[0]) * n, (int(speech[-1]) + 1) * n
    start, end = max(0, first - int(LEAD * rate)), min(len(samples), last + int(TAIL * rate))
    quiet = np.concatenate([samples[:start], samples[end:]])
    voiced_level = float(np.percentile(levels[speech], 90))
    snr = voiced_level - room
    problems = []
    if clipped:
        problems.append("it clipped (too loud): move back a little, or turn the microphone's level down")
    if voiced_level < QUIET_DBFS:
        problems.append("it is very quiet: come closer to the microphone, or turn its level up")
    if snr < NOISY_SNR_DB:
        problems.append("the room is noisy: the voice is hard to tell from it")
    take = samples[start:end].copy()
    denoised = False
    if snr < DENOISE_SNR_DB and len(quiet) >= int(0.3 * rate):
        take = _gate(take, quiet)
        denoised = True
    fade = min(int(FADE * rate), len(take) // 4)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        take[:fade] *= ramp
        take[-fade:] *= ramp[::-1]
    measured = loudness(take, rate)
    gain = 10 ** ((TARGET_LUFS - measured) / 20)
    top = float(np.abs(take).max())
    if top * gain > PEAK:
        gain = PEAK / top
    take = (take * gain).astype(np.float32)
    return Take(take, tuple(problems), loudness(take, rate), denoised, (first - start) / rate)
