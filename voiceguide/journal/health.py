"""Before a journal is opened for writing: is the file a voiceguide journal at all, and is it sound?

A journal may be copied between machines, cut short by a full disk, or damaged on an SD card. A file
that is empty or not SQLite is *not a voiceguide journal* (never "empty", and never overwritten). A
database that SQLite's own ``quick_check`` finds damaged is opened read-only (``mode=ro``) so what can
be read is exported (see :mod:`salvage`) and nothing is ever written into it.
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path
from urllib.parse import quote

from voiceguide.errors import JournalError
from voiceguide.journal.rows import decode

SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""
OURS = {"entries", "sqlite_sequence", "entries_time"}
"""Everything a voiceguide journal's schema holds (tables and indexes)."""


def not_a_journal(path: Path, why: str) -> JournalError:
    """The error for a file that is not a journal; it says the file is left as it is."""
    return JournalError(f"{path} is not a voiceguide journal ({why}); it is left as it is. Use --journal to "
                        "name your journal, or move this file away and a fresh journal is started there")


def check_file(path: Path) -> None:
    """:class:`JournalError` unless the existing ``path`` is a non-empty regular file that starts as SQLite."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise not_a_journal(path, "not a regular file")
        if info.st_size == 0:
            raise not_a_journal(path, "the file is empty: 0 bytes")
        with path.open("rb") as handle:  # a regular file: reading it cannot block
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc.strerror or exc}") from exc
    if head != SQLITE_MAGIC:
        raise not_a_journal(path, "not an SQLite database")


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write (``file:...?mode=ro``), rows as ``sqlite3.Row``, bad UTF-8 replaced.

    With no write-ahead log beside the file (the journal was closed cleanly) it is opened ``immutable``
    too, so not even the WAL's index files are created next to it.
    """
    wal = path.with_name(path.name + "-wal")
    try:
        logged = wal.stat().st_size > 0
    except OSError:
        logged = False
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if logged else "&immutable=1")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.row_factory = sqlite3.Row
    conn.text_factory = decode
    return conn


def damage(path: Path) -> str | None:
    """What SQLite's ``quick_check`` finds wrong with the database (read-only), or None when it is sound."""
    try:
        conn = connect_read_only(path)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        found = [str(row[0]) for row in conn.execute("PRAGMA quick_check(5)").fetchall()]
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    return None if found == ["ok"] else "; ".join(found)


def check_ours(conn: sqlite3.Connection, path: Path) -> None:
    """:class:`JournalError` if the database (schema version 0) already holds someone else's tables."""
    names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}
    if names - OURS:
        raise not_a_journal(path, f"an SQLite database of something else: {', '.join(sorted(names)[:5])}")


def damaged_advice(path: Path, problem: str) -> str:
    """What a person reads when the journal is damaged: what happened, and how to keep what is left."""
    return (f"the journal {path} is damaged ({problem}). Nothing more is written to it. To keep what can still "
            f"be read: 'voiceguide journal export -o journal.md --journal {path}'; then move {path.name} "
            "aside (or away) and a fresh journal is started in its place")
