"""A voice pack: lines a person recorded in their own voice (``voiceguide record``), used as a voice.

A pack is a folder ``~/.local/share/voiceguide/packs/NAME`` (mode 0700) holding one FLAC per recorded line
(mode 0600) and ``pack.json`` (0600), which maps each line's text to its file. A line is found by its exact
words (whitespace folded), so a line that reads differently today (other rounds, another way to stop) is not
found and is spoken by the fallback voice. Takes are stored already trimmed and at the one speech loudness
(``sound.takes``), so they are played as they are.

:class:`PackSpeaker` is the pack as a :class:`~voiceguide.seams.Speaker`: ``recording(text, params)`` gives
the take of a line, and ``synthesize`` speaks every other line with the default voice for the session's
language (Piper for English where installed, espeak-ng otherwise), so a half-recorded pack plays whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from voiceguide import places, safe_read
from voiceguide.errors import InputFileError, OutputError, SpeechError
from voiceguide.seams import Clip, Samples, Speaker, SpeechParams, Voice

log = logging.getLogger(__name__)

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
"""A pack's name: lower-case letters, digits, ``-`` and ``_``, up to 40 (it is a folder name)."""
MANIFEST = "pack.json"
MANIFEST_LIMIT = 4_000_000
"""Largest ``pack.json`` read (a few thousand lines fit in far less)."""
TAKE_LIMIT = 64_000_000
"""Largest take file read."""
SAMPLE_RATE = 48000
"""Takes are stored at this rate."""


def packs_dir() -> Path:
    """Where packs live (``~/.local/share/voiceguide/packs`` on Linux)."""
    return places.data_dir() / "packs"


def line_key(text: str) -> str:
    """The key of a line: its words with whitespace folded, hashed (also the take's file name)."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:24]


def check_name(name: str) -> str:
    """``name`` if it can name a pack, else a :class:`SpeechError` saying what a name may be."""
    if not NAME.fullmatch(name):
        raise SpeechError(f"'{name}' cannot name a voice pack: use lower-case letters, digits, '-' and '_' "
                          "(up to 40, starting with a letter or digit)")
    return name


@dataclass
class Pack:
    """A voice pack on disk and what it holds."""

    name: str
    """Its name (the folder's)."""
    folder: Path
    """Its folder."""
    lines: dict[str, str] = field(default_factory=dict)
    """Line key -> the text recorded."""
    sessions: dict[str, list[str]] = field(default_factory=dict)
    """Session id -> the keys of its lines (recorded or not): for coverage and resuming."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Line key -> text of lines the person chose to skip (asked again only with ``--redo-skipped``)."""

    def take_path(self, key: str) -> Path:
        """The FLAC file of the line with ``key``."""
        return self.folder / f"{key}.flac"

    def has(self, text: str) -> bool:
        """Whether the line ``text`` is recorded."""
        return line_key(text) in self.lines

    def coverage(self, session: str) -> tuple[int, int]:
        """(recorded, all) lines of ``session`` as last walked through."""
        keys = self.sessions.get(session, [])
        return sum(1 for k in keys if k in self.lines), len(keys)

    def load(self, text: str) -> Samples | None:
        """The take of ``text`` (at :data:`SAMPLE_RATE`), or None when it is not recorded or cannot be read."""
        key = line_key(text)
        if key not in self.lines:
            return None
        import soundfile

        try:
            with safe_read.open_regular(self.take_path(key), TAKE_LIMIT) as f:
                data, rate = soundfile.read(f, dtype="float32", always_2d=True)
        except (InputFileError, soundfile.LibsndfileError, RuntimeError, OSError) as exc:
            log.warning("the recording of %r in pack %s cannot be read (%s); the voice says it", text[:40],
                        self.name, exc)
            return None
        samples: Samples = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
        if int(rate) != SAMPLE_RATE:
            import soxr

            samples = np.ascontiguousarray(soxr.resample(samples, int(rate), SAMPLE_RATE), dtype=np.float32)
        return samples

    def manifest(self) -> dict[str, object]:
        """What ``pack.json`` holds."""
        return {"format": 1, "name": self.name, "lines": self.lines, "sessions": self.sessions,
                "skipped": self.skipped}


def _private_folder(folder: Path) -> None:
    places.private_dir(folder)


def _write_private(path: Path, write: Callable[[str], object]) -> None:
    """Write ``path`` through a temporary file beside it (mode 0600), replaced only once complete; any
    failure (a full disk) leaves the old file as it was and is an :class:`OutputError`."""
    try:
        with places.replacing(path, sync=True) as tmp:
            write(tmp)
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"cannot save {path.name} in {path.parent}: {exc}") from exc


