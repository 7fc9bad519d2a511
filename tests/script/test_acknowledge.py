"""The acknowledgement after an answer: varied, in the session's language, never twice, never for silence."""

from __future__ import annotations

import queue
from pathlib import Path

import numpy as np

from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.backends.fake_input import FakeInput
from voiceguide.backends.fake_stt import FakeRecognizer
from voiceguide.engine.compile import compile_session
from voiceguide.journal.db import Journal
from voiceguide.listen.answers import SessionListener
from voiceguide.playback.control import Command
from voiceguide.playback.loop import play
from voiceguide.script import parse
from voiceguide.script.acknowledge import ACKNOWLEDGEMENTS, acknowledgements, already_acknowledges

RATE = 16000


def questions(count: int, language: str = "en", then: str = "Rest now.") -> str:
    steps = "".join(f'[[step]]\nlisten = "Question {i}?"\ntimeout = 3\n' for i in range(count))
    return f'[session]\ntitle = "Q"\nlanguage = "{language}"\n{steps}[[step]]\nsay = "{then}"\n'


def test_consecutive_questions_are_acknowledged_differently_in_their_language() -> None:
    for language in ("en", "nl"):
        said = list(acknowledgements(parse.loads(questions(5, language))).values())
        assert len(said) == 5 and len(set(said)) == 5
        assert set(said) <= set(ACKNOWLEDGEMENTS[language])
        assert all(len(line.split()) <= 6 for line in said), "short"


def test_a_script_that_thanks_by_itself_is_not_thanked_over() -> None:
    for language, line in (("en", "Thank you for sharing that with me."), ("nl", "Dank je wel dat je dat vertelde.")):
        session = parse.loads(questions(1, language, then=line))
        assert acknowledgements(session) == {}
        timeline = compile_session(session, FakeSpeaker(), RATE, listening=True)
        spoken = [e.text for e in timeline.events if e.kind == "speech"]
        assert spoken.count(line) == 1 and not set(spoken) & set(ACKNOWLEDGEMENTS[language]), spoken
        assert timeline.gates[0] == timeline.step_starts[1], "the window is followed by the script's own thanks"
    assert already_acknowledges("  \u201cThanks, that helps.", "en")
    assert not already_acknowledges("Now breathe in.", "en") and not already_acknowledges("Rust nu.", "nl")


def test_silence_is_not_thanked_and_an_answer_is(tmp_path: Path) -> None:
    session = parse.loads(questions(2))
    timeline = compile_session(session, FakeSpeaker(), RATE, listening=True)
    thanks = acknowledgements(session)
    clock = FakeClock()
    room = (np.random.default_rng(1).standard_normal(RATE * 20) * 0.002).astype(np.float32)
    t = np.arange(RATE) / RATE
    room[RATE:2 * RATE] += (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)  # the 1st question is answered
    journal = Journal(tmp_path / "journal.sqlite3")
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    listener = SessionListener(session, FakeInput(clock, room), clock, FakeRecognizer(texts=["yes"]), journal,
                               controls, [].append, threaded=False)
    result = play(timeline, FakeOutput(clock), clock, controls, on_hold=listener.on_hold)
    assert listener.close(timeout=10)
    spoken = [e.text for e in result.events if e.kind == "speech"]
    assert thanks[1] in spoken and thanks[2] not in spoken, spoken  # the 2nd window heard only the room
    assert spoken[-1] == "Rest now." and not result.stopped_early
    assert len(journal.all()) == 1
