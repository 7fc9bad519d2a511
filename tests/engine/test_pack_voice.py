"""A voice pack as a voice: a half-recorded pack plays the whole session, recorded lines in the recorded voice
at their planned samples (found by cross-correlation with the takes), the others in the fallback voice at the
same measured loudness; ``voiceguide voices`` shows what it covers.

The fallback here is espeak-ng (Piper is told apart in tests/backends/test_default_voice.py): deterministic and
quick. The takes are real human speech (LibriVox clips from pocketsphinx's source archive).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voiceguide import backends
from voiceguide.backends import voice_pack
from voiceguide.cli.main import main
from voiceguide.engine.pack_lines import session_lines
from voiceguide.live.record_walk import WalkIO, walk
from voiceguide.live.take_recorder import RATE, Recorded
from voiceguide.script import parse
from voiceguide.sound import sounds, takes

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None and os.environ.get("CI") != "true",
                                reason="espeak-ng is not installed")

SCRIPT = """[session]
title = "Half recorded"

[[step]]
say = "Hello, and welcome to a short rest."

[[step]]
say = "Let your shoulders soften."

[[step]]
pause = 1

[[step]]
say = "Notice the weight of your hands."

[[step]]
say = "When you are ready, open your eyes."
"""


def _clips() -> list[np.ndarray]:
    from tests.speech_data import librivox_or_skip

    out = []
    for clip in librivox_or_skip()[:2]:
        data, rate = sf.read(clip.path, dtype="float32")
        out.append(sounds.resample(np.asarray(data, np.float32), int(rate), RATE) * 0.3)
    return out


@pytest.fixture
def half_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, np.ndarray]]:
    """The script, and a pack 'mine' in which its 1st and 3rd lines are recorded (walked through with keys)."""
    monkeypatch.setattr(backends, "natural_tts", lambda language: None)  # espeak-ng for what is not recorded
    script = tmp_path / "half.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    session = parse.load(script)
    lines = session_lines(session)
    assert [line.text for line in lines][:4] == ["Hello, and welcome to a short rest.", "Let your shoulders soften.",
                                                  "Notice the weight of your hands.",
                                                  "When you are ready, open your eyes."]
    keys = iter(["", "k", "s", "", "k", "s"])
    takes_ = iter([Recorded(c) for c in _clips()])
    io = WalkIO(ask=lambda prompt, choices: next(keys), show=lambda text: None, record=lambda: next(takes_),
                play=lambda samples: None)
    pack = voice_pack.open_pack("mine", create=True)
    walk(pack, session.id, lines, io)
    recorded = {lines[i].text: pack.load(lines[i].text) for i in (0, 2)}
    assert all(v is not None for v in recorded.values())
    return script, {k: v for k, v in recorded.items() if v is not None}


def _normalised_peak(window: np.ndarray, take: np.ndarray) -> tuple[int, float]:
    """Lag of ``take`` inside ``window`` and the normalised correlation there (1.0: the same samples)."""
    n = 1 << int(np.ceil(np.log2(len(window) + len(take))))
    corr = np.fft.irfft(np.fft.rfft(window, n) * np.conj(np.fft.rfft(take, n)), n)[: len(window) - len(take) + 1]
    lag = int(np.argmax(corr))
    piece = window[lag: lag + len(take)]
    score = float(corr[lag] / (np.linalg.norm(piece) * np.linalg.norm(take) + 1e-12))
    return lag, score


def test_a_half_recorded_pack_plays_whole_and_on_time(tmp_path: Path,
                                                      half_pack: tuple[Path, dict[str, np.ndarray]]) -> None:
    script, recorded = half_pack
    out, plan = tmp_path / "out.wav", tmp_path / "plan.json"
    assert main(["render", str(script), "--voice", "mine", "-o", str(out), "--timeline", str(plan)]) == 0
    audio, rate = sf.read(out, dtype="float32")
    assert rate == RATE
    events = [e for e in json.loads(plan.read_text())["events"] if e["kind"] == "speech"]
    assert len(events) == 4  # every line is there, recorded or not
    margin = RATE // 2
    for event in events:
        start, end = event["start_sample"], event["end_sample"]
        window = audio[max(0, start - margin): end + margin]
        assert float(np.sqrt(np.mean(np.square(audio[start:end])))) > 0.01, event["text"]  # the line sounds
        if event["text"] in recorded:
            take = recorded[event["text"]]
            lag, score = _normalised_peak(window, take)
            assert start - max(0, start - margin) == lag, event["text"]  # at its planned sample, exactly
            assert score > 0.99, event["text"]  # and it is the recording itself
            assert end - start == len(take)
        else:
            for take in recorded.values():  # spoken by the fallback voice, not a recording
                if len(take) < len(window):
                    assert _normalised_peak(window, take)[1] < 0.5


def test_recorded_and_synthetic_lines_measure_the_same_loudness(tmp_path: Path,
                                                                half_pack: tuple[Path, dict[str, np.ndarray]]
                                                                ) -> None:
    script, recorded = half_pack
    out, plan = tmp_path / "out.wav", tmp_path / "plan.json"
    assert main(["render", str(script), "--voice", "mine", "-o", str(out), "--timeline", str(plan)]) == 0
    audio, _ = sf.read(out, dtype="float32")
    levels = {e["text"]: takes.loudness(audio[e["start_sample"]: e["end_sample"]], RATE)
              for e in json.loads(plan.read_text())["events"] if e["kind"] == "speech"}
    mine = [v for k, v in levels.items() if k in recorded]
    synthetic = [v for k, v in levels.items() if k not in recorded]
    assert all(abs(v - takes.TARGET_LUFS) <= 1.0 for v in mine), mine
    assert abs(statistics.median(synthetic) - takes.TARGET_LUFS) <= 1.0, synthetic


def test_voices_lists_the_pack_with_its_coverage(half_pack: tuple[Path, dict[str, np.ndarray]],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voices", "--packs"]) == 0
    out = capsys.readouterr().out
    assert "mine" in out and "2 of 4 lines of half" in out


def test_a_pack_name_that_is_not_there_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["show", "demo", "--voice", "nobody-here", "--cache-dir", str(tmp_path)]) == 1
    assert "no voice called 'nobody-here'" in capsys.readouterr().err
    with pytest.raises(Exception, match="cannot name a voice pack"):
        voice_pack.check_name("../escape")


def test_the_daemon_config_picks_the_pack(tmp_path: Path, half_pack: tuple[Path, dict[str, np.ndarray]]) -> None:
    from voiceguide.daemon.config_read import loads_config
    from voiceguide.daemon.events import StartRequest
    from voiceguide.daemon.sessions import Sessions

    script, recorded = half_pack
    config = loads_config(f'[speech]\nvoice = "mine"\ncache_dir = "{tmp_path / "cache"}"\n')
    with Sessions(config) as sessions:  # the speech is rendered in a child process first, as the daemon does
        _, timeline = sessions.prepare(StartRequest(str(script), "ctl"))
    takes_played = {e.text for e in timeline.events if e.kind == "speech" and e.clip is not None
                    and e.text in recorded and np.array_equal(timeline.clips[e.clip], recorded[e.text])}
    assert takes_played == set(recorded)
