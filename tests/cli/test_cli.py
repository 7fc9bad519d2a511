"""The command line through cli.main(argv): output shapes, exit codes, and clean messages instead of tracebacks."""

from __future__ import annotations

import builtins
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.helpers import SCRIPTS, script
from voiceguide.backends import sounddevice_out
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.cli import main as cli
from voiceguide.cli.view import clock_text
from voiceguide.engine.builder import estimate_minutes
from voiceguide.engine.compile import compile_session
from voiceguide.engine.mix import Mixer
from voiceguide.errors import AudioUnavailable
from voiceguide.script import library, parse

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run("show", "box")`` -> (exit code, stdout, stderr); fails on any traceback."""

    def call(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err
        return code, out.out, out.err

    return call


def test_user_dirs_are_isolated(isolated_user_dirs: Path) -> None:
    assert library.cache_dir().is_relative_to(isolated_user_dirs)
    assert library.user_scripts_dir().is_relative_to(isolated_user_dirs)


# --- list ------------------------------------------------------------------------------------------

def test_list_json(run: Run) -> None:
    code, out, err = run("list", "--json")
    assert code == 0 and err == ""
    rows = json.loads(out)
    bundled = sorted(p.stem for p in SCRIPTS.glob("*.toml"))
    assert [r["id"] for r in rows] == bundled
    for row in rows:
        assert isinstance(row["id"], str)
        assert isinstance(row["title"], str) and row["title"]
        assert isinstance(row["language"], str) and row["language"]
        assert isinstance(row["minutes"], float) and row["minutes"] > 0
        assert row["bundled"] is True
    box = next(r for r in rows if r["id"] == "box")
    assert box["title"] == "Box breathing"
    assert box["language"] == "en"
    assert 4.0 < box["minutes"] < 7.0


def test_list_includes_user_sessions_and_skips_invalid_ones(run: Run) -> None:
    folder = library.user_scripts_dir()
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(script('[[step]]\npause = 90\n'), encoding="utf-8")
    (folder / "broken.toml").write_text('[session]\n[[step]]\npause = -1\n', encoding="utf-8")
    code, out, err = run("list", "--json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["mine"]["bundled"] is False
    assert rows["mine"]["minutes"] == 1.5
    assert rows["mine"]["title"] == "Test"
    assert "broken" not in rows
    assert "skipping invalid" in err
    assert "broken.toml: [session]: title is required" in err


@pytest.mark.parametrize("name", ["box", "demo"])
def test_listed_minutes_match_a_fake_compile(name: str) -> None:
    session = parse.load(SCRIPTS / f"{name}.toml")
    full = compile_session(session, FakeSpeaker(), 8000).seconds / 60.0
    assert estimate_minutes(session) == pytest.approx(full, abs=1e-3)


def test_list_plain(run: Run) -> None:
    code, out, _ = run("list")
    assert code == 0
    assert re.search(r"^box\s+Box breathing\s+en\s+~\s*\d+\.\d min", out, re.M)


# --- show ------------------------------------------------------------------------------------------

def test_show_lists_steps_with_start_times_and_total(run: Run) -> None:
    code, out, err = run("show", "box", "--tts", "fake")
    assert code == 0 and err == ""
    session = parse.load(SCRIPTS / "box.toml")
    timeline = compile_session(session, FakeSpeaker(), 48000)
    lines = out.splitlines()
    assert lines[0].startswith("Box breathing  (box, en)")
    step_lines = [line for line in lines if re.match(r"^\s*\d+:\d\d\s+\d+\s+\w+", line)]
    assert len(step_lines) == len(session.steps)
    for line, step, start in zip(step_lines, session.steps, timeline.step_starts, strict=True):
        when, number, action = line.split(maxsplit=2)
        assert when == clock_text(start / 48000)
        assert int(number) == step.index
        assert action.startswith(step.name)
    assert 'say   "Welcome. Let\'s settle in for a few minutes of box breathing."' in out
    assert "breathe box (inhale 4, hold 4, exhale 4, rest 4) x 8, cue both" in out
    assert lines[-1] == f"total {clock_text(timeline.seconds)} ({timeline.seconds:.1f} s)"


def test_show_a_script_by_path(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "short.toml"
    path.write_text(script('[[step]]\npause = 61\n[[step]]\nchime = "bell"\n'), encoding="utf-8")
    code, out, _ = run("show", str(path), "--tts", "fake")
    assert code == 0
    assert "  0:00    1  pause 61 s" in out
    assert "  1:01    2  chime bell" in out


# --- render ----------------------------------------------------------------------------------------

def test_render_writes_wav_and_timeline(run: Run, tmp_path: Path) -> None:
    wav, tl = tmp_path / "demo.wav", tmp_path / "demo.json"
    code, out, err = run("render", "demo", "-o", str(wav), "--tts", "fake", "--timeline", str(tl))
    assert code == 0 and err == ""
    assert out.startswith(f"wrote {wav} (")
    info = soundfile.info(str(wav))
    data = json.loads(tl.read_text(encoding="utf-8"))
    assert info.samplerate == 48000 == data["sample_rate"]
    assert info.channels == 1
    assert info.frames == round(data["length"] * 48000)
    expected = compile_session(parse.load(SCRIPTS / "demo.toml"), FakeSpeaker(), 48000)
    assert info.frames == expected.length
    assert isinstance(data["events"], list) and data["events"]
    for item, ev in zip(data["events"], expected.events, strict=True):
        assert {"kind", "start", "end"} <= set(item)
        assert item["kind"] == ev.kind
        assert item["start"] == ev.start / 48000 and item["end"] == ev.end / 48000
        assert ("text" in item) == (item["kind"] == "speech")
    assert any(item.get("text") == "Hello. This is one quiet minute, just for you." for item in data["events"])
    audio, _ = soundfile.read(str(wav), dtype="float32")
    np.testing.assert_allclose(audio, Mixer(expected).render(), atol=1.5 / 32768)


def test_render_at_another_rate(run: Run, tmp_path: Path) -> None:
    wav = tmp_path / "box.wav"
    code, _, _ = run("render", "box", "-o", str(wav), "--tts", "fake", "--sample-rate", "16000")
    assert code == 0
    assert soundfile.info(str(wav)).samplerate == 16000


def test_render_uses_the_speech_cache(run: Run, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ("render", "demo", "-o", str(tmp_path / "a.wav"), "--tts", "fake", "--cache-dir", str(cache))
    assert run(*args)[0] == 0
    cached = sorted((cache / "speech").glob("*.wav"))
    assert len(cached) > 5
    assert run(*args)[0] == 0
    assert sorted((cache / "speech").glob("*.wav")) == cached


# --- run -------------------------------------------------------------------------------------------

def test_run_fake_finishes_and_writes_the_played_timeline(run: Run, tmp_path: Path) -> None:
    played, rendered = tmp_path / "played.json", tmp_path / "rendered.json"
    code, out, err = run("run", "demo", "--backend", "fake", "--timeline", str(played))
    assert code == 0 and err == ""
    assert "A one-minute pause: finished after" in out
    assert run("render", "demo", "-o", str(tmp_path / "d.wav"), "--tts", "fake", "--timeline", str(rendered))[0] == 0
    a = json.loads(played.read_text(encoding="utf-8"))
    b = json.loads(rendered.read_text(encoding="utf-8"))
    assert a["sample_rate"] == b["sample_rate"] == 48000
    assert a["events"] == b["events"]  # nothing paused or skipped: played exactly as compiled


def test_run_prints_steps_as_they_play(run: Run) -> None:
    code, out, _ = run("run", "demo", "--backend", "fake", "--sample-rate", "8000")
    assert code == 0
    assert re.search(r"^\[0:00\] step 1$", out, re.M)
    assert "step 2: Hello. This is one quiet minute, just for you." in out


# --- errors: clean messages and exit codes ---------------------------------------------------------

def test_unknown_session(run: Run) -> None:
    code, out, err = run("show", "calmm", "--tts", "fake")
    assert code == 1 and out == ""
    known = ", ".join(sorted({e.id for e in library.entries()}))
    assert {"box", "demo"} <= set(known.split(", "))
    assert err == f"voiceguide: no session called 'calmm'; known: {known}\n"


def test_missing_session_file(run: Run, tmp_path: Path) -> None:
    code, _, err = run("render", str(tmp_path / "gone.toml"), "-o", str(tmp_path / "x.wav"), "--tts", "fake")
    assert code == 1
    assert err == f"voiceguide: no such session file: {tmp_path / 'gone.toml'}\n"


@pytest.mark.parametrize("command", ["show", "render", "run"])
def test_invalid_script_is_reported_not_raised(command: str, run: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(script('[[step]]\nbreathe = "boxx"\n'), encoding="utf-8")
    extra = {"show": ["--tts", "fake"], "render": ["-o", str(tmp_path / "x.wav"), "--tts", "fake"],
             "run": ["--backend", "fake"]}[command]
    code, _, err = run(command, str(path), *extra)
    assert code == 1
    assert err.startswith("voiceguide: bad.toml: step 1 (breathe): unknown pattern 'boxx'; known: box, 4-7-8")
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--rate", "5"], "voiceguide: --rate must be from 60 to 300\n"),
    (["--volume", "3"], "voiceguide: --volume must be from 0 to 1\n"),
    (["--volume", "-0.5"], "voiceguide: --volume must be from 0 to 1\n"),
    (["--sample-rate", "100"], "voiceguide: --sample-rate must be from 8000 to 192000\n"),
    (["--tts", "espeak9"], "voiceguide: unknown speech backend 'espeak9'; known: espeak, pyttsx3, fake, piper\n"),
])
@pytest.mark.parametrize("command", ["show", "run"])
def test_bad_options_give_clean_errors(command: str, args: list[str], message: str, run: Run) -> None:
    extra = ["--tts", "fake"] if command == "show" and "--tts" not in args else ["--backend", "fake"]
    code, _, err = run(command, "demo", *extra, *args)
    assert code == 1
    assert err == message


def test_unwritable_outputs(run: Run, tmp_path: Path) -> None:
    code, _, err = run("render", "demo", "-o", str(tmp_path / "no" / "x.wav"), "--tts", "fake")
    assert code == 1
    assert err.startswith(f"voiceguide: cannot write {tmp_path / 'no' / 'x.wav'}")
    code, _, err = run("run", "demo", "--backend", "fake", "--sample-rate", "8000",
                       "--timeline", str(tmp_path / "no" / "t.json"))
    assert code == 1
    assert err == f"voiceguide: cannot write timeline {tmp_path / 'no' / 't.json'}: the folder {tmp_path / 'no'} " \
                  "does not exist\n"


def test_usage_errors_exit_2_without_traceback(run: Run) -> None:
    with pytest.raises(SystemExit) as info:
        run("render", "demo")  # -o is required
    assert info.value.code == 2


# --- no audio device: exit 2 with one paragraph of help --------------------------------------------

def assert_no_device_message(code: int, out: str, err: str) -> None:
    assert code == 2
    assert err.startswith("voiceguide: No ")
    assert err.count("\n") == 1 and err.endswith("\n")  # one paragraph
    assert "render" in err and "--device" in err
    assert "Traceback" not in err


@pytest.fixture
def speech_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every line the fake speaker is asked for."""
    said: list[str] = []
    original = FakeSpeaker.synthesize

    def spy(self: FakeSpeaker, text: str, params: Any) -> Any:
        said.append(text)
        return original(self, text, params)

    monkeypatch.setattr(FakeSpeaker, "synthesize", spy)
    return said


