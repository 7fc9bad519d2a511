"""Sound generation and loading: bells and pacing tones from numpy, files through soundfile, soxr to resample.

Every generated sound is a pure function of its arguments, so ``python -m voiceguide.sound.sounds``
recreates the bundled ``audio/`` files exactly.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from voiceguide import safe_read
from voiceguide.errors import AudioError, InputFileError
from voiceguide.seams import Clip, Samples

log = logging.getLogger(__name__)

EDGE_SECONDS = 0.15
"""Raised-cosine fade at both ends of every generated tone, so nothing clicks."""


def resample(samples: Samples, from_rate: int, to_rate: int) -> Samples:
    """Resample mono audio with soxr (high quality)."""
    if from_rate == to_rate or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    import soxr

    out = soxr.resample(samples.astype(np.float32, copy=False), from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(out, dtype=np.float32)


MAX_FILE_SAMPLES = 30_000_000
"""Most samples (frames x channels) read from one sound file: 120 MB as float32, 10 minutes of 48 kHz mono."""


def read_file(path: Path, what: str = "sound file") -> tuple[np.ndarray, int]:
    """The frames (float32, one column per channel) and rate of a sound file a script or journal names.

    Only a regular file of at most :data:`~voiceguide.safe_read.SOUND_LIMIT` bytes holding at most
    :data:`MAX_FILE_SAMPLES` samples is decoded; otherwise :class:`AudioError` says why.
    """
    import soundfile

    try:
        with safe_read.open_regular(path, safe_read.SOUND_LIMIT) as handle, \
                soundfile.SoundFile(handle.fileno(), closefd=False) as sound:  # by descriptor: the file we checked
            if sound.frames * sound.channels > MAX_FILE_SAMPLES:
                raise AudioError(f"{what} {path} is too long ({sound.frames / sound.samplerate:.0f} s, "
                                 f"{sound.channels} channels): voiceguide reads at most {MAX_FILE_SAMPLES:,} samples")
            data = sound.read(dtype="float32", always_2d=True)
            return data, int(sound.samplerate)
    except InputFileError as exc:
        raise AudioError(f"cannot read {what} {exc}") from exc
    except (soundfile.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        raise AudioError(f"cannot read {what} {path}: {_why(exc)}") from exc


def _why(exc: Exception) -> str:
    """soundfile's reason without its "Error opening 4: " (it names the descriptor, not the file)."""
    return str(getattr(exc, "error_string", "") or exc)


def file_problem(path: Path) -> str | None:
    """Why the sound file at ``path`` cannot be played (checked without decoding it), or None."""
    import soundfile

    try:
        with safe_read.open_regular(path, safe_read.SOUND_LIMIT) as handle:
            info = soundfile.info(os.dup(handle.fileno()))  # soundfile closes the copy
    except InputFileError as exc:
        return exc.reason
    except (soundfile.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        return f"cannot be read as audio ({_why(exc)})"
    if info.frames * info.channels > MAX_FILE_SAMPLES:
        return f"too long ({info.duration:.0f} s, {info.channels} channels; at most {MAX_FILE_SAMPLES:,} samples)"
    if info.frames == 0:
        return "empty"
    return None


def load(path: Path, sample_rate: int) -> Samples:
    """Read a sound file (WAV/FLAC/OGG), mix to mono and resample to ``sample_rate``."""
    data, rate = read_file(path)
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return resample(np.ascontiguousarray(mono, dtype=np.float32), int(rate), sample_rate)


def edges(samples: Samples, sample_rate: int, seconds: float = EDGE_SECONDS) -> Samples:
    """Apply raised-cosine fade-in and fade-out in place (shortened for very short sounds)."""
    n = min(int(seconds * sample_rate), len(samples) // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float64))).astype(np.float32)
        samples[:n] *= ramp
        samples[-n:] *= ramp[::-1]
    return samples


def bell(sample_rate: int, base_hz: float = 528.0, seconds: float = 3.5, peak: float = 0.35) -> Samples:
    """A soft bell: inharmonic partials with natural exponential decay and a gentle 6 ms attack."""
    t = np.arange(int(seconds * sample_rate), dtype=np.float64) / sample_rate
    partials = ((1.0, 1.0, 1.2), (2.0, 0.5, 0.9), (2.76, 0.35, 0.7), (5.4, 0.12, 0.45), (8.93, 0.05, 0.3))
    wave = np.zeros_like(t)
    for ratio, amp, decay in partials:
        wave += amp * np.exp(-t / decay) * np.sin(2 * np.pi * base_hz * ratio * t)
    attack = int(0.006 * sample_rate)
    wave[:attack] *= 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, attack))
    tail = int(0.3 * sample_rate)
    wave[-tail:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, tail))
    out: Samples = (wave / np.abs(wave).max() * peak).astype(np.float32)
    return out


