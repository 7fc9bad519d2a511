"""What the journal keeps, as plain records: an answer (:class:`Entry`) and a transcript it had before
(:class:`Earlier`). Light on purpose: the remote's pages and the exports read these without the database code."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["reflection", "rating"]
"""What an answer is: words, or a number 0-10."""


@dataclass(frozen=True)
class Entry:
    """One answer kept in the journal."""

    id: int
    """Row id, shown to people as the entry number."""
    time: str
    """When it was said: ISO 8601 local time with offset."""
    session_id: str | None
    """Id of the session it was said in (None when added outside a session)."""
    session_title: str | None
    """Title of that session as it was then."""
    step: int | None
    """1-based step of the session that asked."""
    prompt: str
    """The question that was asked."""
    kind: Kind
    """``reflection`` (words) or ``rating`` (a number 0-10)."""
    transcript: str | None
    """The words heard; None until transcribed, empty when nothing was understood."""
    rating: int | None
    """For ratings: 0-10, or None when no number was heard."""
    recognizer: str | None
    """Name of the recognizer that made the transcript."""
    confidence: float | None
    """The recognizer's confidence 0..1, when it gives one."""
    audio_path: str | None
    """The answer's FLAC, relative to the journal's folder; None when not kept."""
    duration: float | None
    """Length of the answer in seconds."""
    language: str | None = None
    """The session's language code (``en``, ``nl``) when it was said; None for entries from before it was kept."""

    def to_dict(self) -> dict[str, Any]:
        """The entry as plain JSON-ready values."""
        return asdict(self)


@dataclass(frozen=True)
class Earlier:
    """A transcript an entry had before it was transcribed again."""

    replaced: str
    """When it was replaced (ISO 8601 local time)."""
    transcript: str | None
    """The words it had then (None: it had none yet)."""
    recognizer: str | None
    """The recognizer that had made them."""
    confidence: float | None
    """That recognizer's confidence."""