def test_no_device_via_import_sounddevice(run: Run, monkeypatch: pytest.MonkeyPatch, speech_spy: list[str]) -> None:
    def unavailable() -> Any:
        raise AudioUnavailable(f"No audio output: simulated. {sounddevice_out.MISSING_HELP}")

    monkeypatch.setattr(sounddevice_out, "import_sounddevice", unavailable)
    assert_no_device_message(*run("run", "demo", "--tts", "fake"))
    assert speech_spy == []  # failed before spending time on speech


def test_no_device_when_portaudio_is_missing(run: Run, monkeypatch: pytest.MonkeyPatch,
                                             speech_spy: list[str]) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    code, out, err = run("run", "demo", "--tts", "fake")
    assert_no_device_message(code, out, err)
    assert "PortAudio library is missing (PortAudio library not found)" in err
    assert speech_spy == []
    assert_no_device_message(*run("devices"))


def test_no_device_when_portaudio_reports_an_error(run: Run, monkeypatch: pytest.MonkeyPatch,
                                                   speech_spy: list[str]) -> None:
    sd = pytest.importorskip("sounddevice")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise sd.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sd, "query_devices", broken)
    code, out, err = run("run", "demo", "--tts", "fake")
    assert_no_device_message(code, out, err)
    assert "Error querying device -1" in err
    assert speech_spy == []
    assert_no_device_message(*run("devices"))


def test_no_device_matching_the_name(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    sd = pytest.importorskip("sounddevice")

    def query(device: Any = None, kind: Any = None) -> Any:
        if device is None:
            return [{"name": "Speakers", "max_output_channels": 2, "max_input_channels": 0,
                     "default_samplerate": 48000.0}]
        raise ValueError(f"No output device matching {device!r}")

    monkeypatch.setattr(sd, "query_devices", query)
    code, _, err = run("run", "demo", "--tts", "fake", "--device", "hdmi")
    assert code == 2
    assert "No output device matches 'hdmi'" in err
    assert "Outputs: Speakers." in err
    assert err.count("\n") == 1


# --- small commands ----------------------------------------------------------------------------------

def test_voices_fake(run: Run) -> None:
    code, out, _ = run("voices", "--tts", "fake")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["fake-en", "fake-nl"]
    code, out, _ = run("voices", "--tts", "fake", "--language", "nl")
    assert [line.split()[0] for line in out.splitlines()] == ["fake-nl"]


def test_version(run: Run) -> None:
    with pytest.raises(SystemExit) as info:
        run("--version")
    assert info.value.code == 0
