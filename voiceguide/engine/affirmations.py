"""Affirmations: a bundled set per language plus the person's own list, chosen afresh each day.

The choice is seeded by the date (and the session), so a day is stable: the same session played
twice today says the same lines, and tomorrow brings others.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from pathlib import Path

from voiceguide import places, safe_read
from voiceguide.errors import InputFileError
from voiceguide.script.library import data_dir
from voiceguide.script.steps import MAX_SPOKEN_CHARS

log = logging.getLogger(__name__)


def personal_file() -> Path:
    """The person's own list: ``~/.config/voiceguide/affirmations.txt``, one per line."""
    return places.config_dir() / "affirmations.txt"


def read_lines(path: Path) -> list[str]:
    """Lines of a text file to speak, without ``#`` comments and lines with nothing to say; empty if the
    file is missing or unreadable (not a regular file, over 1 MB, not UTF-8). A line longer than a ``say``
    step may be is left out too."""
    try:
        text = safe_read.read_text(path, safe_read.LIST_LIMIT)
    except InputFileError as exc:
        if not exc.missing:
            log.warning("cannot read affirmations from %s", exc)
        return []
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    spoken = [line for line in lines if any(ch.isalnum() for ch in line) and len(line) <= MAX_SPOKEN_CHARS]
    if len(spoken) < len(lines):
        log.warning("left out %d line(s) of %s: no letters, or longer than %d characters", len(lines) - len(spoken),
                    path, MAX_SPOKEN_CHARS)
    return spoken


def bundled(language: str) -> list[str]:
    """The bundled set for ``language`` (falling back to English)."""
    folder = data_dir("scripts") / "affirmations"
    base = language.split("-")[0].lower()
    return read_lines(folder / f"{base}.txt") or read_lines(folder / "en.txt")


def choose(count: int, language: str, seed: str, day: dt.date, personal: bool = True) -> list[str]:
    """``count`` lines for ``day``: up to half from the person's list when it exists, the rest bundled."""
    rng = random.Random(hashlib.sha256(f"{day.isoformat()}/{seed}".encode()).digest())
    own = read_lines(personal_file()) if personal else []
    pool = bundled(language)
    take_own = min(len(own), (count + 1) // 2)
    picked = rng.sample(own, take_own) + rng.sample(pool, min(len(pool), count - take_own))
    if len(picked) < count and own:  # a small bundled set: fill from the person's list
        rest = [line for line in own if line not in picked]
        picked += rng.sample(rest, min(len(rest), count - len(picked)))
    rng.shuffle(picked)
    return picked
