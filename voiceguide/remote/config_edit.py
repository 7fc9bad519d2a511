"""The schedule and quiet hours, changed from the page and written back to ``config.toml`` with tomlkit.

The document is edited in place (comments, order and layout of everything else stay as they were); the new
text is validated by the daemon's own config reader before it replaces the file, so a change the daemon
would refuse is never written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table
from tomlkit.toml_document import TOMLDocument

from voiceguide import places
from voiceguide.daemon.config_read import loads_config
from voiceguide.errors import ConfigError, Problem

MAX_CONFIG = 1024 * 1024
"""Largest config file read."""


@dataclass(frozen=True)
class EntryForm:
    """One schedule entry as the page sends it."""

    session: str
    """Session id."""
    at: str
    """Time of day, ``HH:MM``."""
    days: str
    """``daily``, ``weekdays``, ``mon-fri``, ``sat,sun`` ..."""
    minutes: float | None
    """Fit to about this many minutes; None plays it as written."""
    ramp: bool
    """Start with the gentle volume rise."""


def read(path: Path) -> TOMLDocument:
    """The config file as a tomlkit document (empty when there is no file yet)."""
    try:
        with path.open("rb") as f:
            if not os.path.isfile(path) or os.fstat(f.fileno()).st_size > MAX_CONFIG:
                raise ConfigError([Problem(path.name, "file", "not a regular file of at most 1 MB")])
            text = f.read().decode("utf-8")
    except FileNotFoundError:
        return tomlkit.document()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(path.name, "file", f"cannot read: {exc}")]) from exc
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError([Problem(path.name, "file", f"invalid TOML: {exc}")]) from exc


def schedule_of(doc: TOMLDocument) -> list[dict[str, Any]]:
    """The ``[[schedule]]`` tables as plain values (for the page)."""
    raw = doc.get("schedule")
    if not isinstance(raw, AoT | list):
        return []
    return [{k: _plain(v) for k, v in t.items()} for t in raw if isinstance(t, dict)]


def _plain(value: object) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value


def set_entry(doc: TOMLDocument, number: int | None, form: EntryForm) -> None:
    """Change entry ``number`` (1-based) or, with None, add one at the end."""
    schedule = doc.get("schedule")
    if schedule is None:
        schedule = tomlkit.aot()
        doc.append("schedule", schedule)
    if not isinstance(schedule, AoT):
        raise ConfigError([Problem("config.toml", "file", "schedule must be written as [[schedule]] tables")])
    if number is None:
        table: Table = tomlkit.table()
        schedule.append(table)
        table = schedule[-1]
    else:
        if not 1 <= number <= len(schedule):
            raise ConfigError([Problem("config.toml", "schedule", f"there is no schedule entry {number}")])
        table = schedule[number - 1]
    table["session"] = form.session
    table["at"] = form.at
    table["days"] = form.days
    if form.minutes is not None:
        table["minutes"] = form.minutes
    elif "minutes" in table:
        del table["minutes"]
    if not form.ramp:
        table["ramp"] = False
    elif "ramp" in table:
        del table["ramp"]


def remove_entry(doc: TOMLDocument, number: int) -> None:
    """Remove entry ``number`` (1-based)."""
    schedule = doc.get("schedule")
    if not isinstance(schedule, AoT) or not 1 <= number <= len(schedule):
        raise ConfigError([Problem("config.toml", "schedule", f"there is no schedule entry {number}")])
    del schedule[number - 1]
    if not len(schedule):
        del doc["schedule"]


def set_quiet(doc: TOMLDocument, start: str | None, end: str | None) -> None:
    """Set the quiet hours, or remove them when ``start`` or ``end`` is None."""
    if start is None or end is None:
        if "quiet_hours" in doc:
            del doc["quiet_hours"]
        return
    quiet = doc.get("quiet_hours")
    if not isinstance(quiet, Table):
        quiet = tomlkit.table()
        doc["quiet_hours"] = quiet
        quiet = doc["quiet_hours"]
    quiet["start"] = start
    quiet["end"] = end


def save(path: Path, doc: TOMLDocument) -> None:
    """Validate ``doc`` as the daemon would and write it over ``path`` (atomically, keeping its mode)."""
    text = tomlkit.dumps(doc)
    loads_config(text, name=path.name, path=path)  # raises ConfigError: nothing is written
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with places.replacing(path, mode) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise ConfigError([Problem(path.name, "file", f"cannot write: {exc.strerror or exc}")]) from exc
