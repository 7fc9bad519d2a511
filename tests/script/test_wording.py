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


SAME_IN_DUTCH = {"body-scan-10": "nl-body-scan"}
"""English sessions whose Dutch version has another name."""


def test_every_english_session_has_a_dutch_version() -> None:
    sessions = {p.stem: parse.load(p) for p in (REPO / "scripts").glob("*.toml")}
    english = sorted(name for name, s in sessions.items() if s.language == "en")
    missing = [name for name in english if SAME_IN_DUTCH.get(name, f"nl-{name}") not in sessions]
    assert not missing
    for name in english:
        dutch = sessions.get(SAME_IN_DUTCH.get(name, f"nl-{name}"))
        if dutch is not None:
            assert dutch.language == "nl"
            assert dutch.asks == sessions[name].asks, f"{name}: both or neither ask questions"
