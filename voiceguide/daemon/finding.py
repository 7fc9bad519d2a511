"""One outcome of ``voiceguide doctor``, in a module of its own: the phone remote's Health page reads the
doctor's findings from a child process and needs only this shape, not the doctor (which loads the engine)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    """The outcome of one check."""

    name: str
    """What was checked."""
    level: Level
    """``ok``, ``warn`` (optional or advisory) or ``fail`` (the daemon needs it)."""
    detail: str
    """What was found."""
    fix: str = ""
    """What to do about it (for warn and fail)."""
