"""The hold limits no option can break, spoken counts taken from the plan, and the notices the engine says."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

import pytest

from voiceguide.backends.fake import FakeSpeaker, FakeTimer
from voiceguide.cli.main import main
from voiceguide.daemon.config import Button, DaemonConfig, Wake
from voiceguide.daemon.sessions import stop_ways
from voiceguide.engine.compile import compile_session
from voiceguide.engine.timeline import Timeline
from voiceguide.errors import VoiceguideError
from voiceguide.playback.slowing import FACTOR, MOST
from voiceguide.script import adjust, parse, wording
from voiceguide.script.limits import (
    LIGHTHEADED_NOTICE,
    LONG_HOLD_SECONDS,
    MAX_HOLD_SECONDS,
    MAX_LONG_HOLD_ROUNDS,
    MAX_SESSION_LONG_HOLD_ROUNDS,
)
from voiceguide.script.model import Breathe, Session
from voiceguide.script.patterns import PATTERNS

REPO = Path(__file__).resolve().parents[2]
BUNDLED = sorted((REPO / "scripts").glob("*.toml"))
RATE = 8000


def compiled(session: Session, listening: bool = False) -> Timeline:
    return compile_session(session, FakeTimer(), RATE, listening=listening)


def minutes_of(session: Session) -> float:
    return compiled(session).seconds / 60


def stretched(session: Session) -> list[Session]:
    """The session under the options that stretch breathing most, each alone and all together."""
    out = [adjust.with_cycles(session, 200), adjust.with_bpm(session, 2.0),
           adjust.with_bpm(adjust.with_cycles(session, 200), 2.0)]
    with contextlib.suppress(VoiceguideError):  # a session with no breathing steps to stretch
        out.append(adjust.with_minutes(session, 60, minutes_of(session) * 60))
    slow = out[-1]
    for _ in range(MOST):  # three "slower", each from the very start
        slow = adjust.slowed(slow, 1, 0, FACTOR, 135)
    out.append(slow)
    return out


def holds_by_step(timeline: Timeline) -> dict[int, list[float]]:
    """Every hold phase's length in seconds, by step."""
    out: dict[int, list[float]] = {}
    for e in timeline.events:
        if e.kind == "phase" and e.phase == "hold":
            out.setdefault(e.step, []).append((e.end - e.start) / RATE)
    return out


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_no_option_makes_a_bundled_session_hold_longer_or_more_often_than_the_caps(path: Path) -> None:
    for session in stretched(parse.load(path)):
        for step, holds in holds_by_step(compiled(session)).items():
            assert max(holds) <= MAX_HOLD_SECONDS + 1 / RATE, (path.name, step, max(holds))
            long = [h for h in holds if h > LONG_HOLD_SECONDS + 1 / RATE]
            assert len(long) <= MAX_LONG_HOLD_ROUNDS, (path.name, step, len(long))


MANY = ('[session]\ntitle = "t"\n' + '[[step]]\nsay = "Again."\n[[step]]\nbreathe = "4-7-8"\ncycles = 6\n' * 4
        + '[[step]]\nbreathe = { inhale = 4, hold = 30, exhale = 6 }\n'
          'progress = { phase = "hold", by = 5, limit = 60 }\ncycles = 40\n')
"""A session of many breathing steps with long holds: each step alone is within the per-step caps."""


@pytest.mark.parametrize("path", [*BUNDLED, None], ids=[*(p.stem for p in BUNDLED), "many-steps"])
def test_a_whole_session_holds_long_no_more_than_its_cap_whatever_the_options(path: Path | None) -> None:
    session = parse.loads(MANY) if path is None else parse.load(path)
    for changed in [session, *stretched(session)]:
        holds = [h for step in holds_by_step(compiled(changed)).values() for h in step]
        long = [h for h in holds if h > LONG_HOLD_SECONDS + 1 / RATE]
        assert len(long) <= MAX_SESSION_LONG_HOLD_ROUNDS, (path, len(long))
        assert max(holds, default=0.0) <= MAX_HOLD_SECONDS + 1 / RATE
    if path is None:
        assert len([h for s in holds_by_step(compiled(session)).values() for h in s
                    if h > LONG_HOLD_SECONDS]) == MAX_SESSION_LONG_HOLD_ROUNDS, "the first rounds keep their hold"


