"""Recorded voice: a say step that plays a person's own recording, with the text as caption and fallback."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voiceguide.backends.fake import FakeSpeaker
from voiceguide.cli import main as cli
from voiceguide.engine import recorded
from voiceguide.engine.compile import compile_session
from voiceguide.script import parse
from voiceguide.script.model import Say
from voiceguide.seams import Samples

VOICE = Path(__file__).resolve().parents[1] / "data" / "voice"
WELCOME_SECONDS = soundfile.info(str(VOICE / "welcome.wav")).duration


def rms(x: Samples) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A script folder holding copies of the test recordings."""
    for f in VOICE.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def write(folder: Path, body: str, header: str = '[session]\ntitle = "Mine"\n') -> Path:
    path = folder / "mine.toml"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_audio_path_is_relative_to_the_script(folder: Path) -> None:
    session = parse.load(write(folder, '[[step]]\nsay = "Welcome back."\naudio = "welcome.wav"\n'))
    say = session.steps[0].action
    assert isinstance(say, Say)
    assert say.audio == folder / "welcome.wav" and say.text == "Welcome back."


@pytest.mark.parametrize("name", ["welcome.wav", "welcome-quiet-stereo.flac", "welcome.ogg"])
def test_recording_plays_instead_of_speech(folder: Path, name: str) -> None:
    rate = 16000
    session = parse.load(write(folder, f'[[step]]\nsay = "Welcome back."\naudio = "{name}"\nafter = 2\n'
                                       '[[step]]\nsay = "Now rest."\n'))
    speaker = FakeSpeaker()
    timeline = compile_session(session, speaker, rate)
    assert [text for text, _ in speaker.calls] == ["Now rest."]  # the recorded line was not synthesised
    first = timeline.events[0]
    assert first.kind == "speech" and first.text == "Welcome back."  # the text is the caption
    assert first.end - first.start == pytest.approx(WELCOME_SECONDS * rate, abs=2)
    # the script's timing is kept: the next step starts after the recording and its 'after'
    assert timeline.step_starts[1] == first.end + 2 * rate


def test_every_recording_gets_the_one_speech_loudness(folder: Path) -> None:
    session = parse.load(write(folder, '[[step]]\nsay = "a"\naudio = "welcome.wav"\n'
                                       '[[step]]\nsay = "b"\naudio = "welcome-quiet-stereo.flac"\n'
                                       '[[step]]\nsay = "c"\naudio = "welcome.ogg"\n'))
    raw = soundfile.read(str(folder / "welcome-quiet-stereo.flac"), dtype="float32")[0].mean(axis=1)
    assert rms(raw) < 0.04  # the stereo file really is quiet before normalising
    timeline = compile_session(session, FakeSpeaker(), 16000)
    levels = [rms(timeline.clips[e.clip]) for e in timeline.events if e.clip is not None]
    assert len(levels) == 3
    for level in levels:
        assert level == pytest.approx(levels[0], rel=0.03)
    assert max(float(np.abs(timeline.clips[e.clip]).max()) for e in timeline.events if e.clip is not None) <= 0.8 + 1e-6


def test_the_same_recording_twice_is_one_clip(folder: Path) -> None:
    session = parse.load(write(folder, '[[step]]\nsay = "a"\naudio = "welcome.wav"\n'
                                       '[[step]]\nsay = "again"\naudio = "welcome.wav"\n'))
    timeline = compile_session(session, FakeSpeaker(), 8000)
    assert len(timeline.clips) == 1
    assert [e.text for e in timeline.events] == ["a", "again"]


def test_recordings_are_softened_with_the_session(folder: Path) -> None:
    body = '[[step]]\nsay = "a"\naudio = "welcome.wav"\n'
    plain = compile_session(parse.load(write(folder, body)), FakeSpeaker(), 22050).clips[0]
    soft = compile_session(parse.load(write(folder, body, '[session]\ntitle = "T"\nsoften = true\n')),
                           FakeSpeaker(), 22050).clips[0]
    spectrum = [np.abs(np.fft.rfft(c.astype(np.float64))) ** 2 for c in (plain, soft)]
    freqs = np.fft.rfftfreq(len(plain), 1 / 22050)
    share = [float(s[freqs > 4000].sum() / s.sum()) for s in spectrum]
    assert share[1] < 0.7 * share[0]


def test_missing_recording_falls_back_to_speech_with_a_warning(folder: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    session = parse.load(write(folder, '[[step]]\nsay = "Welcome back."\naudio = "gone.wav"\n'))
    speaker = FakeSpeaker()
    with caplog.at_level(logging.WARNING, logger="voiceguide.engine.recorded"):
        timeline = compile_session(session, speaker, 8000)
    assert [text for text, _ in speaker.calls] == ["Welcome back."]
    assert timeline.events[0].text == "Welcome back."
    assert any("gone.wav' not found; speaking the text instead" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="voiceguide.engine.recorded"):
        compile_session(session, speaker, 8000)  # compiled again (estimate, plan, play): no second warning
    assert not caplog.records


def test_unreadable_recording_falls_back_too(folder: Path) -> None:
    (folder / "broken.wav").write_text("not audio", encoding="utf-8")
    session = parse.load(write(folder, '[[step]]\nsay = "Hello."\naudio = "broken.wav"\n'))
    speaker = FakeSpeaker()
    compile_session(session, speaker, 8000)
    assert [text for text, _ in speaker.calls] == ["Hello."]
    assert "cannot be read as audio" in (recorded.problem(folder / "broken.wav") or "")


def test_validate_warns_but_passes(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(folder, '[[step]]\nsay = "Hi."\naudio = "welcome.wav"\n[[step]]\nsay = "Bye."\naudio = "gone.wav"\n')
    assert cli.main(["validate", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["mine.toml: ok",
                     f"mine.toml: step 2 (say): warning: recording '{folder / 'gone.wav'}' not found; "
                     "the text will be spoken instead"]


def test_render_a_recorded_session(folder: Path, tmp_path: Path) -> None:
    path = write(folder, '[[step]]\nsay = "Welcome back."\naudio = "welcome.wav"\nafter = 0.5\n'
                         '[[step]]\npause = 1\n')
    wav = tmp_path / "out.wav"
    assert cli.main(["render", str(path), "-o", str(wav), "--tts", "fake", "--sample-rate", "16000"]) == 0
    audio, rate = soundfile.read(str(wav), dtype="float32")
    assert rate == 16000
    assert len(audio) == pytest.approx((WELCOME_SECONDS + 0.5 + 1.0) * rate, abs=3)
    assert rms(audio[: int(WELCOME_SECONDS * rate)]) > 0.02
