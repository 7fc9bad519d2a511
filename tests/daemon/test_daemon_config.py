"""The daemon's config file: the documented example is valid, and every mistake is reported with its place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.helpers import REPO
from voiceguide.daemon.config import DaemonConfig, QuietHours
from voiceguide.daemon.config_read import load_config, loads_config
from voiceguide.errors import ConfigError

EXAMPLE = REPO / "docs" / "config.example.toml"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        loads_config(text)
    return [str(p) for p in info.value.problems]


def test_the_documented_example_is_valid_and_complete() -> None:
    config = loads_config(EXAMPLE.read_text(encoding="utf-8"))
    assert config.audio.output == "USB Audio"
    assert config.schedule and config.schedule[0].session == "bedtime"
    assert config.schedule[0].at == dt.time(22, 30) and config.schedule[0].days == frozenset(range(5))
    assert config.button is not None and config.button.pin == 17
    assert config.button.minutes == 5 and config.button.long_press == "stop"
    assert config.quiet_hours == QuietHours(dt.time(23, 30), dt.time(6, 30))
    assert config.wake is None, "the example ships with the wake phrase off"
    # every key the reader accepts appears in the example, so it really is complete
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in ("output", "input", "sample_rate", "tts", "voice", "rate", "volume", "recognizer", "cache_dir",
                "path", "seconds", "from", "start", "end", "session", "at", "days", "minutes", "ramp", "pin",
                "bounce_time", "hold_time", "short_press", "long_press", "enabled", "phrase", "sensitivity",
                "commands", "model", "answers"):
        assert f"{key} =" in text, f"the example does not show '{key}'"


def test_a_missing_default_file_means_defaults(isolated_user_dirs: Path) -> None:
    assert load_config() == DaemonConfig()


def test_a_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_every_problem_is_reported_with_table_and_key() -> None:
    found = problems('[audio]\noutput = 3\nspeaker = "x"\n'
                     '[speech]\nrate = 500\nvolume = "loud"\ntts = "espeak9"\n'
                     '[[schedule]]\nsession = "bedtme"\nat = "25:00"\ndays = "mon-fry"\n'
                     '[[schedule]]\nat = "7:00"\n'
                     '[button]\npin = 99\nshort_press = "jump"\nhold_time = 0\n'
                     '[wake]\nphrase = "hello guide"\nsensitivity = 2\n'
                     '[ramp]\nfrom = 1.5\n[quiet_hours]\nstart = "23:00"\n')
    expected = [
        "config.toml: [audio]: output must be text in quotes, not 3",
        "config.toml: [audio]: unknown key 'speaker'",
        "config.toml: [speech]: tts must be one of",
        "config.toml: [speech]: rate must be from",
        "config.toml: [speech]: volume must be a number, not 'loud'",
        "config.toml: [[schedule]] 1: session: no session called 'bedtme'",
        "config.toml: [[schedule]] 1: at must be a time of day like \"22:30\", not '25:00'",
        "config.toml: [[schedule]] 1: days: cannot read 'mon-fry'",
        "config.toml: [[schedule]] 2: session is required",
        "config.toml: [button]: pin must be a BCM number",
        "config.toml: [button]: short_press must be one of start, toggle, stop, pause, none, not 'jump'",
        "config.toml: [button]: hold_time must be from 0.1",
        "config.toml: [wake]: sensitivity must be from 0 to 1, not 2",
        "config.toml: [ramp]: from must be from 0 to 1, not 1.5",
        "config.toml: [quiet_hours]: end is required",
    ]
    for prefix in expected:
        assert any(p.startswith(prefix) for p in found), f"missing {prefix!r} in:\n" + "\n".join(found)
    assert len(found) == len(expected), "\n".join(found)


def test_invalid_toml_is_one_located_problem() -> None:
    assert problems("[audio\n") [0].startswith("config.toml: file: invalid TOML")


@pytest.mark.parametrize(("days", "expected"), [
    ("mon-fri", {0, 1, 2, 3, 4}), ("sat,sun", {5, 6}), ("fri-mon", {4, 5, 6, 0}), ("daily", set(range(7))),
    ("weekends", {5, 6}), ("Monday, Wednesday", {0, 2}), (["tue", "thu"], {1, 3}), ("sun", {6}),
])
def test_days(days: object, expected: set[int]) -> None:
    text = f'[[schedule]]\nsession = "demo"\nat = "7:05"\ndays = {days!r}\n'.replace("'", '"')
    entry = loads_config(text).schedule[0]
    assert entry.days == frozenset(expected)
    assert entry.at == dt.time(7, 5)


def test_toml_local_times_are_accepted() -> None:
    config = loads_config('[[schedule]]\nsession = "demo"\nat = 22:30:00\n[quiet_hours]\nstart = 23:00:00\n'
                          'end = "6:00"\n')
    assert config.schedule[0].at == dt.time(22, 30)
    assert config.schedule[0].days == frozenset(range(7)), "no days means every day"
    assert config.quiet_hours == QuietHours(dt.time(23), dt.time(6))


def test_quiet_hours_across_midnight() -> None:
    night = QuietHours(dt.time(23), dt.time(6, 30))
    assert night.contains(dt.time(23)) and night.contains(dt.time(2)) and night.contains(dt.time(6, 29))
    assert not night.contains(dt.time(6, 30)) and not night.contains(dt.time(22, 59))
    day = QuietHours(dt.time(13), dt.time(15))
    assert day.contains(dt.time(14)) and not day.contains(dt.time(15)) and not day.contains(dt.time(12))


def test_button_defaults_start_five_minutes_of_breathing() -> None:
    button = loads_config("[button]\npin = 17\n").button
    assert button is not None
    assert (button.session, button.minutes, button.short_press, button.long_press) == ("coherent", 5.0, "start",
                                                                                         "stop")
    assert loads_config("[button]\npin = 17\nbounce_time = 0\n").button.bounce_time is None  # type: ignore[union-attr]


def test_wake_can_be_switched_off_and_names_a_session() -> None:
    assert loads_config('[wake]\nenabled = false\nphrase = "hello guide"\n').wake is None
    wake = loads_config('[wake]\nphrase = "Hello Guide"\nsession = "grounding"\n').wake
    assert wake is not None and wake.phrase == "hello guide" and wake.session == "grounding"
    assert any("phrase is required" in p for p in problems("[wake]\nenabled = true\n"))


def test_wake_hears_voice_commands_unless_told_not_to() -> None:
    wake = loads_config('[wake]\nphrase = "hello guide"\n').wake
    assert wake is not None and wake.commands
    wake = loads_config('[wake]\nphrase = "hello guide"\ncommands = false\n').wake
    assert wake is not None and not wake.commands
    assert problems('[wake]\nphrase = "hello guide"\ncommands = "yes"\n') == [
        "config.toml: [wake]: commands must be true or false, not 'yes'"]
    (problem,) = problems('[wake]\nphrase = "Stop"\n')
    assert "'Stop' is also a voice command" in problem
    assert loads_config('[wake]\nphrase = "stop"\ncommands = false\n').wake is not None


def test_sessions_in_use_are_listed_once() -> None:
    config = loads_config('[[schedule]]\nsession = "demo"\nat = "7:00"\n[[schedule]]\nsession = "demo"\n'
                          'at = "8:00"\n[button]\npin = 4\nsession = "box"\n')
    assert config.sessions() == ["demo", "box"]


def test_journal_answers_and_the_recognizers_model() -> None:
    config = loads_config('[speech]\nrecognizer = "vosk"\nmodel = "/srv/vosk-model"\n[journal]\nanswers = false\n')
    assert config.speech.model == "/srv/vosk-model" and not config.answers
    assert DaemonConfig().answers and DaemonConfig().speech.model is None
    assert problems('[journal]\nanswers = 1\n') == ["config.toml: [journal]: answers must be true or false, not 1"]
    (problem,) = problems('[speech]\nrecognizer = "fake"\nmodel = "x"\n')
    assert "the fake recognizer takes no model" in problem


def test_the_default_journal_is_the_one_voiceguide_journal_reads() -> None:
    from voiceguide.journal.db import JOURNAL_FILE, default_path

    assert DaemonConfig().journal / JOURNAL_FILE == default_path()


def test_minutes_have_one_bound_everywhere_the_config_file_included() -> None:
    from voiceguide.bounds import MINUTES
    from voiceguide.daemon.messages import CtlRequest
    from voiceguide.engine.options import ShapingOptions
    from voiceguide.errors import VoiceguideError

    entry = '[[schedule]]\nsession = "demo"\nat = "22:30"\nminutes = {}\n'
    assert loads_config(entry.format("0.5")).schedule[0].minutes == 0.5, "as the command line takes it"
    for bad in ("0", "1441"):
        assert problems(entry.format(bad)) == [f"config.toml: [[schedule]] 1: minutes must be {MINUTES}, not {bad}"]
        assert CtlRequest.from_dict({"command": "start", "session": "demo", "minutes": float(bad)}) == \
            f"minutes must be a number {MINUTES}"
        with pytest.raises(VoiceguideError, match=f"--minutes must be {MINUTES}"):
            ShapingOptions(minutes=float(bad))
    assert str(MINUTES) == "more than 0 and at most 1440"
