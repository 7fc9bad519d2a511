"""The sessions Home Assistant can choose from: id and title of every session file, in its own language.

Only each file's ``title`` and ``language`` are read (with tomllib, bounded in size): compiling every
session would cost the daemon memory for good, and the daemon checks a session fully when it starts it.
A title names a session; the id behind it is what goes to the daemon, so nothing Home Assistant sends
can name a file.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass

from voiceguide import safe_read
from voiceguide.errors import InputFileError
from voiceguide.script import library

log = logging.getLogger(__name__)

MAX_TITLE = 80
"""Longest option label, in characters."""


@dataclass(frozen=True)
class Catalog:
    """Session options by label, in the order Home Assistant shows them."""

    by_label: dict[str, str]
    """Option label (the title) -> session id."""

    def label_of(self, session: str) -> str:
        """The label of a session id, or the id itself when it is not in the catalog (a script path)."""
        for label, sid in self.by_label.items():
            if sid == session:
                return label
        return session.rsplit("/", 1)[-1].removesuffix(".toml")

    @property
    def options(self) -> list[str]:
        return list(self.by_label)


def load_catalog() -> Catalog:
    """Every session file's title (its id when the title cannot be read), sorted by language, then title."""
    found: list[tuple[str, str, str]] = []
    for entry in library.entries():
        title, language = entry.id, "en"
        try:
            head = tomllib.loads(safe_read.read_text(entry.path, safe_read.SCRIPT_LIMIT)).get("session")
            head = head if isinstance(head, dict) else {}
            if isinstance(head.get("title"), str) and head["title"].strip():
                title = " ".join(head["title"].split())[:MAX_TITLE]
            if isinstance(head.get("language"), str):
                language = head["language"]
        except (InputFileError, tomllib.TOMLDecodeError, RecursionError) as exc:
            log.info("session %s left out of Home Assistant's list: %s", entry.id, exc)
            continue
        found.append((language, title, entry.id))
    by_label: dict[str, str] = {}
    for _language, title, sid in sorted(found):
        label = title if title not in by_label else f"{title} ({sid})"
        by_label[label] = sid
    return Catalog(by_label)
