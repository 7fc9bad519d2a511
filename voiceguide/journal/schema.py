"""The journal's table, and forward migrations from any older version (``PRAGMA user_version``)."""

from __future__ import annotations

import sqlite3

from voiceguide.errors import JournalError

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: the first journal
    ("""CREATE TABLE entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            session_id TEXT,
            session_title TEXT,
            step INTEGER,
            prompt TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('reflection', 'rating')),
            transcript TEXT,
            rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 0 AND 10),
            recognizer TEXT,
            audio_path TEXT
        )""",),
    # 1 -> 2: how sure the recognizer was, how long the answer lasted, and a time index
    ("ALTER TABLE entries ADD COLUMN confidence REAL",
     "ALTER TABLE entries ADD COLUMN duration REAL",
     "CREATE INDEX entries_time ON entries (time)"),
    # 2 -> 3: the language an answer was given in, and the earlier transcripts of an entry (retranscribe)
    ("ALTER TABLE entries ADD COLUMN language TEXT",
     """CREATE TABLE transcript_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
            replaced TEXT NOT NULL,
            transcript TEXT,
            recognizer TEXT,
            confidence REAL
        )""",
     "CREATE INDEX transcript_history_entry ON transcript_history (entry_id)"),
)
"""``MIGRATIONS[n]`` takes a journal from version n to n + 1. Append only; never edit a released step."""

VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


def version(conn: sqlite3.Connection) -> int:
    """The schema version stored in the database."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = VERSION) -> int:
    """Bring the database up to ``target``, each step in its own transaction; returns the version found.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so the transactions here are explicit.
    """
    found = version(conn)
    if found > VERSION:
        raise JournalError(f"this journal was written by a newer voiceguide (schema {found}, we know {VERSION}); "
                           "upgrade voiceguide to open it")
    while True:
        conn.execute("BEGIN IMMEDIATE")  # another process may be migrating: take the write lock, then look
        try:
            current = version(conn)
            if current >= target:
                conn.execute("COMMIT")
                return found
            for sql in MIGRATIONS[current]:
                conn.execute(sql)
            conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
