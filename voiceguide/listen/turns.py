"""When an answer is over: how much quiet ends it depends on the question.

A rating ("from 0 to 10") is done when the number is said; an open question leaves room for a breath and a
thought; a question that asks for several things ("name five things you can see", "kun je drie dingen horen")
is answered item by item, with the person looking around or listening between them. Ending such an answer at
the first 1.2 s of quiet kept one item of three (issue 17). The price of waiting longer is paid after every
finished answer, in seconds before the session speaks again: docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import re

from voiceguide.script.model import Listen

RATING_QUIET = 1.2
"""Seconds of quiet that end a rating (a number is soon said)."""
REFLECTION_QUIET = 2.5
"""Seconds of quiet that end an answer to an open question (room for a breath between sentences)."""
LIST_QUIET = 4.0
"""Seconds of quiet that end an answer that names several things (room to look around between items)."""

_COUNTS = (r"two|three|four|five|six|seven|eight|nine|ten|several|a few|some|"
           r"twee|drie|vier|vijf|zes|zeven|acht|negen|tien|een paar|enkele|[2-9]|10")
_THINGS = r"things?|dingen|ding|ways|manieren|moments|momenten|people|mensen|sounds|geluiden|places|plekken"
LIST_QUESTION = re.compile(rf"\b(?:{_COUNTS})\s+(?:\w+\s+){{0,2}}(?:{_THINGS})\b|\b(?:list|noem)\b", re.IGNORECASE)
"""A prompt that asks for several things, in English or Dutch."""


def asks_for_a_list(prompt: str) -> bool:
    """Whether ``prompt`` asks for several things at once."""
    return LIST_QUESTION.search(prompt) is not None


def quiet_for(listen: Listen) -> float:
    """Seconds of quiet that end the answer to ``listen``: the script's own ``quiet`` if it sets one."""
    if listen.quiet is not None:
        return listen.quiet
    if listen.kind == "rating":
        return RATING_QUIET
    return LIST_QUIET if asks_for_a_list(listen.prompt) else REFLECTION_QUIET
