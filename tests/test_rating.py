"""Ratings 0-10 from spoken words."""

from __future__ import annotations

import pytest

from voiceguide.rating import parse_rating


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
])
def test_numbers_are_found(words: str, expected: int) -> None:
    assert parse_rating(words) == expected


@pytest.mark.parametrize("words", [
    "none", "nothing", "", "I don't know", "I'd like to stop", "twenty", "eleven out of ten", "it was for me",
    "a hundred",
])
def test_no_number_is_none(words: str) -> None:
    assert parse_rating(words) is None
