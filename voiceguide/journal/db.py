"""The private journal: one SQLite file on this device, WAL mode, mode 0600, one commit per answer."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceguide import places
from voiceguide.errors import JournalError
from voiceguide.journal import audio as answer_audio
from voiceguide.journal import health, rows, salvage
from voiceguide.journal.entry import Earlier, Entry, Kind
from voiceguide.journal.rating import parse_rating
from voiceguide.journal.schema import migrate, version

if TYPE_CHECKING:
    from voiceguide.seams import Clip

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.sqlite3"
"""The database's file name inside the user data directory."""

_COLUMNS = ("id", "time", "session_id", "session_title", "step", "prompt", "kind", "transcript", "rating",
            "recognizer", "confidence", "audio_path", "duration", "language")


def default_path() -> Path:
    """``user_data_dir("voiceguide")/journal.sqlite3``."""
    return places.data_dir() / JOURNAL_FILE


def now() -> str:
    """The local time with its UTC offset, to the second (``2026-11-29T08:15:02+01:00``)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


class Journal:
    """The journal database. Safe to share between threads (background transcription updates rows)."""

    def __init__(self, path: str | Path | None = None, keep_audio: bool = True) -> None:
        """Open (creating and migrating if needed) the journal at ``path`` (default :func:`default_path`).
        ``keep_audio=False`` keeps only the words of each answer."""
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.folder = self.path.parent
        self.audio_dir = self.folder / answer_audio.AUDIO_DIR
        self.keep_audio = keep_audio
        self._lock = threading.Lock()
        self.damage: str | None = None
        """What SQLite found wrong with the file when it was opened; when set, the journal is open read-only
        and every write is refused (:meth:`add`, :meth:`update_transcript`, :meth:`delete`)."""
        if self.path.exists() or self.path.is_symlink():
            health.check_file(self.path)
            self.damage = health.damage(self.path)
        if self.damage is not None:
            log.info("%s", health.damaged_advice(self.path, self.damage))
            try:
                self._conn = health.connect_read_only(self.path)
            except sqlite3.Error as exc:
                raise JournalError(f"cannot open journal {self.path}: {exc}") from exc
            return
        answer_audio.private_dir(self.folder)
        self._make_private_file()
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            self._conn.row_factory = sqlite3.Row
            self._conn.text_factory = rows.decode
            if version(self._conn) == 0:
                health.check_ours(self._conn, self.path)
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("journal %s is in %s mode, not WAL", self.path, mode)
            self._conn.execute("PRAGMA synchronous=FULL")
            found = migrate(self._conn)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc
        except JournalError:
            self._conn.close()
            raise
        if found:
            log.info("journal %s migrated from schema %d", self.path, found)

    def _writable(self) -> None:
        if self.damage is not None:
            raise JournalError(health.damaged_advice(self.path, self.damage))

    def _make_private_file(self) -> None:
        try:
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            if self.path.stat().st_mode & 0o077:
                log.warning("journal %s was readable by others; making it private", self.path)
                self.path.chmod(0o600)
        except OSError as exc:
            raise JournalError(f"cannot create journal {self.path}: {exc.strerror or exc}") from exc

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database (checkpointing the WAL)."""
        self._conn.close()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._conn.execute(sql, params)
            except sqlite3.Error as exc:
                raise JournalError(f"journal {self.path}: {exc}") from exc

    def add(self, prompt: str, kind: Kind = "reflection", transcript: str | None = None, *,
            rating: int | None = None, session_id: str | None = None, session_title: str | None = None,
            step: int | None = None, recognizer: str | None = None, confidence: float | None = None,
            audio: Clip | None = None, duration: float | None = None, time: str | None = None,
            language: str | None = None) -> int:
        """Keep one answer; committed before this returns. Returns the new entry's id.

        ``transcript`` may be None and filled in later with :meth:`update_transcript`. For a ``rating``
        the number is parsed from the transcript unless given. ``audio`` is saved as FLAC beside the
        journal when ``keep_audio`` is on; if that fails the words are still kept (and a warning logged).
        """
        self._writable()
        if kind not in ("reflection", "rating"):
            raise JournalError(f"unknown entry kind '{kind}' (reflection or rating)")
        if kind == "rating" and rating is None and transcript:
            rating = parse_rating(transcript)
        if rating is not None and not 0 <= rating <= 10:
            raise JournalError(f"rating {rating} is outside 0-10")
        saved: Path | None = None
        if audio is not None:
            duration = audio.seconds if duration is None else duration
            if self.keep_audio:
                try:
                    saved = answer_audio.save_flac(self.audio_dir, audio)
                except JournalError as exc:
                    log.warning("answer kept without its audio: %s", exc)
        relative = saved.relative_to(self.folder).as_posix() if saved else None
        try:
            cursor = self._run(
                "INSERT INTO entries (time, session_id, session_title, step, prompt, kind, transcript, rating,"
                " recognizer, confidence, audio_path, duration, language)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (time or now(), session_id, session_title, step, prompt, kind, transcript, rating, recognizer,
                 confidence, relative, duration, language))
        except JournalError:
            if saved:
                answer_audio.remove(saved)
            raise
        return int(cursor.lastrowid or 0)

    def update_transcript(self, entry_id: int, transcript: str, recognizer: str | None = None,
                          confidence: float | None = None) -> Entry:
        """Replace an entry's words (background transcription, retranscribe); a rating is parsed again.
        Words it already had are kept in its history (:meth:`history`), so the two can be compared."""
        self._writable()
        entry = self.require(entry_id)
        rating = parse_rating(transcript) if entry.kind == "rating" else entry.rating
        with self._lock:
            try:
                with self._conn:  # one transaction: the old words are never lost between the two statements
                    self._conn.execute("BEGIN IMMEDIATE")
                    if entry.transcript is not None:
                        self._conn.execute(
                            "INSERT INTO transcript_history (entry_id, replaced, transcript, recognizer, confidence)"
                            " VALUES (?, ?, ?, ?, ?)",
                            (entry_id, now(), entry.transcript, entry.recognizer, entry.confidence))
                    self._conn.execute("UPDATE entries SET transcript = ?, recognizer = ?, confidence = ?, rating = ?"
                                       " WHERE id = ?", (transcript, recognizer, confidence, rating, entry_id))
            except sqlite3.Error as exc:
                raise JournalError(f"journal {self.path}: {exc}") from exc
        return self.require(entry_id)

    def history(self, entry_id: int) -> list[Earlier]:
        """The transcripts an entry had before, oldest first."""
        rows = self._run("SELECT replaced, transcript, recognizer, confidence FROM transcript_history "
                         "WHERE entry_id = ? ORDER BY id", (entry_id,)).fetchall()
        return [Earlier(r["replaced"], r["transcript"], r["recognizer"], r["confidence"]) for r in rows]

    def get(self, entry_id: int) -> Entry | None:
        """The entry with this id, or None."""
        row = self._run(f"SELECT {', '.join(_COLUMNS)} FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return _entry(row) if row else None

    def require(self, entry_id: int) -> Entry:
        """The entry with this id; :class:`JournalError` when there is none."""
        entry = self.get(entry_id)
        if entry is None:
            raise JournalError(f"no journal entry {entry_id} in {self.path}")
        return entry

    def entries(self, limit: int | None = None, session_id: str | None = None) -> list[Entry]:
        """Entries oldest first; ``limit`` keeps the most recent ones. From a damaged journal: the ones
        that can be read (see :meth:`readable`)."""
        where, params = ("WHERE session_id = ?", (session_id,)) if session_id else ("", ())
        sql = f"SELECT {', '.join(_COLUMNS)} FROM entries {where} ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        found = self._select(sql, params)
        if found is not None:
            return list(reversed(found))
        kept = [e for e in self.readable()[0] if session_id is None or e.session_id == session_id]
        if limit is not None and limit >= 0:
            kept = kept[max(0, len(kept) - limit):]
        return kept

    def all(self) -> list[Entry]:
        """Every entry, oldest first (for export)."""
        return self.entries()

    def readable(self) -> tuple[list[Entry], salvage.Readout]:
        """Every entry that can be read, oldest first, read row by row so a damaged part of the file
        costs only the rows in it; and what could not be read."""
        with self._lock:
            return salvage.read_all(self._conn, lambda row: _entry(row))

    def search(self, text: str) -> list[Entry]:
        """Entries whose answer, question or session title contains ``text`` (any case), oldest first."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found = self._select(
            f"SELECT {', '.join(_COLUMNS)} FROM entries WHERE transcript LIKE ?1 ESCAPE '\\' "
            "OR prompt LIKE ?1 ESCAPE '\\' OR session_title LIKE ?1 ESCAPE '\\' ORDER BY id", (pattern,))
        if found is not None:
            return found
        needle = text.casefold()
        return [e for e in self.readable()[0]
                if any(needle in (v or "").casefold() for v in (e.transcript, e.prompt, e.session_title))]

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[Entry] | None:
        """The entries ``sql`` selects, or None when the file is damaged (read it with :meth:`readable`)."""
        if self.damage is not None:
            return None
        with self._lock:
            try:
                return [_entry(r) for r in self._conn.execute(sql, params).fetchall()]
            except sqlite3.OperationalError as exc:  # locked, I/O error ...: not damage
                raise JournalError(f"journal {self.path}: {exc}") from exc
            except sqlite3.DatabaseError as exc:
                log.warning("journal %s cannot be read in one go (%s); reading it row by row", self.path, exc)
                return None

    def delete(self, entry_id: int) -> Entry | None:
        """Remove an entry and its audio file; returns what was deleted, or None if there was no such entry."""
        self._writable()
        entry = self.get(entry_id)
        if entry is None:
            return None
        self._run("DELETE FROM transcript_history WHERE entry_id = ?", (entry_id,))  # the words go with it
        self._run("DELETE FROM entries WHERE id = ?", (entry_id,))
        path, refused = self._audio(entry)
        if refused is not None:
            log.warning("entry %d deleted; its audio was left alone: %s", entry_id, refused)
        elif path is not None and not answer_audio.remove(path):
            log.info("audio of entry %d was already gone: %s", entry_id, path)
        return entry

    def audio_file(self, entry: Entry) -> Path | None:
        """The absolute path of an entry's audio, if it has one that lies inside :attr:`audio_dir`
        (symlinks resolved); None when it has none, or when its path is refused (:meth:`audio_refusal`)."""
        return self._audio(entry)[0]

    def audio_refusal(self, entry: Entry) -> str | None:
        """Why the audio path stored with ``entry`` is not used (it points outside the journal's audio
        folder), or None when it is fine or there is none."""
        return self._audio(entry)[1]

    def _audio(self, entry: Entry) -> tuple[Path | None, str | None]:
        if not entry.audio_path:
            return None, None
        try:
            return answer_audio.confined(self.audio_dir, self.folder, entry.audio_path), None
        except JournalError as exc:
            return None, str(exc)

    def integrity_check(self) -> str:
        """SQLite's own check: ``ok`` when the file is sound."""
        return str(self._run("PRAGMA integrity_check").fetchone()[0])


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(**rows.entry_fields(row, int(row["id"])))
