"""The private journal of spoken answers: SQLite and FLAC on this device, never anywhere else."""

from __future__ import annotations

from .db import Entry, Journal, default_path

__all__ = ["Entry", "Journal", "default_path"]
