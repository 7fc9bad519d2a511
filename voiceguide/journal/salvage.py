"""Reading every entry that can still be read from a journal, damaged or not.

One bad page in the SQLite file makes a plain ``SELECT`` fail for the whole table. Here rows are read
in id order, one at a time; when reading fails, the next readable row is found by probing further ids
(doubling the step, then halving back), so a bad page costs only the rows stored on it. Those are
reported as ranges of entry numbers: some or all of the entries in a range could not be read (ids are
never reused, so a range may also hold numbers that were deleted long ago).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

SMALLEST = -(2 ** 63)
LARGEST = 2 ** 63 - 1
"""SQLite's range of row ids."""


@dataclass(frozen=True)
class Readout:
    """What could be read, and what could not."""

    lost: tuple[tuple[int, int | None], ...]
    """Ranges of entry numbers (first, last; last None: to the end) in which rows could not be read."""
    error: str | None
    """SQLite's message for the first failure; None when everything was read."""

    def describe(self) -> str:
        """One sentence on what could not be read ('' when everything was)."""
        if not self.lost:
            return ""
        parts = [f"{a}" if a == b else f"{a} onwards" if b is None else f"{a}-{b}" for a, b in self.lost]
        if self.lost[0][0] <= SMALLEST + 1 and self.lost[0][1] is None:
            return f"nothing could be read ({self.error})"
        return f"some or all of the entries numbered {', '.join(parts)} could not be read ({self.error})"


def read_all(conn: sqlite3.Connection, make: Callable[[sqlite3.Row], T]) -> tuple[list[T], Readout]:
    """Every readable row of ``entries`` through ``make``, and the :class:`Readout` that says what was lost."""
    found: list[T] = []
    lost: list[tuple[int, int | None]] = []
    error: str | None = None
    after: int | None = None  # rows with ids above this are still to read; None: from the very first
    while True:
        try:
            for row in _rows(conn, after):
                found.append(make(row))
                after = int(row["id"])
            break
        except sqlite3.Error as exc:
            error = error or str(exc)
            start = SMALLEST if after is None else after
            resume = _next_readable(conn, start)
            first = start + 1
            log.info("journal rows after id %d cannot be read: %s", start, exc)
            if resume is None:
                lost.append((first, None))
                break
            lost.append((first, resume))
            after = resume
    return found, Readout(tuple(lost), error)


def _rows(conn: sqlite3.Connection, after: int | None) -> Iterator[sqlite3.Row]:
    if after is None:
        cursor = conn.execute("SELECT * FROM entries ORDER BY id")
    else:
        cursor = conn.execute("SELECT * FROM entries WHERE id > ? ORDER BY id", (after,))
    while (row := cursor.fetchone()) is not None:
        yield row


def _readable_after(conn: sqlite3.Connection, after: int) -> bool:
    """Whether the first row with an id above ``after`` (or the end of the table) can be read."""
    try:
        row = conn.execute("SELECT * FROM entries WHERE id > ? ORDER BY id LIMIT 1", (after,)).fetchone()
        if row is not None:
            tuple(row)  # every column, overflow pages included
    except sqlite3.Error:
        return False
    return True


def _next_readable(conn: sqlite3.Connection, start: int) -> int | None:
    """The smallest ``p > start`` from which rows can be read again (rows in ``start+1 .. p`` cannot),
    or None when nothing after ``start`` can be."""
    low, step = start, 1  # reading after ``low`` fails
    while True:
        high = min(LARGEST, start + step)
        if _readable_after(conn, high):
            break
        if high == LARGEST:
            return None
        low, step = high, step * 2
    while high - low > 1:  # reading after low fails, after high works
        middle = (low + high) // 2
        if _readable_after(conn, middle):
            high = middle
        else:
            low = middle
    return high
