"""Taught voice commands, kept: the person's takes of each word, per language, in their data folder.

What is kept is the takes' cepstral frames (see ``taught_match``), not the recordings: enough to match
the words, not to play the voice back. One file per language, ``commands/LANG.npz`` in the user's data
folder (folder 0700, file 0600, written whole and renamed into place), read back as a regular file of
bounded size with no pickles, each array checked for shape and finiteness.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide import places
from voiceguide.backends.taught_match import COEFFS
from voiceguide.errors import InputFileError
from voiceguide.playback.control import Command
from voiceguide.safe_read import read_bytes

LIMIT = 4_000_000
"""Largest file of taught commands, in bytes (six words of three takes are about 100 kB)."""
MOST_FRAMES = 400
"""Most frames in one take (4 s; takes are cut to under 1.5 s)."""
MOST_TAKES = 200
"""Most takes in one file."""
DEFAULT_WORDS: Mapping[str, Mapping[str, Command]] = {
    "nl": {"pauze": Command.PAUSE, "verder": Command.RESUME, "overslaan": Command.SKIP,
           "herhaal": Command.REPEAT, "langzamer": Command.SLOWER, "stop": Command.STOP},
    "en": {"pause": Command.PAUSE, "resume": Command.RESUME, "skip": Command.SKIP,
           "repeat": Command.REPEAT, "slower": Command.SLOWER, "stop": Command.STOP},
}
"""The words offered for teaching, per language (the Dutch sessions say "zeg stop")."""
_LANGUAGE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class TaughtCommands:
    """The taught words of one language."""

    language: str
    """Language code ("nl")."""
    words: Mapping[str, Command]
    """Each taught word and the command it gives."""
    takes: Mapping[str, list[np.ndarray]]
    """Each word's takes as feature frames (frames x 12)."""


def folder(base: Path | None = None) -> Path:
    """Where taught commands are kept: ``commands`` in the user's data folder (or in ``base``)."""
    return (base if base is not None else places.data_dir()) / "commands"


def path_for(language: str, base: Path | None = None) -> Path:
    """The file of ``language``'s taught commands; a bad language code is an :class:`InputFileError`."""
    code = language.split("-")[0].lower()
    if not _LANGUAGE.fullmatch(code):
        raise InputFileError(language, "not a language code (two or three letters, like nl)")
    return folder(base) / f"{code}.npz"


def save(taught: TaughtCommands, base: Path | None = None) -> Path:
    """Keep ``taught`` privately (replacing that language's file whole). Raises ``OSError``."""
    path = path_for(taught.language, base)
    places.private_dir(path.parent)
    meta = {"version": 1, "words": [{"word": w, "command": c.value, "takes": len(taught.takes.get(w, []))}
                                    for w, c in taught.words.items()]}
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)}
    for i, word in enumerate(taught.words):
        for k, take in enumerate(taught.takes.get(word, [])):
            arrays[f"w{i}_{k}"] = np.asarray(take, dtype=np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    with places.replacing(path) as tmp, open(tmp, "wb") as out:
        out.write(buffer.getvalue())
    return path


def load(language: str, base: Path | None = None) -> TaughtCommands | None:
    """The taught commands of ``language``, or None if none were taught; a damaged file is an
    :class:`InputFileError` saying how to teach them again."""
    path = path_for(language, base)
    if not path.exists():
        return None
    data = read_bytes(path, LIMIT)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(bytes(npz["meta"]).decode("utf-8"))
            words: dict[str, Command] = {}
            takes: dict[str, list[np.ndarray]] = {}
            entries = meta["words"]
            if sum(int(e["takes"]) for e in entries) > MOST_TAKES:
                raise ValueError("too many takes")
            for i, entry in enumerate(entries):
                word = str(entry["word"])
                words[word] = Command(entry["command"])
                takes[word] = [_checked(npz[f"w{i}_{k}"]) for k in range(int(entry["takes"]))]
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"the taught voice commands cannot be read ({exc}); teach them again with "
                                   f"'voiceguide commands teach --language {language}'") from exc
    return TaughtCommands(path.stem, words, takes)


def _checked(take: np.ndarray) -> np.ndarray:
    if take.dtype != np.float32 or take.ndim != 2 or take.shape[1] != COEFFS or not 0 < len(take) <= MOST_FRAMES:
        raise ValueError(f"a take of shape {take.shape} ({take.dtype})")
    if not np.isfinite(take).all():
        raise ValueError("a take with values that are not numbers")
    return take


def forget(language: str, base: Path | None = None) -> bool:
    """Delete ``language``'s taught commands; whether there were any."""
    path = path_for(language, base)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def taught_languages(base: Path | None = None) -> list[str]:
    """The languages that have taught commands."""
    where = folder(base)
    return sorted(p.stem for p in where.glob("*.npz")) if where.is_dir() else []
