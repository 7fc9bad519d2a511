"""Readers for each step action: table in, validated action (or located problems) out."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from voiceguide import safe_read
from voiceguide.errors import InputFileError
from voiceguide.script import library
from voiceguide.script.checks import Checker, describe
from voiceguide.script.model import (
    CUE_MODES,
    MARKS,
    PHASE_KINDS,
    Action,
    Affirm,
    Breathe,
    BreathPattern,
    Chime,
    Listen,
    Pause,
    Progression,
    Say,
    Sleep,
)
from voiceguide.script.patterns import PATTERNS, inline_pattern, ratio_pattern, scaled

MAX_STEP_SECONDS = 24 * 3600.0
MAX_CYCLES = 10_000
RATE_RANGE = (60, 300)
PITCH_RANGE = (0, 100)
"""Base pitch as espeak-ng counts it; 50 is a voice's normal pitch."""
SENTENCE_GAP_MAX = 10.0
"""Longest silence between the sentences of a line, in seconds."""
MAX_SPOKEN_CHARS = 2000
"""Longest text of one ``say`` line or ``listen`` question, in characters (about two minutes of speech)."""
BPM_RANGE = (2.0, 30.0)
MIN_PHASE_SECONDS = 0.5
"""Shorter breath phases cannot be followed (and their cues would overlap)."""
ACTIONS = ("say", "pause", "chime", "breathe", "listen", "affirm", "sleep", "include")
STEP_KEYS: dict[str, set[str]] = {
    "say": {"rate", "volume", "after", "audio", "pitch", "sentence_gap", "mark"},
    "pause": set(),
    "chime": {"volume"},
    "breathe": {"cycles", "minutes", "cue", "bpm", "counts", "progress", "unit"},
    "listen": {"timeout", "limit", "kind", "quiet"},
    "affirm": {"gap", "personal"},
    "sleep": {"fade"},
}


def read_step(check: Checker, number: int, table: object, script_dir: Path | None) -> Action | None:
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


def _say(check: Checker, where: str, t: dict[str, Any], script_dir: Path | None) -> Action | None:
    text = check.spoken(where, "say", t["say"], MAX_SPOKEN_CHARS)
    rate = check.number(where, "rate", t["rate"], *RATE_RANGE, integer=True) if "rate" in t else None
    vol = check.number(where, "volume", t["volume"], 0.0, 1.0) if "volume" in t else None
    after = check.number(where, "after", t["after"], 0.0, MAX_STEP_SECONDS) if "after" in t else None
    pitch = check.number(where, "pitch", t["pitch"], *PITCH_RANGE, integer=True) if "pitch" in t else None
    gap = check.number(where, "sentence_gap", t["sentence_gap"], 0.0, SENTENCE_GAP_MAX) \
        if "sentence_gap" in t else None
    audio = check.text(where, "audio", t["audio"]) if "audio" in t else None
    mark = check.text(where, "mark", t["mark"]) if "mark" in t else None
    if mark is not None and mark not in MARKS:
        check.add(where, f"mark must be one of {', '.join(MARKS)}, not '{mark}'")
    if text is None:
        return None
    # a missing or unreadable recording is not an error: the text is spoken instead ('validate' warns)
    recording = recording_path(audio, script_dir) if audio is not None else None
    return Say(text, int(rate) if rate is not None else None, vol, after, recording,
               int(pitch) if pitch is not None else None, gap, mark)


def recording_path(name: str, script_dir: Path | None) -> Path:
    """A recording named in a script: relative to the script's folder (or the working folder)."""
    path = library.expand(name)
    return path if path.is_absolute() or script_dir is None else script_dir / path


def _pause(check: Checker, where: str, t: dict[str, Any], _: Path | None) -> Action | None:
    seconds = check.number(where, "pause", t["pause"], 0.0, MAX_STEP_SECONDS, allow_low=False)
    return Pause(seconds) if seconds is not None else None


