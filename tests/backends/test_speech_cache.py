"""The speech cache: hits and misses, keys, damaged files, and folders it cannot write."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from voiceguide import backends
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.backends.speech_cache import CachedSpeaker
from voiceguide.errors import BackendError
from voiceguide.seams import SpeechParams

PARAMS = SpeechParams(language="en", rate=135, volume=1.0)


@pytest.fixture
def inner() -> FakeSpeaker:
    return FakeSpeaker()


@pytest.fixture
def cache(inner: FakeSpeaker, tmp_path: Path) -> CachedSpeaker:
    return CachedSpeaker(inner, tmp_path)


def test_second_synth_is_a_hit(cache: CachedSpeaker, inner: FakeSpeaker, tmp_path: Path) -> None:
    first = cache.synthesize("Breathe in.", PARAMS)
    assert (cache.hits, cache.misses) == (0, 1)
    second = cache.synthesize("Breathe in.", PARAMS)
    assert (cache.hits, cache.misses) == (1, 1)
    assert len(inner.calls) == 1
    assert second.sample_rate == first.sample_rate == FakeSpeaker.sample_rate
    assert second.samples.dtype == np.float32
    np.testing.assert_array_equal(second.samples, first.samples)
    files = list((tmp_path / "speech").iterdir())
    assert [f.name for f in files] == [f"{cache.key('Breathe in.', PARAMS)}.wav"]


def test_cache_survives_a_new_speaker(cache: CachedSpeaker, tmp_path: Path) -> None:
    cache.synthesize("Hello.", PARAMS)
    again = CachedSpeaker(FakeSpeaker(), tmp_path)
    again.synthesize("Hello.", PARAMS)
    assert (again.hits, again.misses) == (1, 0)
    assert again.inner.calls == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("change", [
    {"text": "Breathe out."},
    {"rate": 136},
    {"voice": "fake-nl"},
    {"language": "nl"},
    {"volume": 0.5},
])
def test_key_changes_with_what_changes_the_audio(cache: CachedSpeaker, change: dict[str, Any]) -> None:
    text = change.pop("text", "Breathe in.")
    params = SpeechParams(**{**PARAMS.__dict__, **change})
    assert cache.key(text, params) != cache.key("Breathe in.", PARAMS)
    assert cache.key("Breathe in.", PARAMS) == cache.key("Breathe in.", SpeechParams(language="en", rate=135))
    cache.synthesize("Breathe in.", PARAMS)
    cache.synthesize(text, params)
    assert (cache.hits, cache.misses) == (0, 2)


def test_key_includes_the_engine(tmp_path: Path) -> None:
    class Other(FakeSpeaker):
        name = "other"

    assert CachedSpeaker(Other(), tmp_path).key("a", PARAMS) != CachedSpeaker(FakeSpeaker(), tmp_path).key("a", PARAMS)


@pytest.mark.parametrize("junk", [b"", b"garbage that is not audio", b"RIFF\x10\x00\x00\x00WAVEfmt "])
def test_unreadable_cache_file_is_rendered_again(cache: CachedSpeaker, inner: FakeSpeaker, tmp_path: Path,
                                                  junk: bytes) -> None:
    path = tmp_path / "speech" / f"{cache.key('Hello.', PARAMS)}.wav"
    path.parent.mkdir(parents=True)
    path.write_bytes(junk)
    clip = cache.synthesize("Hello.", PARAMS)
    assert (cache.hits, cache.misses) == (0, 1)
    assert len(inner.calls) == 1
    assert len(clip.samples) > 1000
    assert path.stat().st_size > 1000  # replaced by a good file
    fresh = CachedSpeaker(FakeSpeaker(), tmp_path)
    np.testing.assert_array_equal(fresh.synthesize("Hello.", PARAMS).samples, clip.samples)
    assert fresh.hits == 1


def test_no_temporary_files_are_left(cache: CachedSpeaker, tmp_path: Path) -> None:
    for text in ("one", "two", "three"):
        cache.synthesize(text, PARAMS)
    assert sorted(p.suffix for p in (tmp_path / "speech").iterdir()) == [".wav"] * 3
    assert len(list((tmp_path / "speech").iterdir())) == 3


def test_unwritable_cache_still_returns_audio(inner: FakeSpeaker, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    cache = CachedSpeaker(inner, tmp_path)
    clip = cache.synthesize("Hello.", PARAMS)
    assert len(clip.samples) > 1000
    assert (cache.hits, cache.misses) == (0, 1)
    again = cache.synthesize("Hello.", PARAMS)
    np.testing.assert_array_equal(again.samples, clip.samples)
    assert (cache.hits, cache.misses) == (0, 2)


def test_full_disk_still_returns_audio_and_leaves_no_temp_file(inner: FakeSpeaker, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(path: str, *args: Any, **kwargs: Any) -> None:
        Path(path).write_bytes(b"RIFF")  # a partial file, as a failed write leaves
        raise soundfile.LibsndfileError(2, f"Error writing {path!r}: ")  # what libsndfile reports on ENOSPC

    monkeypatch.setattr(soundfile, "write", disk_full)
    cache = CachedSpeaker(inner, tmp_path)
    clip = cache.synthesize("Hello.", PARAMS)
    assert len(clip.samples) > 1000
    assert cache.misses == 1
    assert list((tmp_path / "speech").iterdir()) == []


def test_cache_folder_that_is_a_file(inner: FakeSpeaker, tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder", encoding="utf-8")
    cache = CachedSpeaker(inner, blocker)
    assert len(cache.synthesize("Hello.", PARAMS).samples) > 1000
    assert cache.misses == 1


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_still_returns_audio(inner: FakeSpeaker, tmp_path: Path) -> None:
    folder = tmp_path / "speech"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        cache = CachedSpeaker(inner, tmp_path)
        assert len(cache.synthesize("Hello.", PARAMS).samples) > 1000
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_backend_factory_wraps_in_the_cache(tmp_path: Path) -> None:
    cached = backends.speaker("fake", tmp_path)
    assert isinstance(cached, CachedSpeaker)
    assert cached.name == "fake"
    assert [v.id for v in cached.voices()] == ["fake-en", "fake-nl"]
    assert cached.resolve_voice(SpeechParams(language="nl")) == "fake-nl"
    assert isinstance(backends.speaker("fake"), FakeSpeaker)
    with pytest.raises(BackendError, match="unknown speech backend 'nope'; known: espeak, pyttsx3, fake"):
        backends.speaker("nope")


def test_fake_speaker_is_deterministic_and_paced(inner: FakeSpeaker) -> None:
    a = inner.synthesize("one two three", SpeechParams(rate=120))
    b = FakeSpeaker().synthesize("one two three", SpeechParams(rate=120))
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.seconds == pytest.approx(0.2 + 0.9 * 3 * 0.5, abs=1e-3)
    assert FakeSpeaker().synthesize("one two three", SpeechParams(rate=240)).seconds < a.seconds


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_pyttsx3_smoke(tmp_path: Path) -> None:
    from voiceguide.backends.pyttsx3_tts import Pyttsx3Speaker

    speaker = Pyttsx3Speaker()
    try:
        assert speaker.voices()
        cache = CachedSpeaker(speaker, tmp_path)
        clip = cache.synthesize("Breathe in.", SpeechParams(language="en", rate=135))
        assert 0.3 < clip.seconds < 5.0
        assert np.abs(clip.samples).max() > 0.01
        assert cache.synthesize("Breathe in.", SpeechParams(language="en", rate=135)).seconds == clip.seconds
        assert cache.hits == 1
    finally:
        speaker.close()
