"""Answer audio beside the journal: FLAC files readable by the owner only."""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide import places
from voiceguide.errors import JournalError

if TYPE_CHECKING:
    from voiceguide.seams import Clip

AUDIO_DIR = "audio"
"""Folder, next to the journal database, that holds answer audio."""


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; a folder we create is 0700 (an existing one is left as it is)."""
    try:
        return places.private_dir(path, tighten=False)
    except OSError as exc:
        raise JournalError(f"cannot create {path}: {exc.strerror or exc}") from exc


def save_flac(folder: Path, clip: Clip) -> Path:
    """Write ``clip`` as 16-bit FLAC under ``folder`` with a fresh random name, mode 0600; returns the path."""
    import numpy as np  # numpy and soundfile load only when audio is written (not for 'journal list')
    import soundfile

    private_dir(folder)
    path = folder / f"{uuid.uuid4().hex}.flac"
    samples = np.clip(np.asarray(clip.samples, dtype=np.float32), -1.0, 1.0)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            soundfile.write(handle, samples, clip.sample_rate, format="FLAC", subtype="PCM_16")
            handle.flush()
            os.fsync(handle.fileno())
    except (OSError, RuntimeError, ValueError) as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        raise JournalError(f"cannot write answer audio {path}: {exc}") from exc
    return path


def confined(audio_dir: Path, base: Path, stored: str) -> Path:
    """Where ``stored`` (an audio path read from the database, relative to ``base``) really points, symlinks
    resolved; :class:`JournalError` unless that lies inside ``audio_dir``.

    The database is data: a journal copied from another machine, or edited by hand, may hold an absolute
    path or one with ``..`` in it. Nothing outside the journal's own audio folder is ever read or deleted.
    """
    try:
        if "\0" in stored:
            raise ValueError("a NUL character")
        folder = audio_dir.resolve()
        target = (base / stored).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: a symlink loop (before Python 3.13)
        raise JournalError(f"the audio path {stored!r} cannot be used ({exc})") from exc
    if target == folder or not target.is_relative_to(folder):
        raise JournalError(f"the audio path {stored!r} lies outside the journal's audio folder {folder}")
    return target


def load(path: Path) -> Clip:
    """Read an audio file (FLAC, WAV ...) as a mono clip."""
    import numpy as np

    from voiceguide.seams import Clip
    from voiceguide.sound.sounds import read_file

    data, rate = read_file(path, "audio")  # a regular file of bounded size only
    return Clip(np.asarray(data.mean(axis=1), dtype=np.float32), int(rate))


def remove(path: Path) -> bool:
    """Delete the regular file ``path``; False when it was already gone. Anything else (a folder, a device)
    is left alone with a :class:`JournalError`."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            raise JournalError(f"{path} is not an audio file; left alone")
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise JournalError(f"cannot delete answer audio {path}: {exc.strerror or exc}") from exc
    return True
