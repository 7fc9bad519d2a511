"""Long spoken text is split before it reaches the speech backend: no engine is ever handed a huge string."""

from __future__ import annotations

import pytest

from tests.helpers import beyond_validation, session_of
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.engine.compile import compile_session
from voiceguide.seams import SpeechParams
from voiceguide.sound import voice_shaping
from voiceguide.sound.voice_shaping import MAX_PIECE, speech_pieces

SENTENCES = " ".join(f"This is calm sentence number {i}, said slowly and kindly." for i in range(400))
"""About 22,000 characters of ordinary sentences."""


def _words(pieces: list[str]) -> list[str]:
    return " ".join(pieces).split()


@pytest.mark.parametrize("gap", ["", "sentence_gap = 0.5\n"])
def test_a_22000_character_line_reaches_the_engine_in_sentence_pieces(gap: str) -> None:
    assert len(SENTENCES) > 22_000
    speaker = FakeSpeaker()
    session = beyond_validation(session_of(f'[[step]]\nsay = "LONG"\n{gap}'), {"LONG": SENTENCES})
    timeline = compile_session(session, speaker, 8000)  # a script may not hold it; the engine still copes
    said = [text for text, _ in speaker.calls]
    assert max(len(t) for t in said) <= MAX_PIECE
    assert _words(said) == SENTENCES.split()  # every word, in order
    assert all(t.endswith(".") for t in said)  # split at sentence ends, never mid-sentence
    assert timeline.events[0].text == SENTENCES  # the line itself is still one spoken event


@pytest.mark.parametrize("text", [
    "and " * 5000,  # one sentence of 20,000 characters without a comma
    ("breathe in, breathe out, " * 900).strip(),  # one sentence of clauses
    "x" * 9000 + " calm",  # a 'word' longer than the bound
])
def test_very_long_sentences_split_at_clauses_then_words(text: str) -> None:
    for by_sentence in (False, True):
        pieces = [p for group in speech_pieces(text, by_sentence) for p in group]
        assert max(len(p) for p in pieces) <= MAX_PIECE
        assert "".join("".join(pieces).split()) == "".join(text.split())


def test_clauses_are_preferred_to_words() -> None:
    text = ("breathe in slowly, breathe out slowly, " * 40).strip()
    pieces = speech_pieces(text, False)[0]
    assert len(pieces) > 1 and all(p.endswith(",") for p in pieces[:-1])


def test_ordinary_lines_are_unchanged() -> None:
    assert speech_pieces("Hello. Breathe in.", False) == [["Hello. Breathe in."]]
    assert speech_pieces("Hello. Breathe in.", True) == [["Hello."], ["Breathe in."]]


def test_pieces_are_joined_with_short_gaps() -> None:
    speaker, rate, params = FakeSpeaker(), 8000, SpeechParams(rate=135)
    text = " ".join(f"Sentence {i} is here to be spoken gently." for i in range(30))
    audio = voice_shaping.spoken(speaker, text, params, rate, 0.0, False)
    said = [t for t, _ in speaker.calls]
    speech = sum(len(voice_shaping.finish(FakeSpeaker().synthesize(t, params), rate, False)) for t in said)
    assert len(said) == len(speech_pieces(text, False)) > 1
    assert len(audio) == speech + (len(said) - 1) * int(voice_shaping.SPLIT_GAP * rate)