def open_pack(name: str, folder: Path | None = None, create: bool = False) -> Pack:
    """The pack called ``name`` (in ``folder`` or :func:`packs_dir`); ``create`` makes it if it is missing."""
    root = folder or packs_dir()
    path = root / check_name(name)
    manifest = path / MANIFEST
    if not manifest.exists():
        if not create:
            raise SpeechError(f"no voice pack called '{name}'; 'voiceguide record SESSION --pack {name}' makes one")
        _private_folder(root)  # the packs folder too: even the names of packs are nobody else's business
        _private_folder(path)
        return Pack(name, path)
    try:
        doc = json.loads(safe_read.read_text(manifest, MANIFEST_LIMIT))
        lines = {str(k): str(v) for k, v in doc.get("lines", {}).items()}
        sessions = {str(k): [str(x) for x in v] for k, v in doc.get("sessions", {}).items()}
        skipped = {str(k): str(v) for k, v in doc.get("skipped", {}).items()}
    except (InputFileError, ValueError, AttributeError, TypeError) as exc:
        raise SpeechError(f"voice pack '{name}' cannot be read ({manifest}: {exc})") from exc
    return Pack(name, path, lines, sessions, skipped)


def save_manifest(pack: Pack) -> None:
    """Write the pack's ``pack.json`` (atomically; an :class:`OutputError` leaves the last one)."""
    _private_folder(pack.folder)
    text = json.dumps(pack.manifest(), indent=1, ensure_ascii=False)
    _write_private(pack.folder / MANIFEST, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def keep_take(pack: Pack, text: str, samples: Samples) -> None:
    """Store ``samples`` (at :data:`SAMPLE_RATE`) as the take of ``text`` and record it in the manifest.

    The take is written first, then the manifest: a failure in either (a full disk) raises
    :class:`OutputError` and leaves every take kept before as it was."""
    import soundfile

    _private_folder(pack.folder)
    key = line_key(text)
    _write_private(pack.take_path(key), lambda tmp: soundfile.write(tmp, samples, SAMPLE_RATE, format="FLAC",
                                                                     subtype="PCM_24"))
    before = dict(pack.lines), dict(pack.skipped)
    pack.lines[key] = text
    pack.skipped.pop(key, None)
    try:
        save_manifest(pack)
    except OutputError:
        pack.lines, pack.skipped = before
        raise


def list_packs(folder: Path | None = None) -> list[Pack]:
    """Every readable pack (an unreadable one is logged and left out)."""
    root = folder or packs_dir()
    found = []
    for path in sorted(root.glob(f"*/{MANIFEST}")) if root.is_dir() else []:
        try:
            found.append(open_pack(path.parent.name, root))
        except SpeechError as exc:
            log.info("%s", exc)
    return found


def is_pack(name: str | None, folder: Path | None = None) -> bool:
    """Whether ``name`` names a pack here."""
    return bool(name) and NAME.fullmatch(name or "") is not None and \
        ((folder or packs_dir()) / str(name) / MANIFEST).is_file()


class PackSpeaker:
    """Voice packs as a speech backend: a recorded line is its take, every other line the fallback voice's."""

    name = "pack"

    def __init__(self, fallback: Callable[[str], Speaker], folder: Path | None = None) -> None:
        """``fallback(language)`` gives the speaker for a session's other lines (made once per language)."""
        self._make_fallback = fallback
        self._fallbacks: dict[str, Speaker] = {}
        self._folder = folder
        self._packs: dict[str, Pack] = {}

    def _pack(self, params: SpeechParams) -> Pack:
        name = params.voice or ""
        if name not in self._packs:
            self._packs[name] = open_pack(check_name(name), self._folder)
        return self._packs[name]

    def _fallback(self, params: SpeechParams) -> Speaker:
        language = params.language
        if language not in self._fallbacks:
            self._fallbacks[language] = self._make_fallback(language)
        return self._fallbacks[language]

    def recording(self, text: str, params: SpeechParams) -> Clip | None:
        """The recorded take of ``text`` in the pack ``params.voice``, or None."""
        samples = self._pack(params).load(text)
        return None if samples is None else Clip(samples, SAMPLE_RATE)

    def is_cached(self, text: str, params: SpeechParams) -> bool:
        """Whether the line costs nothing to make: recorded, or in the fallback voice's cache."""
        if self._pack(params).has(text):
            return True
        check: Callable[[str, SpeechParams], bool] | None = getattr(self._fallback(params), "is_cached", None)
        return check is not None and check(text, replace(params, voice=None))

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        """``text`` in the fallback voice (the default one for the session's language)."""
        return self._fallback(params).synthesize(text, replace(params, voice=None))

    def voices(self) -> list[Voice]:
        """Every pack here."""
        return [Voice(p.name, f"Recorded: {p.name} ({len(p.lines)} lines)", ()) for p in list_packs(self._folder)]

    def resolve_voice(self, params: SpeechParams) -> str:
        """The pack's name (a missing pack is a :class:`SpeechError`)."""
        return self._pack(params).name

    def close(self) -> None:
        """Close the fallback voices."""
        for speaker in self._fallbacks.values():
            speaker.close()
        self._fallbacks.clear()