def _chime(check: Checker, where: str, t: dict[str, Any], script_dir: Path | None) -> Action | None:
    name = check.text(where, "chime", t["chime"])
    vol = check.number(where, "volume", t["volume"], 0.0, 1.0) if "volume" in t else 1.0
    if name is None:
        return None
    path = library.sound_path(name, script_dir)
    if path is None:
        known = ", ".join(library.bundled_sounds()) or "none"
        check.add(where, f"sound '{name}' not found; bundled sounds: {known}; or a WAV path relative to the script")
        return None
    try:  # only that it is a file we would read: decoding it needs the sound code (voiceguide.engine.lint)
        safe_read.check_regular(path, safe_read.SOUND_LIMIT)
    except InputFileError as exc:
        check.add(where, f"sound file '{name}': {exc.reason}")
        return None
    return Chime(name, path, vol if vol is not None else 1.0)


def _breathe(check: Checker, where: str, t: dict[str, Any], _: Path | None) -> Action | None:
    before = len(check.problems)
    unit = check.number(where, "unit", t.get("unit", 1.0), 0.0, 60.0, allow_low=False)
    pattern = _pattern(check, where, t["breathe"], unit or 1.0)
    if pattern is not None and "bpm" in t:
        bpm = check.number(where, "bpm", t["bpm"], *BPM_RANGE)
        pattern = scaled(pattern, bpm) if bpm is not None else None
    cue = t.get("cue", "both")
    if cue not in CUE_MODES:
        check.add(where, f"cue must be one of {', '.join(repr(c) for c in CUE_MODES)}, not {describe(cue)}")
    counts = t.get("counts", False)
    if not isinstance(counts, bool):
        check.add(where, f"counts must be true or false, not {describe(counts)}")
    progress = _progression(check, where, t["progress"]) if "progress" in t else None
    if "cycles" in t and "minutes" in t:
        check.add(where, "give cycles or minutes, not both")
    cycles: float | None = float(pattern.default_cycles) if pattern is not None else None
    if "cycles" in t:
        cycles = check.number(where, "cycles", t["cycles"], 1, MAX_CYCLES, integer=True)
    minutes = check.number(where, "minutes", t["minutes"], 0.0, 24 * 60.0, allow_low=False) if "minutes" in t else None
    if pattern is None or cycles is None or len(check.problems) > before:
        return None
    step = Breathe(pattern, int(cycles), cue, counts, progress)
    if minutes is not None:
        step = fit_minutes(step, minutes)
    if step.seconds > MAX_STEP_SECONDS:
        check.add(where, f"{step.cycles} cycles of {pattern.cycle_seconds:g} s is longer than 24 hours")
        return None
    return step


def fit_minutes(step: Breathe, minutes: float) -> Breathe:
    """The same breathing with as many whole cycles as come closest to ``minutes`` (at least one)."""
    target = minutes * 60.0
    cycles, elapsed = 0, 0.0
    while cycles < MAX_CYCLES:
        length = sum(p.seconds for p in step.cycle(cycles))
        if cycles > 0 and abs(elapsed + length - target) >= abs(elapsed - target):
            break
        cycles, elapsed = cycles + 1, elapsed + length
    return dataclasses.replace(step, cycles=max(1, cycles))


def _progression(check: Checker, where: str, value: object) -> Progression | None:
    if not isinstance(value, dict):
        check.add(where, "progress must be a table like { phase = \"exhale\", by = 1, every = 2, limit = 8 }")
        return None
    check.unknown(where, set(value), {"phase", "by", "every", "limit"})
    phase = value.get("phase")
    if phase not in PHASE_KINDS:
        check.add(where, f"progress.phase must be one of {', '.join(PHASE_KINDS)}, not {describe(phase)}")
    by = check.number(where, "progress.by", value.get("by"), -60.0, 60.0)
    every = check.number(where, "progress.every", value.get("every", 1), 1, MAX_CYCLES, integer=True)
    limit = check.number(where, "progress.limit", value.get("limit"), 0.0, 3600.0, allow_low=False)
    if phase not in PHASE_KINDS or by is None or every is None or limit is None:
        return None
    return Progression(phase, by, int(every), limit)


