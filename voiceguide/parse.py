"""Read a session script (TOML) into a validated :class:`Session`, reporting every problem with its place."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from . import library
from .errors import Problem, ScriptError
from .model import (
    CUE_MODES,
    Action,
    Breathe,
    BreathPattern,
    Chime,
    Listen,
    Pause,
    Say,
    Session,
    Step,
)
from .patterns import PATTERNS, inline_pattern

MAX_STEP_SECONDS = 24 * 3600.0
MAX_CYCLES = 10_000
ACTIONS = ("say", "pause", "chime", "breathe", "listen")
SESSION_KEYS = {"title", "language", "rate", "volume", "voice", "description", "speech_gap"}
STEP_KEYS: dict[str, set[str]] = {
    "say": {"rate", "volume"},
    "pause": set(),
    "chime": {"volume"},
    "breathe": {"cycles", "cue"},
    "listen": {"timeout", "limit", "kind"},
}
RATE_RANGE = (60, 300)


class _Checker:
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
            self.add(where, f"{key} must be {kind}, not {_describe(value)}")
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
            self.add(where, f"{key} must be text in quotes, not {_describe(value)}")
            return None
        if not value.strip():
            self.add(where, f"{key} must not be empty")
            return None
        return value.strip()

    def unknown(self, where: str, keys: set[str], allowed: set[str]) -> None:
        for key in sorted(keys - allowed):
            self.add(where, f"unknown key '{key}'; allowed here: {', '.join(sorted(allowed))}")


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def load(path: Path) -> Session:
    """Parse and validate the script at ``path``; raise :class:`ScriptError` listing every problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScriptError([Problem(path.name, "file", f"cannot read: {exc.strerror or exc}")]) from exc
    return loads(raw, name=path.name, script_dir=path.parent, session_id=path.stem, source=path)


def loads(raw: bytes | str, *, name: str = "<script>", script_dir: Path | None = None,
          session_id: str = "script", source: Path | None = None) -> Session:
    """Parse and validate script text; ``script_dir`` anchors relative sound paths."""
    check = _Checker(name)
    if isinstance(raw, bytes):
        if b"\x00" in raw:
            raise ScriptError([Problem(name, "file", "not a text file (it contains binary data)")])
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScriptError([Problem(name, "file", f"not UTF-8 text (bad byte at offset {exc.start})")]) from exc
    try:
        doc = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ScriptError([Problem(name, "file", f"invalid TOML: {exc}")]) from exc

    check.unknown("file", set(doc), {"session", "step"})
    header = doc.get("session")
    if not isinstance(header, dict):
        check.add("[session]", "missing [session] table with at least a title")
        header = {}
    settings = _session_settings(check, header)

    raw_steps = doc.get("step")
    steps: list[Step] = []
    if raw_steps is None:
        check.add("file", "no steps: add at least one [[step]]")
    elif not isinstance(raw_steps, list):
        check.add("file", "step must be written as [[step]] tables")
    else:
        if not raw_steps:
            check.add("file", "no steps: add at least one [[step]]")
        for number, table in enumerate(raw_steps, start=1):
            action = _step(check, number, table, script_dir)
            if action is not None:
                steps.append(Step(number, action))

    if check.problems:
        raise ScriptError(check.problems)
    return Session(id=session_id, steps=tuple(steps), source=source, **settings)


def _session_settings(check: _Checker, header: dict[str, Any]) -> dict[str, Any]:
    where = "[session]"
    check.unknown(where, set(header), SESSION_KEYS)
    out: dict[str, Any] = {}
    title = header.get("title")
    if title is None:
        check.add(where, "title is required")
    else:
        out["title"] = check.text(where, "title", title) or ""
    if "language" in header:
        lang = check.text(where, "language", header["language"])
        if lang is not None:
            out["language"] = lang
    if "rate" in header:
        rate = check.number(where, "rate", header["rate"], *RATE_RANGE, integer=True)
        if rate is not None:
            out["rate"] = int(rate)
    if "volume" in header:
        vol = check.number(where, "volume", header["volume"], 0.0, 1.0)
        if vol is not None:
            out["volume"] = vol
    for key in ("voice", "description"):
        if key in header:
            value = check.text(where, key, header[key])
            if value is not None:
                out[key] = value
    if "speech_gap" in header:
        gap = check.number(where, "speech_gap", header["speech_gap"], 0.0, 60.0)
        if gap is not None:
            out["speech_gap"] = gap
    return out


