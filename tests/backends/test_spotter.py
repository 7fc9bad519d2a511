"""The pocketsphinx side of voice commands: the cut-down pronunciation dictionary and the check decoder."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.backends.spotter import PocketsphinxChecker, pronunciations
from voiceguide.errors import BackendError


def test_pronunciations_are_the_dictionary_lines_of_the_words() -> None:
    lines = pronunciations(["pause", "stop"]).splitlines()
    assert "pause P AO Z" in lines
    assert any(line.startswith("stop S T AA P") for line in lines)
    assert {line.split()[0].split("(")[0] for line in lines} == {"pause", "stop"}
    assert pronunciations(["pause"]).startswith("pause P AO Z")


def test_pronunciations_split_phrases_into_words() -> None:
    heads = {line.split()[0].split("(")[0] for line in pronunciations(["slow down", "pause"]).splitlines()}
    assert heads == {"slow", "down", "pause"}


def test_pronunciations_name_the_words_they_do_not_know() -> None:
    with pytest.raises(BackendError, match="zzqxv") as caught:
        pronunciations(["pause", "zzqxv"])
    assert "pause" not in str(caught.value)
    with pytest.raises(BackendError, match="qqzzx"):
        pronunciations(["stop qqzzx"])


def test_the_checker_answers_a_string_for_silence() -> None:
    checker = PocketsphinxChecker(["pause", "stop"])
    assert checker.words == ["pause", "stop"]
    heard = checker.best(np.zeros(16000, np.float32))
    assert isinstance(heard, str)
    assert heard in {"", "pause", "stop"}
