"""Dry runs and estimates cost little however long the text: lengths are computed, not sounded."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from tests.helpers import beyond_validation, script, session_of
from voiceguide.backends.fake import FakeSpeaker, FakeTimer
from voiceguide.cli import main as cli
from voiceguide.engine.builder import estimate_minutes
from voiceguide.engine.compile import compile_session
from voiceguide.engine.mix import Mixer

WORDS = " ".join(f"calm{i % 50}" for i in range(3500))
"""One line of 3500 words (about 26 minutes of speech)."""
VARIED = ('[[step]]\nsay = "Hello. Settle in, and let the shoulders drop."\n'
          '[[step]]\nsay = "One. Two. Three, and rest."\nsentence_gap = 0.4\nrate = 110\n'
          '[[step]]\nbreathe = "box"\ncycles = 2\ncue = "both"\ncounts = true\n'
          '[[step]]\nlisten = "What do you notice?"\n'
          '[[step]]\nsay = "LONG"\n'
          '[[step]]\naffirm = 2\n')
LONG = {"LONG": f"{WORDS[:3000]}. And now the rest. {WORDS[:2000]}"}
"""The fifth step's text: longer than a script may hold, so put in after validation (the engine must cope)."""


@pytest.mark.parametrize("rate", [48000, 44100, 8000])
def test_the_timer_gives_the_fake_voices_exact_lengths(rate: int) -> None:
    session = beyond_validation(session_of(VARIED), LONG)
    sounded = compile_session(session, FakeSpeaker(), rate)
    timed = compile_session(session, FakeTimer(FakeSpeaker.sample_rate), rate)
    assert timed.step_starts == sounded.step_starts and timed.length == sounded.length
    assert [(e.kind, e.start, e.end) for e in timed.events] == [(e.kind, e.start, e.end) for e in sounded.events]
    assert len(Mixer(timed).render()) == timed.length  # the placeholders still mix (as silence)


def test_show_of_3500_words_is_cheap(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    words = WORDS.split()
    lines = [" ".join(words[i:i + 250]) for i in range(0, len(words), 250)]  # under validate's 2,000 characters
    body = "".join(f'[[step]]\nsay = "{line}"\n' for line in lines) + '[[step]]\npause = 3\n'
    path = tmp_path / "long.toml"
    path.write_text(script(body), encoding="utf-8")
    tracemalloc.start()
    try:
        code = cli.main(["show", str(path), "--backend", "fake"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    out = capsys.readouterr().out
    assert code == 0
    expected = compile_session(session_of(body), FakeTimer(FakeSpeaker.sample_rate), 48000)
    assert f"({expected.seconds:.1f} s)" in out and expected.seconds > 1400
    assert peak < 30_000_000  # one 3500-word line took over 1 GB: the fake voice's sound, made only to be measured


def test_show_refuses_a_line_too_long_for_one_step(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "long.toml"
    path.write_text(script(f'[[step]]\nsay = "{WORDS}"\n'), encoding="utf-8")
    assert cli.main(["show", str(path), "--backend", "fake"]) == 1
    assert "step 1 (say)" in capsys.readouterr().err


def test_estimates_of_a_huge_script_hold_no_audio() -> None:
    body = "".join('[[step]]\nsay = "LONG"\n' for _ in range(60))  # 60 lines of 2000 words
    session = beyond_validation(session_of(body), {"LONG": WORDS[:12000]})
    tracemalloc.start()
    try:
        minutes = estimate_minutes(session)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert minutes > 60 * 10
    assert peak < 30_000_000


def test_estimate_matches_the_fake_voice() -> None:
    session = beyond_validation(session_of(VARIED), {"LONG": "a few words. And now the rest. more"})
    sounded = compile_session(session, FakeSpeaker(), 8000).seconds  # the fake voice's real sound, 16 kHz -> 8 kHz
    assert estimate_minutes(session) * 60.0 == pytest.approx(sounded, abs=0.01)