PACING = {
    # phase: (start Hz, end Hz, overtone mix, level)
    "inhale": (196.0, 294.0, 0.25, 0.16),
    "top-up": (294.0, 349.2, 0.25, 0.14),
    "hold": (294.0, 294.0, 0.0, 0.09),
    "exhale": (294.0, 196.0, 0.10, 0.16),
}


def pacing_tone(phase: str, seconds: float, sample_rate: int) -> Samples:
    """The breathing tone: glides up over an inhale, steady and quieter on a hold, glides down on an exhale.

    Each phase has its own timbre (overtone mix) so phases can be told apart with eyes closed.
    Rests are silent.
    """
    n = int(round(seconds * sample_rate))
    if phase not in PACING or n == 0:
        return np.zeros(n, dtype=np.float32)
    f0, f1, overtone, level = PACING[phase]
    x = np.linspace(0.0, 1.0, n, dtype=np.float64)
    glide = 0.5 - 0.5 * np.cos(np.pi * x)  # eases in and out of the pitch change
    freq = f0 + (f1 - f0) * glide
    phi = 2 * np.pi * np.cumsum(freq) / sample_rate
    wave = np.sin(phi) + overtone * np.sin(2 * phi)
    wave *= level / (1.0 + overtone)
    edge = min(0.6, seconds / 3)
    return edges(wave.astype(np.float32), sample_rate, edge)


def listen_cue(sample_rate: int) -> Samples:
    """A soft two-note rising cue (0.5 s) that says 'I am listening now'."""
    notes = []
    for hz in (440.0, 587.3):
        n = int(0.22 * sample_rate)
        t = np.arange(n, dtype=np.float64) / sample_rate
        tone = np.sin(2 * np.pi * hz * t) * np.exp(-t / 0.12) * 0.18
        notes.append(edges(tone.astype(np.float32), sample_rate, 0.01))
    gap = np.zeros(int(0.04 * sample_rate), dtype=np.float32)
    out: Samples = np.concatenate([notes[0], gap, notes[1]])
    return out


def normalize_speech(clip: Clip, target_rms: float = 0.1, peak: float = 0.8) -> Clip:
    """Bring a voice clip to one loudness so no line jumps out; never above ``peak``."""
    s = clip.samples
    if len(s) == 0:
        return clip
    rms = float(np.sqrt(np.mean(np.square(s, dtype=np.float64))))
    if rms < 1e-6:
        return clip
    gain = min(target_rms / rms, peak / float(np.abs(s).max()))
    return Clip((s * gain).astype(np.float32), clip.sample_rate)


def _soft_bell(rate: int) -> Samples:
    return bell(rate, base_hz=396.0, peak=0.25)


BUNDLED: dict[str, Callable[[int], Samples]] = {"bell": bell, "soft-bell": _soft_bell}
"""Generators for the files in ``audio/``."""


def write_bundled(folder: Path, sample_rate: int = 48000) -> list[Path]:
    """(Re)create the bundled sounds in ``folder``; returns the files written."""
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in BUNDLED.items():
        path = folder / f"{name}.wav"
        soundfile.write(str(path), make(sample_rate), sample_rate, subtype="PCM_16")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m voiceguide.sound.sounds [FOLDER]
    logging.basicConfig(level=logging.INFO)
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "audio"
    for p in write_bundled(target):
        log.info("wrote %s", p)
