"""Where bundled and user sessions and sounds live, and finding a session by id or path."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from voiceguide import places
from voiceguide.errors import SessionNotFound

log = logging.getLogger(__name__)

APP = "voiceguide"


def data_dir(kind: str) -> Path:
    """The bundled ``scripts`` or ``audio`` folder, installed or in a source checkout."""
    package = Path(__file__).resolve().parents[1]  # voiceguide/
    installed = package / "_data" / kind
    if installed.is_dir():
        return installed
    return package.parent / kind


def user_scripts_dir() -> Path:
    """Where a user keeps their own sessions (``~/.config/voiceguide/scripts`` on Linux)."""
    return places.config_dir() / "scripts"


def cache_dir() -> Path:
    """Where rendered speech is cached."""
    return places.cache_dir()


@dataclass(frozen=True)
class Entry:
    """A session file found on disk."""

    id: str
    """The file name without ``.toml``."""
    path: Path
    """The script file."""
    bundled: bool
    """True for sessions shipped with voiceguide."""


def entries() -> list[Entry]:
    """Every session file, sorted by id; a user file with a bundled id replaces the bundled one."""
    found: dict[str, Entry] = {}
    for folder, bundled in ((data_dir("scripts"), True), (user_scripts_dir(), False)):
        if folder.is_dir():
            found.update((p.stem, Entry(p.stem, p, bundled)) for p in folder.glob("*.toml"))
    return sorted(found.values(), key=lambda e: e.id)


def is_file(path: Path) -> bool:
    """``path.is_file()``, but False for a name the system cannot look up (too long, a NUL byte in it)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def exists(path: Path) -> bool:
    """``path.exists()``, but False for a name the system cannot look up."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def expand(name: str) -> Path:
    """``~`` expanded; a ``~user`` with no such user stays as written."""
    try:
        return Path(name).expanduser()
    except RuntimeError:
        return Path(name)


def find(name: str, *, relative: bool = True) -> Path:
    """Resolve a session given as a bundled/user id or as a path to a TOML file.

    An id is looked up first, so a file of that name in the working folder never stands in for it. With
    ``relative=False`` (the daemon, whose working folder is nobody's choice) a path must be absolute (``~``
    is expanded); a relative one is refused instead of being looked up in the working folder."""
    for entry in entries():  # a user's file of the same id has replaced the bundled one
        if entry.id == name:
            return entry.path
    candidate = expand(name)
    if candidate.suffix == ".toml" or "/" in name or is_file(candidate):
        if not relative and not candidate.is_absolute():
            raise SessionNotFound(f"no session called '{name}'; a script outside the library must be given by "
                                  "its full path (starting with / or ~)")
        if is_file(candidate):
            return candidate
        raise SessionNotFound(f"no such session file: {name}")
    known = ", ".join(sorted({e.id for e in entries()})) or "none"
    raise SessionNotFound(f"no session called '{name}'; known: {known}")


PARTS = "parts"
"""Sub-folder of the bundled scripts holding pieces meant to be included, not played alone."""


def find_part(name: str, script_dir: Path | None) -> Path | None:
    """A file to include: a path relative to the including script, a bundled part, or a session id."""
    relative = expand(name)
    if not relative.suffix and relative.name:
        relative = relative.with_suffix(".toml")
    candidates = [script_dir / relative] if script_dir is not None and not relative.is_absolute() else [relative]
    candidates.append(data_dir("scripts") / PARTS / relative.name)
    for path in candidates:
        if is_file(path):
            return path
    try:
        return find(name, relative=False)  # a relative path is taken from the script's folder, never the working one
    except SessionNotFound:
        return None


def sound_path(name: str, script_dir: Path | None) -> Path | None:
    """A bundled sound by name, or a file path relative to the script; None if missing."""
    bundled = data_dir("audio") / f"{name}.wav"
    if "/" not in name and "." not in name and is_file(bundled):
        return bundled
    path = expand(name)
    if not path.is_absolute() and script_dir is not None:
        path = script_dir / path
    return path if is_file(path) else None


def bundled_sounds() -> list[str]:
    """Names of the bundled sounds."""
    folder = data_dir("audio")
    return sorted(p.stem for p in folder.glob("*.wav")) if folder.is_dir() else []
