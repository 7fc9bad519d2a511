"""The sessions the page can start, and checking and saving a script a person uploads or pastes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide.errors import Problem, ScriptError
from voiceguide.script import library, parse
from voiceguide.script.limits import MAX_USER_SCRIPTS, MAX_USER_SCRIPTS_BYTES
from voiceguide.script.model import Affirm, Breathe, Listen, Session

MAX_SCRIPT = 256 * 1024
"""Largest script accepted from the page, in bytes."""
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
"""What a saved session's id may look like (it becomes the file name)."""


@dataclass(frozen=True)
class Item:
    """One session the page lists."""

    id: str
    """Its id (what ``ctl start`` takes)."""
    title: str
    """Its title."""
    language: str
    """Its language code."""
    kind: str
    """``breathing``, ``affirmations``, ``reflection`` or ``guided``."""
    minutes: float
    """Its length as written, roughly."""
    mine: bool
    """True for the person's own sessions (the user scripts folder)."""


def kind_of(session: Session) -> str:
    """What sort of session it is, from its steps."""
    actions = [type(s.action) for s in session.steps]
    if Breathe in actions:
        return "breathing"
    if Affirm in actions:
        return "affirmations"
    if Listen in actions:
        return "reflection"
    return "guided"


_cached: list[tuple[str, list[Item]]] = []
"""The last listing and the file key it was made for."""


def _minutes() -> dict[str, float]:
    """Each session's length from ``voiceguide list --json``, run in a child process: estimating compiles
    every session, which would leave the daemon's own memory ~14 MB larger for good (measured)."""
    try:
        done = subprocess.run([sys.executable, "-m", "voiceguide", "list", "--json"], capture_output=True,
                              text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
        rows = json.loads(done.stdout) if done.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError):
        rows = []
    return {str(r["id"]): float(r["minutes"]) for r in rows if isinstance(r, dict) and "id" in r and "minutes" in r}


def items() -> list[Item]:
    """Every valid session, by language, kind and title (invalid files are left out); worked out again only
    when a script file was added, removed or changed."""
    entries = library.entries()
    try:
        key = repr([(str(e.path), e.path.stat().st_mtime) for e in entries])
    except OSError:
        key = ""
    if key and _cached and _cached[0][0] == key:
        return list(_cached[0][1])
    minutes = _minutes()
    found = []
    for entry in entries:
        try:
            session = parse.load(entry.path)
        except ScriptError:
            continue
        found.append(Item(entry.id, session.title, session.language, kind_of(session),
                          round(minutes.get(entry.id, 0.0), 1), not entry.bundled))
    found.sort(key=lambda i: (i.language, i.kind, i.title.lower()))
    _cached[:] = [(key, found)]
    return list(found)


def titled(status: dict[str, Any]) -> dict[str, Any]:
    """The daemon's status with ``title``: the playing session's title, for a person to read instead of its
    id (left out when the session was started by a path or is no longer in the library)."""
    session = status.get("session")
    if not isinstance(session, str):
        return status
    title = next((item.title for item in items() if item.id == session), None)
    return {**status, "title": title} if title else status


@dataclass(frozen=True)
class Checked:
    """The outcome of checking an uploaded script."""

    problems: tuple[Problem, ...]
    """Every problem ``voiceguide validate`` would print (empty when it is valid)."""
    saved: Path | None = None
    """Where it was saved, when it was valid and saved."""


def check_and_save(raw: bytes, name: str, folder: Path | None = None, save: bool = True) -> Checked:
    """Validate ``raw`` like ``voiceguide validate``; save a valid one as ``folder/NAME.toml``."""
    folder = folder if folder is not None else library.user_scripts_dir()
    label = f"{name}.toml"
    if not NAME.fullmatch(name):
        return Checked((Problem(label, "name", "use 1-40 small letters, digits, - or _, starting with a letter "
                                              "or digit"),))
    if len(raw) > MAX_SCRIPT:
        return Checked((Problem(label, "file", f"larger than {MAX_SCRIPT // 1024} KB"),))
    try:
        parse.loads(raw, name=label, session_id=name, script_dir=folder)
    except ScriptError as exc:
        return Checked(tuple(exc.problems))
    if not save:
        return Checked(())
    if any(e.id == name for e in library.entries()):
        return Checked((Problem(label, "name", f"a session called '{name}' already exists; choose another name"),))
    full = _folder_full(folder, len(raw))
    if full is not None:
        return Checked((Problem(label, "file", full),))
    target = folder / label
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return Checked((Problem(label, "name", f"a session called '{name}' already exists"),))
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
    return Checked((), target)


def _folder_full(folder: Path, adding: int) -> str | None:
    """Why ``adding`` more bytes of script may not be saved in ``folder`` (None: they may)."""
    count = size = 0
    try:
        for path in folder.glob("*.toml"):
            count += 1
            size += path.lstat().st_size
    except OSError:
        pass  # a folder that cannot be listed is reported when the script is written
    if count >= MAX_USER_SCRIPTS:
        return f"there are already {count} sessions of your own (at most {MAX_USER_SCRIPTS}); delete some first"
    if size + adding > MAX_USER_SCRIPTS_BYTES:
        return (f"your sessions would take more than {MAX_USER_SCRIPTS_BYTES // (1024 * 1024)} MB together; "
                "delete some first")
    return None
