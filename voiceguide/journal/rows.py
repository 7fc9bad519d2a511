"""A stored row as an :class:`~voiceguide.journal.entry.Entry`, whatever a hand edit left in it.

SQLite lets any column hold any type, and a journal may have been edited with ``sqlite3``: a NULL where
words belong, text in a number column, a float timestamp, a number too big for anything, a blob of bytes
that is not UTF-8. Every value is carried over as far as it can be and never raises: text is decoded
with replacement characters, numbers that are not numbers become None, a numeric time is read as Unix
seconds. What comes out always fits the types :class:`Entry` promises, so every export can write it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

UNKNOWN_TIME = "unknown time"
"""The time shown for an entry whose stored time is missing."""


def text(value: Any) -> str | None:
    """Words as ``str``: bytes decoded (bad UTF-8 replaced), numbers written out; None stays None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def decode(raw: bytes) -> str:
    """SQLite's ``text_factory``: TEXT that is not valid UTF-8 is read with replacement characters."""
    return raw.decode("utf-8", "replace")


def integer(value: Any) -> int | None:
    """A whole number, from an int, an integral float or such text; anything else is None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = real(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def real(value: Any) -> float | None:
    """A finite float from a number or numeric text; None for anything else (NaN and infinities too)."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = text(value)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            return None
        return number if math.isfinite(number) else None
    return None


def moment(value: Any) -> str:
    """The entry's time as text: stored text as it is; a number as Unix seconds in local time."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value).astimezone().isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            return str(value)
    return text(value) or UNKNOWN_TIME


def entry_fields(row: Mapping[str, Any] | Any, entry_id: int) -> dict[str, Any]:
    """Keyword arguments for ``Entry`` from a row (an ``sqlite3.Row`` or a mapping); missing columns are None."""
    keys = set(row.keys())

    def get(name: str) -> Any:
        return row[name] if name in keys else None

    kind = text(get("kind"))
    rating = integer(get("rating"))
    return {"id": entry_id, "time": moment(get("time")), "session_id": text(get("session_id")),
            "session_title": text(get("session_title")), "step": integer(get("step")),
            "prompt": text(get("prompt")) or "", "kind": kind if kind in ("reflection", "rating") else "reflection",
            "transcript": text(get("transcript")),
            "rating": rating if rating is not None and 0 <= rating <= 10 else None,
            "recognizer": text(get("recognizer")), "confidence": real(get("confidence")),
            "audio_path": text(get("audio_path")), "duration": real(get("duration")),
            "language": text(get("language"))}
