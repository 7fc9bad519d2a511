"""Checks on the words of the bundled sessions that a careful reader asked for."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from voiceguide.script import parse
from voiceguide.script.acknowledge import acknowledgements
from voiceguide.script.model import Listen, Say, Session

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((REPO / "scripts").glob("*.toml")) + sorted((REPO / "scripts" / "parts").glob("*.toml"))


def lines(session: Session) -> list[str]:
    return [s.action.text for s in session.steps if isinstance(s.action, Say)]


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_the_words_suit_every_device_and_voice(path: Path) -> None:
    session = parse.load(path)
    for text in lines(session):
        assert "press q" not in text.lower() and "letter q" not in text.lower(), "use {stop}: the device says how"
        assert not re.search(r"\bclose\b", text, re.I), f"espeak-ng reads 'close' as the adjective: {text!r}"
        assert "please stop" not in text.lower(), "said aloud, it would stop a session that hears voice commands"
    thanks = acknowledgements(session)
    steps = session.steps
    for here, after in itertools.pairwise(steps):
        if isinstance(here.action, Listen) and isinstance(after.action, Say) and here.index in thanks:
            assert not after.action.text.lower().startswith(("thank", "dank")), \
                "the engine thanks the person once after an answer"


PAIRS = sorted((p.stem, f"nl-{p.stem}") for p in (REPO / "scripts").glob("*.toml") if not p.stem.startswith("nl-"))
"""Every English session and the id of its Dutch twin (the same id with ``nl-`` in front)."""
NEAR_PAIN = ("boundaries", "diary", "letting-go", "reflection", "safe-allies", "self-compassion", "after-contact",
             "nightmare", "self-criticism")
"""Sessions that go near painful material: they end with aftercare that points to a person."""


def test_every_english_session_has_a_dutch_version() -> None:
    sessions = {p.stem: parse.load(p) for p in (REPO / "scripts").glob("*.toml")}
    english = sorted(name for name, s in sessions.items() if s.language == "en")
    assert english == [en for en, _ in PAIRS]
    missing = [name for name in english if f"nl-{name}" not in sessions]
    assert not missing
    for name in english:
        dutch = sessions[f"nl-{name}"]
        assert dutch.language == "nl"
        assert dutch.asks == sessions[name].asks, f"{name}: both or neither ask questions"


def structure(session: Session) -> list[str]:
    """The safety structure a translation must keep: marked lines (a choice offered, aftercare, help) and
    listen steps with their kind, in order."""
    out = []
    for step in session.steps:
        act = step.action
        if isinstance(act, Say) and act.mark is not None:
            out.append(act.mark)
        elif isinstance(act, Listen):
            out.append(f"listen:{act.kind}")
    return out


@pytest.mark.parametrize(("english", "dutch"), PAIRS, ids=[en for en, _ in PAIRS])
def test_the_dutch_twin_keeps_the_same_choices_safety_lines_and_questions(english: str, dutch: str) -> None:
    en = parse.load(REPO / "scripts" / f"{english}.toml")
    nl = parse.load(REPO / "scripts" / f"{dutch}.toml")
    assert structure(nl) == structure(en)
    if english in NEAR_PAIN:
        assert structure(en)[-2:] == ["aftercare", "aftercare"], "ends with aftercare: a person, then a session"
        last = [s.action.text for s in en.steps if isinstance(s.action, Say) and s.action.mark == "aftercare"]
        assert "someone you trust" in last[0] and "called" not in " ".join(last)


def test_the_help_session_names_emergency_and_a_person_in_both_languages() -> None:
    for name in ("about-help", "nl-about-help"):
        session = parse.load(REPO / "scripts" / f"{name}.toml")
        assert structure(session).count("help") >= 4
