"""Every help number the sessions say or the remote shows is one listed, with its source, in docs/help-numbers.md."""

from __future__ import annotations

import re
from pathlib import Path

from voiceguide.script import parse
from voiceguide.script.model import Listen, Say

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((REPO / "scripts").glob("*.toml")) + sorted((REPO / "scripts" / "parts").glob("*.toml"))
TEMPLATES = [REPO / "voiceguide" / "remote" / "templates" / "about.html"]
"""The remote's help text (other templates hold volumes and times, not numbers to call)."""
DIGIT_WORDS = {
    "en": ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "nl": ("nul", "één", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"),
}
DIGITS = re.compile(r"\b\d{2,}(?:[ -]\d{2,})*\b")
"""Three or more digits in a row, maybe grouped by spaces or hyphens (0800-1234, 112)."""
PATTERN_NAMES = {"four seven eight", "vier zeven acht"}
"""Digit words in a row that name a breathing pattern (4-7-8), not a number to call."""


def rows() -> list[list[str]]:
    """The rows of the table in docs/help-numbers.md whose first cell is a number (digits, maybe grouped)."""
    out = []
    for line in (REPO / "docs" / "help-numbers.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and re.sub(r"[ -]", "", cells[0]).isdigit():
            out.append(cells)
    return out


def listed() -> dict[str, set[str]]:
    """The numbers in the table of docs/help-numbers.md, each with its spoken forms: {"112": {"one one two", ...}}."""
    out: dict[str, set[str]] = {}
    for cells in rows():
        assert cells[5], f"{cells[0]}: every number names its source"
        out[re.sub(r"[ -]", "", cells[0])] = {cells[1].lower(), cells[2].lower()}
    return out


def numbers_in(text: str, lang: str) -> list[str]:
    """Phone-like numbers in ``text``: digit runs of three or more, and three or more digit words in a row (groups
    of three or more joined by a comma, "one one six, one two three", count as one number)."""
    found = [re.sub(r"[ -]", "", m) for m in DIGITS.findall(text) if len(re.sub(r"[ -]", "", m)) >= 3]
    words = "|".join(DIGIT_WORDS.get(lang, DIGIT_WORDS["en"]))
    group = rf"(?:{words})(?:[ -](?:{words})){{2,}}"
    found += [m.group(0).lower() for m in re.finditer(rf"\b{group}(?:, {group})*\b", text, re.I)]
    return [f for f in found if f.replace("-", " ") not in PATTERN_NAMES]


EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
NL_DIGITS = ("nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen")
DIGIT_VALUES = {
    "en": {word: str(d) for d, word in enumerate(EN_DIGITS)} | {"oh": "0"},
    "nl": {word: str(d) for d, word in enumerate(NL_DIGITS)} | {"een": "1"},
}
"""The digit each spoken digit word stands for, by language."""


def spelled(spoken: str, lang: str) -> str:
    """The digits that ``spoken`` names: "one one six, one two three" -> "116123"."""
    return "".join(DIGIT_VALUES[lang][word] for word in re.split(r"[ ,-]+", spoken.lower()) if word)


def test_the_table_lists_each_number_with_its_spoken_forms() -> None:
    assert set(listed()) == {"112", "113", "1813", "116123", "988", "999", "911"}
    for cells in rows():
        number = re.sub(r"[ -]", "", cells[0])
        assert spelled(cells[1], "en") == number, f"{cells[0]}: the English spoken form spells {cells[1]!r}"
        assert spelled(cells[2], "nl") == number, f"{cells[0]}: the Dutch spoken form spells {cells[2]!r}"
        assert "stored cop" in cells[5] or number == "112", f"{cells[0]}: say where and how it was read"


def test_sessions_and_remote_pages_name_only_listed_numbers() -> None:
    allowed = listed()
    spoken = {form for forms in allowed.values() for form in forms}
    seen: set[str] = set()
    for path in SCRIPTS:
        session = parse.load(path)
        lang = session.language.split("-")[0]
        for step in session.steps:
            act = step.action
            text = act.text if isinstance(act, Say) else act.prompt if isinstance(act, Listen) else ""
            for number in numbers_in(text, lang):
                assert number in allowed or number in spoken, f"{path.name}: step {step.index} says {number!r}"
                seen.add(number)
    for page in TEMPLATES:
        for lang in ("en", "nl"):
            for number in numbers_in(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")), lang):
                assert number in allowed or number in spoken, f"{page.name} shows {number!r}"
    assert {"one one two", "één één twee"} <= seen, "the about-and-help sessions name the emergency number"
    assert {"one one three", "één één drie", "one eight one three", "één acht één drie"} <= seen, "and the crisis lines"


def test_an_unlisted_number_would_be_found() -> None:
    assert numbers_in("Call 0800-0123 or one one three.", "en") == ["08000123", "one one three"]
    assert numbers_in("Bel één één drie.", "nl") == ["één één drie"]
    assert numbers_in("Breathe 4-7-8, five, four, three.", "en") == []
    assert numbers_in("Samaritans: one one six, one two three, free.", "en") == ["one one six, one two three"]
    assert numbers_in("Bel 116 123 of één één zes, één twee vier.", "nl") == ["116123", "één één zes, één twee vier"]
