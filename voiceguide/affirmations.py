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

import platformdirs

from .library import APP, data_dir

log = logging.getLogger(__name__)


def personal_file() -> Path:
    """The person's own list: ``~/.config/voiceguide/affirmations.txt``, one per line."""
    return Path(platformdirs.user_config_dir(APP)) / "affirmations.txt"


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a text file, without ``#`` comments; empty if the file is missing or unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read affirmations from %s: %s", path, exc)
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


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
