"""The one journal figure MQTT may publish, and only when ``mood = true``: the last mood rating, a number 0-10.

Nothing else leaves the journal: no words, no prompt, no time, no recording. The journal is opened only when
the file exists (never created from here) and closed at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

from voiceguide.errors import VoiceguideError
from voiceguide.journal.db import JOURNAL_FILE, Journal

log = logging.getLogger(__name__)

LOOK_BACK = 200
"""Entries read, newest first, to find the last rating."""


def last_rating(folder: Path) -> int | None:
    """The most recent rating in the journal in ``folder``; None when there is none (or no journal)."""
    path = folder / JOURNAL_FILE
    if not path.is_file():
        return None
    try:
        journal = Journal(path)
        try:
            entries = journal.entries(limit=LOOK_BACK)
        finally:
            journal.close()
    except VoiceguideError as exc:
        log.info("MQTT: no mood figure: %s", exc)
        return None
    for entry in reversed(entries):
        if entry.kind == "rating" and isinstance(entry.rating, int):
            return int(entry.rating)
    return None