def _step(check: _Checker, number: int, table: object, script_dir: Path | None) -> Action | None:
    if not isinstance(table, dict):
        check.add(f"step {number}", "must be a [[step]] table")
        return None
    actions = [key for key in ACTIONS if key in table]
    if not actions:
        others = ", ".join(sorted(table)) or "nothing"
        check.add(f"step {number}", f"no action; use exactly one of {', '.join(ACTIONS)} (found: {others})")
        return None
    if len(actions) > 1:
        check.add(f"step {number}", f"has {len(actions)} actions ({', '.join(actions)}); use exactly one per step")
        return None
    key = actions[0]
    where = f"step {number} ({key})"
    check.unknown(where, set(table) - {key}, STEP_KEYS[key])
    before = len(check.problems)
    action = _ACTION_READERS[key](check, where, table, script_dir)
    return action if len(check.problems) == before else None


def _say(check: _Checker, where: str, t: dict[str, Any], _: Path | None) -> Action | None:
    text = check.text(where, "say", t["say"])
    rate = check.number(where, "rate", t["rate"], *RATE_RANGE, integer=True) if "rate" in t else None
    vol = check.number(where, "volume", t["volume"], 0.0, 1.0) if "volume" in t else None
    if text is None:
        return None
    return Say(text, int(rate) if rate is not None else None, vol)


def _pause(check: _Checker, where: str, t: dict[str, Any], _: Path | None) -> Action | None:
    seconds = check.number(where, "pause", t["pause"], 0.0, MAX_STEP_SECONDS, allow_low=False)
    return Pause(seconds) if seconds is not None else None


def _chime(check: _Checker, where: str, t: dict[str, Any], script_dir: Path | None) -> Action | None:
    name = check.text(where, "chime", t["chime"])
    vol = check.number(where, "volume", t["volume"], 0.0, 1.0) if "volume" in t else 1.0
    if name is None:
        return None
    path = library.sound_path(name, script_dir)
    if path is None:
        known = ", ".join(library.bundled_sounds()) or "none"
        check.add(where, f"sound '{name}' not found; bundled sounds: {known}; or a WAV path relative to the script")
        return None
    return Chime(name, path, vol if vol is not None else 1.0)


def _breathe(check: _Checker, where: str, t: dict[str, Any], _: Path | None) -> Action | None:
    pattern = _pattern(check, where, t["breathe"])
    cycles = check.number(where, "cycles", t.get("cycles", 1), 1, MAX_CYCLES, integer=True)
    cue = t.get("cue", "both")
    if cue not in CUE_MODES:
        check.add(where, f"cue must be one of {', '.join(repr(c) for c in CUE_MODES)}, not {_describe(cue)}")
    if pattern is None or cycles is None or cue not in CUE_MODES:
        return None
    if pattern.cycle_seconds * cycles > MAX_STEP_SECONDS:
        check.add(where, f"{int(cycles)} cycles of {pattern.cycle_seconds:g} s is longer than 24 hours")
        return None
    return Breathe(pattern, int(cycles), cue)


def _pattern(check: _Checker, where: str, value: object) -> BreathPattern | None:
    if isinstance(value, str):
        if value in PATTERNS:
            return PATTERNS[value]
        check.add(where, f"unknown pattern '{value}'; known: {', '.join(PATTERNS)}")
        return None
    if not isinstance(value, dict):
        check.add(where, f"breathe must be a pattern name or a table of phases, not {_describe(value)}")
        return None
    phase_keys = {"inhale", "hold", "exhale", "rest"}
    check.unknown(where, set(value), phase_keys)
    seconds: dict[str, float] = {}
    for key in ("inhale", "hold", "exhale", "rest"):
        got = check.number(where, f"breathe.{key}", value.get(key, 0), 0.0, 3600.0)
        if got is None:
            return None
        seconds[key] = got
    if seconds["inhale"] <= 0 or seconds["exhale"] <= 0:
        check.add(where, "an inline pattern needs inhale and exhale longer than 0 seconds")
        return None
    if set(value) - phase_keys:
        return None
    return inline_pattern(**seconds)


def _listen(check: _Checker, where: str, t: dict[str, Any], _: Path | None) -> Action | None:
    prompt = check.text(where, "listen", t["listen"])
    timeout = check.number(where, "timeout", t.get("timeout", 15), 0.0, 3600.0, allow_low=False)
    limit = check.number(where, "limit", t.get("limit", 60), 0.0, 3600.0, allow_low=False)
    kind = t.get("kind", "reflection")
    if kind not in ("reflection", "rating"):
        check.add(where, f"kind must be 'reflection' or 'rating', not {_describe(kind)}")
        return None
    if prompt is None or timeout is None or limit is None:
        return None
    return Listen(prompt, timeout, limit, kind)


_ACTION_READERS = {"say": _say, "pause": _pause, "chime": _chime, "breathe": _breathe, "listen": _listen}