def test_validate_says_what_the_session_cap_took(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "many.toml"
    script.write_text(MANY)
    assert main(["validate", str(script)]) == 0
    out = capsys.readouterr().out
    assert "many.toml: ok" in out
    assert ("step 4 (breathe): warning: the session already has 6 of its 8 rounds with a long hold; 2 of this "
            "step's 6 keep the hold and the other 4 are breathed without it") in out
    assert "step 6 (breathe): warning: the session already has 8 of its 8 rounds" in out
    assert "step 9 (breathe): warning: a hold of" in out


def test_four_seven_eight_with_more_minutes_fills_the_time_without_holds() -> None:
    session = parse.load(REPO / "scripts" / "4-7-8.toml")
    longer = adjust.with_minutes(session, 10, minutes_of(session) * 60)
    timeline = compiled(longer)
    assert abs(timeline.seconds - 600) < 30
    (holds,) = holds_by_step(timeline).values()
    assert len(holds) == 4, "the script's four rounds keep their hold; the added time has none"
    (step,) = [s.action for s in longer.steps if isinstance(s.action, Breathe)]
    assert step.cycles > 20


def test_slower_never_stretches_a_hold_and_caps_any_hold() -> None:
    b = Breathe(PATTERNS["4-7-8"], 4, slow=((0, 1.2), (0, 1.2), (0, 1.2)))
    assert [p.seconds for p in b.cycle(0)] == pytest.approx([4 * 1.728, 7.0, 8 * 1.728])
    box = Breathe(PATTERNS["box"], 4, slow=((0, 1.2), (0, 1.2), (0, 1.2)))
    assert max(p.seconds for p in box.cycle(0) if p.kind == "hold") == pytest.approx(LONG_HOLD_SECONDS)
    session = parse.loads('[session]\ntitle = "t"\n[[step]]\nbreathe = { inhale = 4, hold = 30, exhale = 6 }\n'
                          'cycles = 12\n')
    holds = holds_by_step(compiled(session))[1]
    assert holds == pytest.approx([MAX_HOLD_SECONDS] * MAX_LONG_HOLD_ROUNDS)


def test_validate_says_what_was_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "long.toml"
    script.write_text('[session]\ntitle = "t"\n[[step]]\nbreathe = "4-7-8"\ncycles = 12\n'
                      '[[step]]\nbreathe = { inhale = 4, hold = 15, exhale = 6 }\n')
    assert main(["validate", str(script)]) == 0
    out = capsys.readouterr().out
    assert "long.toml: ok" in out
    assert "step 1 (breathe): warning: 12 rounds with a long hold asked for; the first 8 keep the hold" in out
    assert "step 2 (breathe): warning: a hold of 15 s is capped at 10 s" in out
    plain = tmp_path / "plain.toml"
    plain.write_text('[session]\ntitle = "t"\n[[step]]\nbreathe = "4-7-8"\n')
    assert main(["validate", str(plain)]) == 0
    assert "warning" not in capsys.readouterr().out


def spoken(timeline: Timeline) -> list[str]:
    return [e.text for e in timeline.events if e.kind == "speech" and e.phase is None and e.text]


def inhales(timeline: Timeline, step: int) -> int:
    return sum(1 for e in timeline.events if e.kind == "phase" and e.phase == "inhale" and e.step == step)


@pytest.mark.parametrize("change", ["none", "cycles 1", "cycles 6", "minutes 8"])
def test_spoken_round_counts_match_the_compiled_plan(change: str) -> None:
    session = parse.load(REPO / "scripts" / "4-7-8.toml")
    if change.startswith("cycles"):
        session = adjust.with_cycles(session, int(change.split()[1]))
    elif change.startswith("minutes"):
        session = adjust.with_minutes(session, 8, minutes_of(session) * 60)
    timeline = compiled(session)
    (step,) = [s.index for s in session.steps if isinstance(s.action, Breathe)]
    count = wording.rounds(inhales(timeline, step), "en")
    lines = spoken(timeline)
    assert f"Now, {count} together. The voice and the tone will count for you." in lines
    assert f"That was the last of {count}." in lines


def test_round_words_and_ways_to_stop_in_both_languages() -> None:
    assert wording.rounds(4, "en") == "four rounds" and wording.rounds(1, "en") == "one round"
    assert wording.rounds(1, "nl") == "één ronde" and wording.rounds(23, "nl") == "23 rondes"
    assert wording.how_to_stop((), "en") == ""
    assert wording.how_to_stop(("voice", "keys"), "en") == "Press q, or say stop."
    assert wording.how_to_stop(("button", "voice"), "nl") == "Druk op de knop, of zeg stop."


def test_the_daemon_says_how_to_stop_with_what_the_device_has() -> None:
    assert stop_ways(DaemonConfig()) == ()
    assert stop_ways(DaemonConfig(button=Button(pin="17"))) == ("hold-button",)
    config = DaemonConfig(button=Button(pin="17", short_press="stop", long_press="none"),
                          wake=Wake(phrase="hello there"))
    assert stop_ways(config) == ("button", "voice")
    session = parse.loads('[session]\ntitle = "t"\n[[step]]\nsay = "You can stop at any time. {stop}"\n')
    bedside = dataclasses.replace(session, stop_ways=stop_ways(config))
    assert spoken(compiled(bedside)) == ["You can stop at any time. Press the button, or say stop."]
    assert spoken(compiled(session)) == ["You can stop at any time."]


def test_long_holds_warn_once_unless_the_script_already_does() -> None:
    base = ('[session]\ntitle = "t"\n[[step]]\nsay = "Hello."\n[[step]]\nbreathe = "4-7-8"\n'
            '[[step]]\nbreathe = "4-7-8"\n')
    lines = spoken(compiled(parse.loads(base)))
    assert lines == ["Hello.", LIGHTHEADED_NOTICE["en"]]
    own = base.replace("Hello.", "If you feel dizzy, breathe your own way.")
    assert LIGHTHEADED_NOTICE["en"] not in spoken(compiled(parse.loads(own)))
    box = '[session]\ntitle = "t"\n[[step]]\nbreathe = "box"\n'
    assert spoken(compiled(parse.loads(box))) == []
    dutch = parse.loads(base.replace('title = "t"', 'title = "t"\nlanguage = "nl"'))
    assert LIGHTHEADED_NOTICE["nl"] in spoken(compiled(dutch))


QUESTIONS = ('[session]\ntitle = "q"\nlanguage = "{lang}"\n[[step]]\nsay = "Hello."\n'
             '[[step]]\nlisten = "What do you hear?"\n[[step]]\nlisten = "And now?"\n')


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_listening_session_says_aloud_that_answers_are_kept_before_its_first_question(lang: str) -> None:
    session = parse.loads(QUESTIONS.replace("{lang}", lang))
    lines = spoken(compile_session(session, FakeSpeaker(), RATE, listening=True))
    notice = wording.PRIVACY_NOTICE[lang]
    assert lines.count(notice) == 1
    assert lines.index(notice) == lines.index("What do you hear?") - 1
    assert notice not in spoken(compile_session(session, FakeSpeaker(), RATE, listening=False))
