"""Collecting located problems while a script's values are read (shared by the session and step readers)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from typing import Any

from voiceguide.errors import Problem, VoiceguideError

MAX_NESTING = 32
"""Deepest nesting of tables and lists accepted in a script, a config or a control message (real ones: 4)."""
NESTED_TOO_DEEPLY = "nested too deeply"


class Checker:
    """Collects problems for one file while values are read."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, where, message))

    def number(self, where: str, key: str, value: object, low: float, high: float,
               *, integer: bool = False, allow_low: bool = True) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            kind = "a whole number" if integer else "a number"
            self.add(where, f"{key} must be {kind}, not {describe(value)}")
            return None
        if integer and not isinstance(value, int):
            self.add(where, f"{key} must be a whole number, not {value!r}")
            return None
        if not math.isfinite(value) or value > high or value < low or (value == low and not allow_low):
            bounds = f"from {low:g} to {high:g}" if allow_low else f"more than {low:g} and at most {high:g}"
            self.add(where, f"{key} must be {bounds}, not {value!r}")
            return None
        return float(value)

    def text(self, where: str, key: str, value: object) -> str | None:
        if not isinstance(value, str):
            self.add(where, f"{key} must be text in quotes, not {describe(value)}")
            return None
        if not value.strip():
            self.add(where, f"{key} must not be empty")
            return None
        return value.strip()

    def spoken(self, where: str, key: str, value: object, limit: int) -> str | None:
        """Text to be spoken: non-empty, with something to say, and short enough for one step."""
        text = self.text(where, key, value)
        if text is None:
            return None
        if not any(ch.isalnum() for ch in text):
            self.add(where, f"{key} has no letters or digits to speak (only spaces, marks or punctuation)")
            return None
        if len(text) > limit:
            self.add(where, f"{key} is {len(text):,} characters long; at most {limit:,} fit one step "
                            "(split it over several steps)")
            return None
        return text

    def unknown(self, where: str, keys: set[str], allowed: set[str]) -> None:
        for key in sorted(keys - allowed):
            self.add(where, f"unknown key '{key}'; allowed here: {', '.join(sorted(allowed))}")


def describe(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def too_deep(value: object, limit: int = MAX_NESTING) -> bool:
    """Whether ``value`` (parsed TOML or JSON) nests dicts and lists more than ``limit`` levels deep.

    Walks with an explicit stack, so a deep value cannot exhaust Python's recursion limit here."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def toml_table(raw: str, name: str, error: Callable[[list[Problem]], VoiceguideError]) -> dict[str, Any]:
    """The TOML text ``raw`` (from the file called ``name``) as a table, or ``error([problem])`` raised: not TOML,
    or nested deeper than :data:`MAX_NESTING` (tomllib recurses once per level; so does every later check)."""
    try:
        doc = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise error([Problem(name, "file", f"invalid TOML: {exc}")]) from exc
    except RecursionError as exc:
        raise error([Problem(name, "file", f"invalid TOML: {NESTED_TOO_DEEPLY}")]) from exc
    if too_deep(doc):
        raise error([Problem(name, "file", f"invalid TOML: {NESTED_TOO_DEEPLY}")])
    return doc
