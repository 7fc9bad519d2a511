"""Chimes land on their samples: offline to within one sample, live through PulseAudio to within 2 ms.

The held-out script ``tests/data/odd_chimes.toml`` puts six bells at odd, unrounded offsets with
some speech in between (the fake voice: deterministic, so the live run and the render use identical
clips). The offline render is the oracle for the live run.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from voiceguide.sound import sounds

from .audio_helpers import (
    DATA,
    RATE,
    REPO,
    Pulse,
    Signal,
    chime_placement,
    local_lag,
    read_wav,
    run_voiceguide,
    timeline_starts,
)

pytestmark = pytest.mark.audio

SCRIPT = DATA / "odd_chimes.toml"
TOLERANCE = 96
"""2 ms at 48 kHz: the most a live chime may move relative to the first one."""


def render(out: Path, cache: Path) -> tuple[Signal, list[int]]:
    """Render the held-out script; returns the audio and the chime starts from its timeline JSON."""
    wav, timeline = out / "ref.wav", out / "ref.json"
    done = run_voiceguide("render", SCRIPT, "-o", wav, "--timeline", timeline, "--tts", "fake", "--cache-dir", cache)
    assert done.returncode == 0, done.stderr
    return read_wav(wav), timeline_starts(timeline)


def test_render_places_each_chime_on_its_start_sample(tmp_path: Path, speech_cache: Path) -> None:
    audio, starts = render(tmp_path, speech_cache)
    assert len(starts) >= 6
    with SCRIPT.open("rb") as fh:
        names = [step["chime"] for step in tomllib.load(fh)["step"] if "chime" in step]
    assert len(names) == len(starts)
    found = []
    for start, name in zip(starts, names, strict=True):
        bell = sounds.load(REPO / "audio" / f"{name}.wav", RATE).astype(np.float64)
        # Search ±0.5 s around the planned start for the best match with the bell's first 100 ms.
        lag, score = local_lag(audio, bell, 0, start, search=RATE // 2, before=0, after=RATE // 10)
        found.append(lag)
        assert score > 0.99, f"no {name} near sample {start} (best correlation {score:.3f})"
    assert all(abs(f - s) <= 1 for f, s in zip(found, starts, strict=True)), f"found {found}, planned {starts}"


def test_live_chimes_do_not_drift(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> None:
    recording, played = tmp_path / "live.wav", tmp_path / "played.json"
    reference, starts = render(tmp_path, speech_cache)  # also fills the speech cache before the live run
    with pulse.record(recording):
        done = run_voiceguide("run", SCRIPT, "--device", "pulse", "--timeline", played, "--tts", "fake",
                              "--cache-dir", speech_cache, env=pulse.env)
    assert done.returncode == 0, done.stderr
    assert timeline_starts(played) == starts, "the played timeline moved chimes compared with the render"

    live = read_wav(recording)
    placement = chime_placement(live, reference, starts)
    assert min(placement.scores) > 0.95, f"a chime was not found in the recording: {placement.describe()}"
    assert placement.worst <= TOLERANCE, placement.describe()

    # The same measurement must notice a chime 5 ms away from where the reference expects it.
    moved = reference.copy()
    i, shift = 3, 240
    a, b = starts[i], starts[i] + RATE * 35 // 10
    moved[a:b] = 0.0
    moved[a + shift:b + shift] += reference[a:b]
    wrong = chime_placement(live, moved, [*starts[:i], a + shift, *starts[i + 1:]])
    assert wrong.worst > TOLERANCE, f"a 5 ms misplacement went unnoticed: {wrong.describe()}"
    print(f"live chime placement: {placement.describe()}")
