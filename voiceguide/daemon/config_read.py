"""Read ``config.toml`` into a :class:`DaemonConfig`, reporting every problem with its place (like scripts)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from voiceguide import safe_read
from voiceguide.bounds import MINUTES, SAMPLE_RATES
from voiceguide.daemon.config import (
    ACTIONS,
    Audio,
    Button,
    DaemonConfig,
    Ramp,
    Remote,
    ScheduleEntry,
    Speech,
    Wake,
    config_path,
)
from voiceguide.daemon.config_times import quiet_hours, read_days, read_time
from voiceguide.daemon.mqtt.settings import read_mqtt
from voiceguide.errors import ConfigError, InputFileError, Problem, ScriptError, SessionNotFound
from voiceguide.script import library, parse
from voiceguide.script.checks import Checker, describe, toml_table

TABLES = {"audio", "speech", "journal", "ramp", "quiet_hours", "schedule", "button", "wake", "remote", "mqtt"}


def load_config(path: Path | None = None) -> DaemonConfig:
    """The config at ``path`` (default: the user config file); defaults if the default file is missing."""
    explicit = path is not None
    path = path if path is not None else config_path()
    try:
        raw = safe_read.read_text(path, safe_read.SCRIPT_LIMIT)
    except InputFileError as exc:
        if exc.missing and not explicit:
            return DaemonConfig()
        reason = f"no such file: {path}" if exc.missing else exc.reason
        raise ConfigError([Problem(path.name, "file", reason)]) from exc
    return loads_config(raw, name=path.name, path=path)


def loads_config(raw: str, *, name: str = "config.toml", path: Path | None = None,
                 check_sessions: bool = True) -> DaemonConfig:
    """Validate config text; raise :class:`ConfigError` listing every problem."""
    doc = toml_table(raw, name, ConfigError)
    check = _ConfigChecker(name, check_sessions)
    check.unknown("file", set(doc), TABLES)
    audio = _audio(check, _table(check, doc, "audio"))
    speech = _speech(check, _table(check, doc, "speech"))
    journal, answers = _journal(check, _table(check, doc, "journal"))
    ramp = _ramp(check, _table(check, doc, "ramp"))
    quiet = quiet_hours(check, doc.get("quiet_hours"))
    schedule = _schedule(check, doc.get("schedule", []))
    button = _button(check, doc["button"]) if "button" in doc else None
    wake = _wake(check, doc["wake"]) if "wake" in doc else None
    remote = _remote(check, doc["remote"], path) if "remote" in doc else None
    mqtt = read_mqtt(check, doc["mqtt"], path) if "mqtt" in doc else None
    config = DaemonConfig(path, audio, speech, journal if journal is not None else DaemonConfig().journal,
                          ramp, quiet, schedule, button, wake, answers, remote, mqtt)
    if check.problems:
        raise ConfigError(check.problems)
    return config


def _table(check: Checker, doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        check.add("file", f"{key} must be a table ([{key}]), not {describe(value)}")
        return {}
    return value


def _optional_text(check: Checker, where: str, table: dict[str, Any], key: str) -> str | None:
    if key not in table or table[key] == "":
        return None
    return check.text(where, key, table[key])


def _audio(check: Checker, t: dict[str, Any]) -> Audio:
    check.unknown("[audio]", set(t), {"output", "input", "sample_rate"})
    rate = Audio().sample_rate
    if "sample_rate" in t:
        rate = int(check.number("[audio]", "sample_rate", t["sample_rate"], SAMPLE_RATES.low,
                                 SAMPLE_RATES.high, integer=True) or rate)
    return Audio(_optional_text(check, "[audio]", t, "output"), _optional_text(check, "[audio]", t, "input"), rate)


def _speech(check: Checker, t: dict[str, Any]) -> Speech:
    from voiceguide.backends import MODEL_OPTION, RECOGNIZERS, TTS

    where = "[speech]"
    check.unknown(where, set(t), {"tts", "voice", "rate", "volume", "recognizer", "cache_dir", "model"})
    out = Speech()
    tts = _optional_text(check, where, t, "tts") or out.tts
    if tts is not None and tts not in TTS:
        check.add(where, f"tts must be one of {', '.join(TTS)}, not {tts!r}")
    recognizer = _optional_text(check, where, t, "recognizer") or out.recognizer
    if recognizer not in RECOGNIZERS:
        check.add(where, f"recognizer must be one of {', '.join(RECOGNIZERS)}, not {recognizer!r}")
    rate = check.number(where, "rate", t["rate"], *parse.RATE_RANGE, integer=True) if "rate" in t else None
    volume = check.number(where, "volume", t["volume"], 0.0, 1.0) if "volume" in t else None
    cache = _optional_text(check, where, t, "cache_dir")
    model = _optional_text(check, where, t, "model")
    if model is not None and recognizer in RECOGNIZERS and recognizer not in MODEL_OPTION:
        check.add(where, f"the {recognizer} recognizer takes no model; model is for {', '.join(MODEL_OPTION)}")
    return Speech(tts, _optional_text(check, where, t, "voice"), int(rate) if rate is not None else None,
                  volume, recognizer, Path(cache).expanduser() if cache else None,
                  str(Path(model).expanduser()) if model and model.startswith("~") else model)


def _journal(check: Checker, t: dict[str, Any]) -> tuple[Path | None, bool]:
    """The journal folder (None: the default) and whether answers are recorded."""
    check.unknown("[journal]", set(t), {"path", "answers"})
    text = _optional_text(check, "[journal]", t, "path")
    answers = t.get("answers", True)
    if not isinstance(answers, bool):
        check.add("[journal]", f"answers must be true or false, not {describe(answers)}")
    return (Path(text).expanduser() if text else None), answers is True


def _ramp(check: Checker, t: dict[str, Any]) -> Ramp:
    check.unknown("[ramp]", set(t), {"seconds", "from"})
    seconds = check.number("[ramp]", "seconds", t["seconds"], 0, 600) if "seconds" in t else None
    start = check.number("[ramp]", "from", t["from"], 0.0, 1.0) if "from" in t else None
    default = Ramp()
    return Ramp(default.seconds if seconds is None else seconds, default.start if start is None else start)


def _minutes(check: Checker, where: str, t: dict[str, Any], default: float | None = None) -> float | None:
    if "minutes" not in t:
        return default
    return check.number(where, "minutes", t["minutes"], MINUTES.low, MINUTES.high, allow_low=not MINUTES.above_low)


def _schedule(check: Checker, raw: object) -> tuple[ScheduleEntry, ...]:
    if not isinstance(raw, list):
        check.add("file", "schedule must be written as [[schedule]] tables")
        return ()
    entries = []
    for number, t in enumerate(raw, start=1):
        where = f"[[schedule]] {number}"
        if not isinstance(t, dict):
            check.add(where, f"must be a table, not {describe(t)}")
            continue
        check.unknown(where, set(t), {"session", "at", "days", "minutes", "ramp"})
        for key in ("session", "at"):
            if key not in t:
                check.add(where, f"{key} is required")
        session = _session(check, where, t["session"]) if "session" in t else None
        at = read_time(check, where, "at", t["at"]) if "at" in t else None
        days = read_days(check, where, t["days"]) if "days" in t else frozenset(range(7))
        ramp = t.get("ramp", True)
        if not isinstance(ramp, bool):
            check.add(where, f"ramp must be true or false, not {describe(ramp)}")
        minutes = _minutes(check, where, t)
        if session is not None and at is not None and days is not None:
            entries.append(ScheduleEntry(number, session, at, days, minutes, ramp is not False))
    return tuple(entries)


def _action(check: Checker, where: str, t: dict[str, Any], key: str, default: str) -> str:
    value = t.get(key, default)
    if value not in ACTIONS:
        check.add(where, f"{key} must be one of {', '.join(ACTIONS)}, not {describe(value)}")
        return default
    return str(value)


def _button(check: Checker, t: object) -> Button | None:
    where = "[button]"
    if not isinstance(t, dict):
        check.add("file", f"button must be a table ([button]), not {describe(t)}")
        return None
    check.unknown(where, set(t), {"pin", "bounce_time", "hold_time", "short_press", "long_press", "session",
                                  "minutes"})
    pin = t.get("pin")
    if pin is None:
        check.add(where, "pin is required (the BCM number the button is wired to, e.g. 17)")
    elif isinstance(pin, bool) or not isinstance(pin, int | str) or (isinstance(pin, int) and not 0 <= pin <= 40):
        check.add(where, f"pin must be a BCM number 0-40 or a name like \"GPIO17\", not {describe(pin)}")
        pin = None
    default = Button(0)
    bounce: float | None = default.bounce_time
    if "bounce_time" in t:
        bounce = check.number(where, "bounce_time", t["bounce_time"], 0.0, 1.0) or None
    hold = check.number(where, "hold_time", t["hold_time"], 0.1, 10.0) if "hold_time" in t else default.hold_time
    session = _session(check, where, t["session"]) if "session" in t else default.session
    short = _action(check, where, t, "short_press", default.short_press)
    long = _action(check, where, t, "long_press", default.long_press)
    minutes = _minutes(check, where, t, default.minutes)
    if pin is None or hold is None or session is None:
        return None
    return Button(pin, bounce, hold, short, long, session, minutes)


def _wake(check: Checker, t: object) -> Wake | None:
    where = "[wake]"
    if not isinstance(t, dict):
        check.add("file", f"wake must be a table ([wake]), not {describe(t)}")
        return None
    check.unknown(where, set(t), {"enabled", "phrase", "sensitivity", "session", "minutes", "commands",
                                  "spotter"})
    enabled, commands = t.get("enabled", True), t.get("commands", True)
    for key, value in (("enabled", enabled), ("commands", commands)):
        if not isinstance(value, bool):
            check.add(where, f"{key} must be true or false, not {describe(value)}")
    if "phrase" not in t:
        check.add(where, "phrase is required (two or three words, e.g. \"hello guide\")")
    phrase = check.text(where, "phrase", t["phrase"]) if "phrase" in t else None
    default = Wake("")
    sensitivity = check.number(where, "sensitivity", t["sensitivity"], 0.0, 1.0) if "sensitivity" in t \
        else default.sensitivity
    session = _session(check, where, t["session"]) if "session" in t else default.session
    minutes = _minutes(check, where, t)
    from voiceguide.listen.command_config import DEFAULT_WORDS

    if commands is True and phrase is not None and phrase.lower() in DEFAULT_WORDS:
        check.add(where, f"phrase {phrase!r} is also a voice command; choose other words, or set commands = false")
    spotter = check.text(where, "spotter", t["spotter"]) if "spotter" in t else default.spotter
    from voiceguide.backends import SPOTTERS

    if spotter is not None and spotter not in SPOTTERS:
        check.add(where, f"spotter {spotter!r} is not one of {', '.join(SPOTTERS)}")
        spotter = None
    elif spotter is not None and SPOTTERS[spotter].taught:
        check.add(where, f"spotter {spotter!r} hears only taught words, not the wake phrase; taught words are heard "
                         "beside the wake phrase anyway (commands = true)")
        spotter = None
    if enabled is not True or phrase is None or sensitivity is None or session is None or spotter is None:
        return None
    return Wake(phrase.lower(), sensitivity, session, minutes, commands is True, spotter)


def _remote(check: Checker, t: object, path: Path | None) -> Remote | None:
    where = "[remote]"
    if not isinstance(t, dict):
        check.add("file", f"remote must be a table ([remote]), not {describe(t)}")
        return None
    check.unknown(where, set(t), {"enabled", "listen", "port", "journal", "certificate", "key", "https"})
    default = Remote()
    for key in ("enabled", "journal", "https"):
        if not isinstance(t.get(key, True), bool):
            check.add(where, f"{key} must be true or false, not {describe(t[key])}")
    listen = _optional_text(check, where, t, "listen") or default.listen
    try:
        ipaddress.ip_address(listen)
    except ValueError:
        check.add(where, f"listen must be an IP address like \"127.0.0.1\" or \"192.168.1.20\", not {listen!r}")
    port = check.number(where, "port", t["port"], 1024, 65535, integer=True) if "port" in t else default.port
    base = path.parent if path is not None else Path.cwd()
    files: dict[str, Path | None] = {}
    for key in ("certificate", "key"):
        text = _optional_text(check, where, t, key)
        files[key] = (base / Path(text).expanduser()) if text else None
        if files[key] is not None and not files[key].is_file():  # type: ignore[union-attr]
            check.add(where, f"{key}: no such file: {files[key]}")
    if (files["certificate"] is None) != (files["key"] is None):
        check.add(where, "certificate and key go together: name both files, or neither")
    if t.get("https") is False and files["certificate"] is not None:
        check.add(where, "https = false serves plain HTTP: leave out certificate and key, or https")
    if t.get("enabled", True) is not True or port is None:
        return None
    https = t["https"] if isinstance(t.get("https"), bool) else None
    return Remote(listen, int(port), t.get("journal", True) is not False, files["certificate"], files["key"],
                  https)


class _ConfigChecker(Checker):
    def __init__(self, file: str, check_sessions: bool) -> None:
        super().__init__(file)
        self.check_sessions = check_sessions


def _session(check: Checker, where: str, value: object) -> str | None:
    """A session name that must exist and be a valid script."""
    name = check.text(where, "session", value)
    if name is None or not getattr(check, "check_sessions", False):
        return name
    try:
        parse.load(library.find(name, relative=False))  # as the daemon will look it up
    except SessionNotFound as exc:
        check.add(where, f"session: {exc}")
    except ScriptError as exc:
        check.add(where, f"session: '{name}' is not a valid script: {exc.problems[0]}")
    return name