def _pattern(check: Checker, where: str, value: object, unit: float) -> BreathPattern | None:
    if isinstance(value, str) and ":" in value:
        try:
            ratio = [float(part) for part in value.split(":")]
        except ValueError:
            ratio = []
        if len(ratio) not in (2, 3, 4) or any(r < 0 or not math.isfinite(r) for r in ratio) \
                or ratio[0] <= 0 or ratio[-2 if len(ratio) == 4 else -1] <= 0:
            check.add(where, f"ratio '{value}' must be 2 to 4 numbers like 'inhale:hold:exhale:rest', "
                             "with inhale and exhale above 0")
            return None
        pattern = ratio_pattern(ratio, unit)
        if any(p.seconds < MIN_PHASE_SECONDS for p in pattern.phases):
            check.add(where, f"ratio '{value}' with unit {unit:g} gives a phase shorter than {MIN_PHASE_SECONDS:g} s")
            return None
        return pattern
    if isinstance(value, str):
        if value in PATTERNS:
            return PATTERNS[value]
        check.add(where, f"unknown pattern '{value}'; known: {', '.join(PATTERNS)}")
        return None
    if not isinstance(value, dict):
        check.add(where, f"breathe must be a pattern name or a table of phases, not {describe(value)}")
        return None
    check.unknown(where, set(value), set(PHASE_KINDS))
    seconds: dict[str, float] = {}
    for key in PHASE_KINDS:
        got = check.number(where, f"breathe.{key}", value.get(key, 0), 0.0, 3600.0)
        if got is None:
            return None
        if 0 < got < MIN_PHASE_SECONDS:
            check.add(where, f"breathe.{key} must be 0 (left out) or at least {MIN_PHASE_SECONDS:g} s, not {got!r}")
            return None
        seconds[key] = got
    if seconds["inhale"] <= 0 or seconds["exhale"] <= 0:
        check.add(where, "an inline pattern needs inhale and exhale longer than 0 seconds")
        return None
    if set(value) - set(PHASE_KINDS):
        return None
    return inline_pattern(**seconds)


def _listen(check: Checker, where: str, t: dict[str, Any], _: Path | None) -> Action | None:
    prompt = check.spoken(where, "listen", t["listen"], MAX_SPOKEN_CHARS)
    timeout = check.number(where, "timeout", t.get("timeout", 15), 0.0, 3600.0, allow_low=False)
    limit = check.number(where, "limit", t.get("limit", 60), 0.0, 3600.0, allow_low=False)
    kind = t.get("kind", "reflection")
    if kind not in ("reflection", "rating"):
        check.add(where, f"kind must be 'reflection' or 'rating', not {describe(kind)}")
        return None
    quiet = check.number(where, "quiet", t["quiet"], 0.5, 30.0) if "quiet" in t else None
    if prompt is None or timeout is None or limit is None or ("quiet" in t and quiet is None):
        return None
    return Listen(prompt, timeout, limit, kind, quiet)


def _affirm(check: Checker, where: str, t: dict[str, Any], _: Path | None) -> Action | None:
    count = check.number(where, "affirm", t["affirm"], 1, 100, integer=True)
    gap = check.number(where, "gap", t.get("gap", 6.0), 0.0, 600.0)
    personal = t.get("personal", True)
    if not isinstance(personal, bool):
        check.add(where, f"personal must be true or false, not {describe(personal)}")
        return None
    if count is None or gap is None:
        return None
    return Affirm(int(count), gap, personal)


def _sleep(check: Checker, where: str, t: dict[str, Any], _: Path | None) -> Action | None:
    seconds = check.number(where, "sleep", t["sleep"], 0.0, MAX_STEP_SECONDS, allow_low=False)
    fade = check.number(where, "fade", t.get("fade", 30.0), 1.0, 600.0)
    if seconds is None or fade is None:
        return None
    if fade > seconds:
        check.add(where, f"fade ({fade:g} s) must not be longer than the sleep step ({seconds:g} s)")
        return None
    return Sleep(seconds, fade)


_ACTION_READERS = {"say": _say, "pause": _pause, "chime": _chime, "breathe": _breathe, "listen": _listen,
                   "affirm": _affirm, "sleep": _sleep}
