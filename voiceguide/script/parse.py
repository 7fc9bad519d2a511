"""Read a session script (TOML) into a validated :class:`Session`, reporting every problem with its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voiceguide import safe_read
from voiceguide.errors import InputFileError, Problem, ScriptError
from voiceguide.script import languages, library
from voiceguide.script.checks import Checker, toml_table
from voiceguide.script.expansion import Budget, Place, TooLarge, step_line
from voiceguide.script.model import Session, Step
from voiceguide.script.steps import (
    ACTIONS,
    MAX_CYCLES,
    MAX_STEP_SECONDS,
    PITCH_RANGE,
    RATE_RANGE,
    SENTENCE_GAP_MAX,
    read_step,
)
from voiceguide.sound import names

__all__ = ["ACTIONS", "MAX_CYCLES", "MAX_STEP_SECONDS", "PITCH_RANGE", "RATE_RANGE", "SENTENCE_GAP_MAX", "load",
           "loads"]

SESSION_KEYS = {"title", "language", "rate", "volume", "voice", "description", "speech_gap", "ambient",
                "ambient_volume", "sentence_gap", "pitch", "soften"}


def load(path: Path, _including: tuple[Path, ...] = (), _budget: Budget | None = None) -> Session:
    """Parse and validate the script at ``path``; raise :class:`ScriptError` listing every problem."""
    try:
        raw = safe_read.read_bytes(path, safe_read.SCRIPT_LIMIT)
    except InputFileError as exc:
        raise ScriptError([Problem(path.name, "file", exc.reason)]) from exc
    return loads(raw, name=path.name, script_dir=path.parent, session_id=path.stem, source=path,
                 _including=(*_including, path.resolve()), _budget=_budget)


def loads(raw: bytes | str, *, name: str = "<script>", script_dir: Path | None = None,
          session_id: str = "script", source: Path | None = None, _including: tuple[Path, ...] = (),
          _budget: Budget | None = None) -> Session:
    """Parse and validate script text; ``script_dir`` anchors relative sound paths and includes.

    The session's size with every include spliced in is bounded (:mod:`voiceguide.script.expansion`): the
    first bound passed stops reading at once with :class:`~voiceguide.script.expansion.TooLarge`."""
    check = Checker(name)
    budget = _budget if _budget is not None else Budget()
    if isinstance(raw, bytes):
        if b"\x00" in raw:
            raise ScriptError([Problem(name, "file", "not a text file (it contains binary data)")])
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScriptError([Problem(name, "file", f"not UTF-8 text (bad byte at offset {exc.start})")]) from exc
    doc = toml_table(raw, name, ScriptError)

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
            if isinstance(table, dict) and "include" in table:
                place = Place(name, raw, number, "include")
                steps.extend(_include(check, place, table, script_dir, settings, _including, budget))
                continue
            action = read_step(check, number, table, script_dir)
            if action is not None:
                budget.add(Place(name, raw, number, type(action).__name__.lower()), [action])
                steps.append(Step(len(steps) + 1, action))

    if check.problems:
        raise ScriptError(check.problems)
    numbered = tuple(Step(i, s.action) for i, s in enumerate(steps, start=1))
    return Session(id=session_id, steps=numbered, source=source, **settings)


def _include(check: Checker, place: Place, table: dict[str, Any], script_dir: Path | None,
             settings: dict[str, Any], including: tuple[Path, ...], budget: Budget) -> list[Step]:
    """The steps of another session or part, spliced in place (``include = "parts/arrive"``); each is counted
    against ``budget`` as it is added (a part read before for this session is not read again)."""
    where = f"step {place.number} (include)"
    check.unknown(where, set(table), {"include"})
    name = check.text(where, "include", table["include"])
    if name is None:
        return []
    key = (name, script_dir)
    if key not in budget.found:
        budget.found[key] = library.find_part(name, script_dir)
    path = budget.found[key]
    if path is None:
        check.add(where, f"no session or part called '{name}' (looked in {library.PARTS}/, the sessions, "
                         "and beside this script)")
        return []
    if path.resolve() in including:
        chain = " -> ".join(p.name for p in (*including, path))
        check.add(where, f"include loop: {chain}")
        return []
    budget.include(place)
    part = budget.parts.get(path.resolve())
    if part is not None:  # read before for this session: its steps count again where they are spliced in
        budget.add(place, [s.action for s in part.steps])
    else:
        try:
            budget.depth += 1
            part = load(path, including, budget)  # counts the part's steps as they are read
        except TooLarge as exc:
            raise TooLarge([*exc.problems, Problem(f"{place.name}:{step_line(place.text, place.number)}", where,
                                                   f"while including '{name}'")]) from exc
        except ScriptError as exc:
            check.problems.extend(exc.problems)
            check.add(where, f"the included '{name}' has problems (listed above)")
            return []
        finally:
            budget.depth -= 1
        budget.parts[path.resolve()] = part
    language = settings.get("language", "en")
    if part.language != language:
        check.add(where, f"'{name}' is in language '{part.language}', this session is in '{language}'")
    return [Step(0, s.action) for s in part.steps]


def _session_settings(check: Checker, header: dict[str, Any]) -> dict[str, Any]:
    where = "[session]"
    check.unknown(where, set(header), SESSION_KEYS)
    out: dict[str, Any] = {}

    def number(key: str, low: float, high: float, integer: bool = False) -> None:
        if key in header:
            value = check.number(where, key, header[key], low, high, integer=integer)
            if value is not None:
                out[key] = int(value) if integer else value

    title = header.get("title")
    if title is None:
        check.add(where, "title is required")
    else:
        out["title"] = check.text(where, "title", title) or ""
    if "language" in header:
        lang = check.text(where, "language", header["language"])
        unspeakable = languages.problem(lang) if lang is not None else None
        if unspeakable is not None:
            check.add(where, unspeakable)
        elif lang is not None:
            out["language"] = lang
    number("rate", *RATE_RANGE, integer=True)
    number("volume", 0.0, 1.0)
    for key in ("voice", "description"):
        if key in header:
            value = check.text(where, key, header[key])
            if value is not None:
                out[key] = value
    if "ambient" in header:
        bed = header["ambient"]
        if bed not in names.BEDS and bed != "none":
            check.add(where, f"ambient must be one of {', '.join(names.BEDS)} or 'none', not {bed!r}")
        elif bed != "none":
            out["ambient"] = bed
    number("ambient_volume", 0.0, 1.0)
    number("speech_gap", 0.0, 60.0)
    number("sentence_gap", 0.0, SENTENCE_GAP_MAX)
    number("pitch", *PITCH_RANGE, integer=True)
    if "soften" in header:
        if isinstance(header["soften"], bool):
            out["soften"] = header["soften"]
        else:
            check.add(where, f"soften must be true or false, not {header['soften']!r}")
    return out
