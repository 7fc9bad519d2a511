"""The private journal of spoken answers: SQLite and FLAC on this device, never anywhere else.

Importing the package is light (the CLI builds its parser from :mod:`.cli` without opening SQLite): the names
below are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceguide import lazy_attributes

if TYPE_CHECKING:
    from voiceguide.journal.db import Entry, Journal, default_path

__all__ = ["Entry", "Journal", "default_path"]


__getattr__ = lazy_attributes(__name__, dict.fromkeys(__all__, "db"))  # every public name is from db
