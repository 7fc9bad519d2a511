"""The private journal of spoken answers: SQLite and FLAC on this device, never anywhere else.

Importing the package is light (the CLI builds its parser from :mod:`.cli` without opening SQLite): the names
below are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voiceguide.journal.db import Journal, default_path
    from voiceguide.journal.entry import Entry

__all__ = ["Entry", "Journal", "default_path"]


def __getattr__(name: str) -> Any:
    """Import :mod:`.db` for its public names on first use (PEP 562)."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from voiceguide.journal import db

    value = getattr(db, name)
    globals()[name] = value
    return value
