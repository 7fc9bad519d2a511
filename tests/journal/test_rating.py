"""Ratings 0-10 from spoken words."""

from __future__ import annotations

import pytest

from voiceguide.journal.rating import parse_rating


@pytest.mark.parametrize(("words", "expected"), [
    ("seven", 7),
    ("about a six", 6),
    ("7", 7),
    ("I'd say eight out of ten", 8),
    ("ten", 10),
    ("zero", 0),
    ("Nought.", 0),
    ("out of ten I'd say three", 3),
    ("7/10", 7),
    ("ten out of ten", 10),
    ("seven or eight", 7),
    ("maybe 6.5", 7),
    ("um a for", 4),
    ("too", 2),
    ("close to seven", 7),
    ("Five!", 5),
    # as Whisper writes them
    ("A 6.", 6),
    ("I'd say a 7 out of 10.", 7),
    ("7 out of 10.", 7),
    ("Seven out of ten.", 7),
    ("3/10", 3),
    ("It's a 4.", 4),
    ("For.", 4),
    ("6 or 7.", 6),
    ("10.", 10),
    # Dutch
    ("zeven", 7),
    ("Zeven.", 7),
    ("een zes", 6),
    ("Een zes.", 6),
    ("ongeveer acht", 8),
    ("Ik denk een vijf.", 5),
    ("zeven op tien", 7),
    ("acht uit tien", 8),
    ("een zeven van de tien", 7),
    ("Een.", 1),
    ("ongeveer een", 1),
    ("een op tien", 1),
    ("één", 1),
    ("nul", 0),
    ("6,5", 7),
    ("misschien een 3", 3),
    ("tien", 10),
])
def test_numbers_are_found(words: str, expected: int) -> None:
    assert parse_rating(words) == expected


@pytest.mark.parametrize("words", [
    "none", "nothing", "", "I don't know", "I'd like to stop", "twenty", "eleven out of ten", "it was for me",
    "a hundred",
    "een beetje beter", "twintig", "elf op tien", "ik weet het niet", "Thank you.",
])
def test_no_number_is_none(words: str) -> None:
    assert parse_rating(words) is None
