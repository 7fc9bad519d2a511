"""How much quiet ends an answer, by question (issue 17, item 2); the figures are in benchmarks/turns.py."""

from __future__ import annotations

import queue
from pathlib import Path

import numpy as np
import pytest

from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.backends.fake_input import FakeInput
from voiceguide.backends.fake_stt import FakeRecognizer
from voiceguide.engine.compile import compile_session
from voiceguide.journal.db import Journal
from voiceguide.listen.answers import SessionListener
from voiceguide.listen.turns import LIST_QUIET, RATING_QUIET, REFLECTION_QUIET, asks_for_a_list, quiet_for
from voiceguide.playback.control import Command
from voiceguide.playback.loop import play
from voiceguide.script import parse
from voiceguide.script.model import Listen

RATE = 16000


@pytest.mark.parametrize("prompt", ["Look around you, and name five things you can see.",
                                    "Name three things you can hear. Near or far.",
                                    "Kun je vijf dingen vinden die je ziet?", "Kun je drie dingen horen?",
                                    "Noem wat je om je heen ziet.", "List what you can feel."])
def test_questions_that_ask_for_several_things_wait_longest(prompt: str) -> None:
    assert asks_for_a_list(prompt)
    assert quiet_for(Listen(prompt)) == LIST_QUIET


@pytest.mark.parametrize("prompt", ["What is on your mind today?", "Is there another, however small?",
                                    "Wat houdt je vandaag bezig?", "What is one thing you did for yourself today?",
                                    "Is er één ding dat je proeft?"])
def test_open_questions_wait_for_a_breath(prompt: str) -> None:
    assert not asks_for_a_list(prompt)
    assert quiet_for(Listen(prompt)) == REFLECTION_QUIET


def test_a_rating_is_over_soon_and_a_script_can_choose() -> None:
    assert quiet_for(Listen("How calm do you feel, from 0 to 10?", kind="rating")) == RATING_QUIET
    assert quiet_for(Listen("Name five things you can see.", quiet=6.0)) == 6.0
    assert RATING_QUIET < REFLECTION_QUIET < LIST_QUIET


def test_three_items_with_thinking_pauses_are_one_answer(tmp_path: Path) -> None:
    """Three spoken items 2.5 s apart: one journal entry, and the session goes on only after the last one."""
    session = parse.loads('[session]\ntitle = "T"\n[[step]]\nlisten = "Name three things you can hear."\n'
                          'timeout = 8\n[[step]]\nsay = "Rest now."\n')
    timeline = compile_session(session, FakeSpeaker(), RATE, listening=True)
    rng = np.random.default_rng(5)
    audio = (rng.standard_normal(RATE * 30) * 0.002).astype(np.float32)
    t = np.arange(RATE) / RATE
    for start in (1.0, 4.5, 8.0):  # 1 s items, 2.5 s of quiet between them
        audio[int(start * RATE):int(start * RATE) + RATE] += (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    clock = FakeClock()
    journal = Journal(tmp_path / "journal.sqlite3")
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    listener = SessionListener(session, FakeInput(clock, audio), clock, FakeRecognizer(texts=["a, b, c"]), journal,
                               controls, [].append, threaded=False)
    result = play(timeline, FakeOutput(clock), clock, controls, on_hold=listener.on_hold)
    assert listener.close(timeout=10)
    (entry,) = journal.all()
    assert entry.duration is not None and 8.0 <= entry.duration <= 9.0, entry.duration
    (window,) = [e for e in result.events if e.kind == "listen"]
    assert (window.end - window.start) / RATE == pytest.approx(9.0 + LIST_QUIET, abs=0.15)
