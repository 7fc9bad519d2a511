"""Real human speech that the tests share with the speech benchmark (``benchmarks.stt``): the five
public-domain LibriVox clips in pocketsphinx 5.1.1's source archive, with their transcripts.

The archive is fetched once with ``pip download`` into a cache folder (``$VOICEGUIDE_TEST_DATA`` or
``~/.cache/voiceguide-test-data``): developer tooling uses the network, the voiceguide program never does.
``tests.speech_data`` wraps this for the tests (a lock, and a skip when the clips cannot be had).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from tests.measure import normalise
from voiceguide.errors import VoiceguideError
from voiceguide.seams import Clip

PACKAGE = "pocketsphinx==5.1.1"
"""The source archive whose test/data/librivox holds the clips."""

CLIP_COUNT = 5
"""How many clips it holds."""


def default_cache() -> Path:
    """``$VOICEGUIDE_TEST_DATA`` or ``~/.cache/voiceguide-test-data``."""
    return Path(os.environ.get("VOICEGUIDE_TEST_DATA") or Path.home() / ".cache" / "voiceguide-test-data")


@dataclass(frozen=True)
class LabeledClip:
    """A recording with what was said in it."""

    name: str
    """File stem, e.g. ``sense_and_sensibility_01_austen_64kb-0880``."""
    path: Path
    """The WAV file."""
    reference: str
    """The words spoken, lowercase."""


def _clips_in(folder: Path) -> list[LabeledClip]:
    clips = []
    for wav in sorted(folder.glob("*.wav")):
        txt = wav.with_suffix(".txt")
        if txt.is_file():
            clips.append(LabeledClip(wav.stem, wav, " ".join(normalise(txt.read_text(encoding="utf-8")))))
    return clips


def pip_download(spec: str, pattern: str, cache: Path, *options: str, timeout: float = 1200.0) -> Path:
    """The file matching ``pattern`` in ``cache``, fetched there with ``pip download --no-deps OPTIONS SPEC``
    the first time; :class:`VoiceguideError` when pip cannot get it."""
    found = sorted(cache.glob(pattern))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", *options, spec, "-d", str(cache), "--quiet"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VoiceguideError(f"cannot run pip download: {exc}") from exc
        found = sorted(cache.glob(pattern))
        if done.returncode != 0 or not found:
            raise VoiceguideError(f"pip download {spec} failed: {done.stderr.strip()[-500:]}")
    return found[0]


def fetch_librivox(cache: Path | None = None, timeout: float = 1200.0) -> list[LabeledClip]:
    """The LibriVox clips, downloading pocketsphinx's source archive with pip the first time.

    Raises :class:`VoiceguideError` when the archive cannot be had."""
    cache = cache or default_cache()
    folder = cache / "librivox"
    clips = _clips_in(folder) if folder.is_dir() else []
    if len(clips) >= CLIP_COUNT:
        return clips
    cache.mkdir(parents=True, exist_ok=True)
    archives = [pip_download(PACKAGE, "pocketsphinx-5.1.1.tar.gz", cache, "--no-binary=:all:", timeout=timeout)]
    folder.mkdir(exist_ok=True)
    try:
        with tarfile.open(archives[0]) as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if member.isfile() and parts[-2:-1] == ("librivox",) and member.name.endswith((".wav", ".txt")):
                    source = tar.extractfile(member)
                    if source is not None:
                        (folder / parts[-1]).write_bytes(source.read())
    except (OSError, tarfile.TarError) as exc:
        raise VoiceguideError(f"cannot unpack {archives[0]}: {exc}") from exc
    clips = _clips_in(folder)
    if len(clips) < CLIP_COUNT:
        raise VoiceguideError(f"{archives[0]} held {len(clips)} LibriVox clips, expected {CLIP_COUNT}")
    return clips


CARDS = 5
"""How many clips the archive's test/data/cards holds (one speaker naming playing cards, with pauses)."""


def fetch_cards(cache: Path | None = None, timeout: float = 1200.0) -> list[LabeledClip]:
    """The archive's short 'cards' utterances ("ten of clubs", ...), from the same cached archive as the
    LibriVox clips. Raises :class:`VoiceguideError` when it cannot be had."""
    cache = cache or default_cache()
    folder = cache / "cards"
    found = sorted(folder.glob("*.wav")) if folder.is_dir() else []
    if len(found) < CARDS:
        cache.mkdir(parents=True, exist_ok=True)
        archive = pip_download(PACKAGE, "pocketsphinx-5.1.1.tar.gz", cache, "--no-binary=:all:", timeout=timeout)
        folder.mkdir(exist_ok=True)
        try:
            with tarfile.open(archive) as tar:
                for member in tar.getmembers():
                    parts = Path(member.name).parts
                    if member.isfile() and parts[-2:-1] == ("cards",) and member.name.endswith(
                            (".wav", ".transcription")):
                        source = tar.extractfile(member)
                        if source is not None:
                            (folder / parts[-1]).write_bytes(source.read())
        except (OSError, tarfile.TarError) as exc:
            raise VoiceguideError(f"cannot unpack {archive}: {exc}") from exc
        found = sorted(folder.glob("*.wav"))
    if len(found) < CARDS:
        raise VoiceguideError(f"the archive held {len(found)} cards clips, expected {CARDS}")
    said: dict[str, str] = {}
    listing = folder / "cards.transcription"
    if listing.is_file():
        for line in listing.read_text(encoding="utf-8").splitlines():
            if "(" in line:
                words, _, name = line.rpartition("(")
                said[name.strip(") ")] = " ".join(w for w in words.split() if not w.startswith("<"))
    return [LabeledClip(wav.stem, wav, said.get(wav.stem, "")) for wav in found]


def load_clip(path: Path) -> Clip:
    """A WAV as a float32 mono clip."""
    from voiceguide.journal.audio import load

    return load(path)
