"""A 0-10 rating from spoken words: "seven", "about a six", "I'd say eight out of ten" -> 7, 6, 8.

English and Dutch, as pocketsphinx or Whisper writes them: Whisper gives digits, punctuation and capitals
("A 6.", "7/10", "I'd say 7 out of 10."); Dutch answers come as "zeven", "een zes", "ongeveer acht",
"zeven op tien" or "6,5".

Rules, in order:

* Digits and the number words zero to ten count ("nought" and "nil" are zero; Dutch "nul" to "tien").
  Anything above ten ("eleven", "twintig", "20") is not a rating and is skipped.
* A number right after "out of" or "of" (or "/", Dutch "op", "uit", "van de") is the scale, not the
  answer, unless it is the only one.
* Dutch "een" is also "a": it is 1 only before the scale ("een op tien") or as the whole answer apart
  from filler ("een", "ongeveer een"); "één" is always 1.
* The first remaining number wins ("seven or eight" -> 7).
* Recognizers often hear "four" as "for" and "two" as "to": such homophones count only when they are
  the whole answer apart from filler ("for" -> 4, "close to seven" -> 7, "I'd like to stop" -> None).
* Otherwise there is no rating: None. "none" and "nothing" are None too, on purpose: a missed rating
  is asked again, a wrong zero would be kept.
"""

from __future__ import annotations

import re

SCALE_MAX = 10
"""Ratings run from 0 to this."""

NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "nought": 0, "naught": 0, "nil": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "nul": 0, "één": 1, "eén": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8,
    "negen": 9, "tien": 10,
}
"""Words that are a number from 0 to 10."""

OUT_OF_RANGE: frozenset[str] = frozenset({
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
    "elf", "twaalf", "dertien", "veertien", "vijftien", "zestien", "zeventien", "achttien", "negentien",
    "twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig", "tachtig", "negentig", "honderd",
})
"""Number words beyond the scale: heard, but never a rating."""

HOMOPHONES: dict[str, int] = {"won": 1, "to": 2, "too": 2, "for": 4, "fore": 4, "ate": 8, "een": 1}
"""What a recognizer may write for a lone spoken number."""

FILLER: frozenset[str] = frozenset({
    "a", "an", "about", "around", "maybe", "perhaps", "probably", "like", "um", "uh", "er", "erm", "hmm",
    "i'd", "i", "say", "think", "it's", "its", "is", "it", "i'm", "at", "just", "so", "well", "oh", "okay", "ok",
    "ongeveer", "misschien", "zo'n", "zo", "ik", "zeg", "denk", "het", "geef", "eh", "ehm", "nou", "ja",
    "wel", "toch", "rond", "de",
})
"""Words that may surround a lone homophone ("um, a for")."""

SCALE_WORDS: frozenset[str] = frozenset({"of", "/", "op", "uit"})
"""Words after which a number is the scale ("out of ten", "7/10", "zeven op tien", "acht uit tien")."""

_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+(?:'[^\W\d_]+)*|'[^\W\d_]+|/")


def parse_rating(text: str) -> int | None:
    """The 0-10 rating in ``text``, or None when it holds none (see the module docstring)."""
    tokens = _TOKEN.findall(text.lower())
    found: list[tuple[int, bool]] = []  # (value, is the scale after "out of")
    for i, token in enumerate(tokens):
        value = _value(token)
        if value is None and token == "een" and i + 1 < len(tokens) and tokens[i + 1] in SCALE_WORDS:
            value = 1  # "een op tien"
        if value is None:
            continue
        after_of = i > 0 and (tokens[i - 1] in SCALE_WORDS or tokens[i - 2:i] == ["van", "de"])
        found.append((value, after_of))
    answers = [value for value, is_scale in found if not is_scale]
    in_range = [value for value in (answers or [value for value, _ in found]) if 0 <= value <= SCALE_MAX]
    if in_range:
        return in_range[0]
    if found:
        return None
    content = [token for token in tokens if token not in FILLER]
    if len(content) == 1 and content[0] in HOMOPHONES:
        return HOMOPHONES[content[0]]
    return None


def _value(token: str) -> int | None:
    """The number a token stands for (out-of-range ones too, as -1), or None for other words."""
    if token[0].isdigit():
        number = float(token.replace(",", "."))
        return int(number + 0.5) if number <= SCALE_MAX else -1
    if token in NUMBER_WORDS:
        return NUMBER_WORDS[token]
    if token in OUT_OF_RANGE:
        return -1
    return None
