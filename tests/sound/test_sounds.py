"""Generated and loaded sounds: exact lengths, soft edges, one loudness for speech, reproducible bundled files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.helpers import AUDIO
from voiceguide.errors import AudioError
from voiceguide.seams import Clip
from voiceguide.sound import sounds


def test_resample_same_rate_is_float32_passthrough() -> None:
    x = np.linspace(-0.5, 0.5, 1000, dtype=np.float64)
    out = sounds.resample(x.astype(np.float32), 16000, 16000)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x.astype(np.float32))


@pytest.mark.parametrize(("src", "dst"), [(16000, 48000), (22050, 44100), (48000, 8000), (44100, 48000)])
def test_resample_length_and_pitch(src: int, dst: int) -> None:
    t = np.arange(src) / src
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out = sounds.resample(tone, src, dst)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    assert abs(len(out) - dst) <= 1
    crossings = np.count_nonzero(np.diff(np.signbit(out[dst // 10:-dst // 10])))
    assert crossings == pytest.approx(2 * 440 * 0.8, abs=4)  # still 440 Hz


def test_resample_empty() -> None:
    assert len(sounds.resample(np.zeros(0, dtype=np.float32), 16000, 48000)) == 0


def test_load_mixes_to_mono_and_resamples(tmp_path: Path) -> None:
    left = np.full(8000, 0.5, dtype=np.float32)
    right = np.full(8000, -0.25, dtype=np.float32)
    path = tmp_path / "st.wav"
    soundfile.write(str(path), np.stack([left, right], axis=1), 8000, subtype="FLOAT")
    mono = sounds.load(path, 8000)
    assert mono.shape == (8000,) and mono.dtype == np.float32
    np.testing.assert_allclose(mono, 0.125)
    assert abs(len(sounds.load(path, 48000)) - 48000) <= 1


def test_load_bundled_bell() -> None:
    bell = sounds.load(AUDIO / "bell.wav", 48000)
    assert len(bell) == soundfile.info(str(AUDIO / "bell.wav")).frames
    assert 0.2 < np.abs(bell).max() <= 0.36


@pytest.mark.parametrize("content", [None, b"not a wav at all", b"RIFF\x00\x00\x00\x00WAVE"])
def test_load_failures_are_audio_errors(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError, match=r"cannot read sound file .*bad\.wav"):
        sounds.load(path, 48000)


def test_edges_fade_both_ends_in_place() -> None:
    x = np.ones(1000, dtype=np.float32)
    out = sounds.edges(x, 1000, seconds=0.1)
    assert out is x
    assert x[0] == 0.0 and x[-1] == 0.0
    assert np.all(np.diff(x[:100]) >= 0) and np.all(np.diff(x[-100:]) <= 0)
    assert np.all(x[100:900] == 1.0)
    short = np.ones(10, dtype=np.float32)
    sounds.edges(short, 1000, seconds=0.1)  # longer than the sound: halves
    assert short[0] == 0.0 and short[-1] == 0.0


def test_bell() -> None:
    b = sounds.bell(8000, seconds=2.0, peak=0.3)
    assert len(b) == 16000 and b.dtype == np.float32
    assert np.abs(b).max() == pytest.approx(0.3, rel=1e-6)
    assert b[0] == 0.0
    assert abs(b[-1]) < 1e-3
    assert np.abs(b[:800]).max() > 10 * np.abs(b[-800:]).max()  # it decays


@pytest.mark.parametrize("phase", ["inhale", "hold", "exhale"])
def test_pacing_tone(phase: str) -> None:
    rate = 8000
    tone = sounds.pacing_tone(phase, 4.0, rate)
    assert len(tone) == 4 * rate and tone.dtype == np.float32
    assert abs(tone[0]) < 1e-6 and abs(tone[-1]) < 1e-3
    assert 0.05 < np.abs(tone).max() <= sounds.PACING[phase][3] + 1e-6

    def crossings(x: np.ndarray) -> int:
        return int(np.count_nonzero(np.diff(np.signbit(x))))

    first, last = crossings(tone[rate:2 * rate]), crossings(tone[2 * rate:3 * rate])
    if phase == "inhale":
        assert last > first  # pitch rises
    elif phase == "exhale":
        assert last < first  # pitch falls
    else:
        assert abs(last - first) <= 2


def test_rest_is_silent_and_lengths_round() -> None:
    rest = sounds.pacing_tone("rest", 2.0, 8000)
    assert len(rest) == 16000 and not rest.any()
    assert len(sounds.pacing_tone("inhale", 1.00006, 8000)) == 8000
    assert len(sounds.pacing_tone("inhale", 0.0, 8000)) == 0


def test_normalize_speech_to_one_loudness() -> None:
    t = np.arange(16000) / 16000
    for level in (0.01, 0.2, 0.9):
        clip = Clip((level * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
        out = sounds.normalize_speech(clip)
        rms = float(np.sqrt(np.mean(np.square(out.samples, dtype=np.float64))))
        assert rms == pytest.approx(0.1, rel=1e-3)
        assert out.sample_rate == 16000


def test_normalize_speech_never_exceeds_peak() -> None:
    spiky = np.zeros(16000, dtype=np.float32)
    spiky[100] = 0.5
    out = sounds.normalize_speech(Clip(spiky, 16000))
    assert np.abs(out.samples).max() == pytest.approx(0.8)


def test_normalize_speech_leaves_silence_alone() -> None:
    silent = Clip(np.zeros(100, dtype=np.float32), 16000)
    assert sounds.normalize_speech(silent) is silent
    empty = Clip(np.zeros(0, dtype=np.float32), 16000)
    assert sounds.normalize_speech(empty) is empty


def test_bundled_sounds_are_reproducible(tmp_path: Path) -> None:
    written = sounds.write_bundled(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in AUDIO.glob("*.wav"))
    for path in written:
        assert path.read_bytes() == (AUDIO / path.name).read_bytes(), path.name
