"""Words the engine fills in at compile time, so that what is said is true of the plan and of the device.

A ``say`` line may contain these placeholders:

- ``{next_rounds}``: the rounds of the next breathing step, as words ("four rounds");
- ``{last_rounds}``: the rounds of the breathing step before the line;
- ``{stop}``: how to stop with what this device has ("Press q, or say stop."); empty where nothing is
  known (a rendered file), so write it after a sentence that stands on its own.

The counts come from the compiled plan (after ``--cycles``, ``--minutes`` and the hold limits), so a
line such as "That was the last of {last_rounds}." is always true.
"""

from __future__ import annotations

from collections.abc import Sequence

from voiceguide.script.model import Breathe, Say, Session

PLACEHOLDERS = ("{next_rounds}", "{last_rounds}", "{stop}")
"""Placeholders a ``say`` line may hold."""

_NUMBERS: dict[str, tuple[str, ...]] = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve"),
    "nl": ("nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien", "elf", "twaalf"),
}
_ROUND: dict[str, tuple[str, str]] = {"en": ("round", "rounds"), "nl": ("ronde", "rondes")}

STOP_WAYS = ("keys", "button", "hold-button", "voice")
"""Ways a device can stop a session: the q key, a button press, a long button press, the word "stop"."""
_STOP_WORDS: dict[str, dict[str, str]] = {
    "en": {"keys": "press q", "button": "press the button", "hold-button": "hold the button down for a moment",
           "voice": "say stop", "or": "or"},
    "nl": {"keys": "druk op q", "button": "druk op de knop", "hold-button": "houd de knop even ingedrukt",
           "voice": "zeg stop", "or": "of"},
}

PRIVACY_NOTICE: dict[str, str] = {
    "en": "Before the first question: your spoken answers are kept privately, only on this device. If you would "
          "rather not answer aloud, simply stay quiet, and the question will pass.",
    "nl": "Voor de eerste vraag: wat je hardop antwoordt, wordt alleen op dit apparaat bewaard, voor jou. Wil je "
          "liever niet hardop antwoorden? Blijf dan gewoon stil, dan gaat de vraag vanzelf voorbij.",
}
"""Said before the first question, only when answers are really being listened for and kept."""


def language(session: Session) -> str:
    """The session's language without its region (``en-us`` -> ``en``)."""
    return session.language.split("-")[0].lower()


def rounds(count: int, lang: str) -> str:
    """``count`` rounds as words in ``lang`` ("four rounds", "één ronde"); digits past twelve."""
    numbers = _NUMBERS.get(lang, _NUMBERS["en"])
    one, many = _ROUND.get(lang, _ROUND["en"])
    word = numbers[count] if 0 <= count < len(numbers) else str(count)
    return f"{word} {one if count == 1 else many}"


def how_to_stop(ways: Sequence[str], lang: str) -> str:
    """One sentence saying how to stop with ``ways`` ("Press the button, or say stop."); "" for none."""
    words = _STOP_WORDS.get(lang, _STOP_WORDS["en"])
    parts = [words[w] for w in STOP_WAYS if w in ways]
    if not parts:
        return ""
    text = f", {words['or']} ".join(parts)
    return text[0].upper() + text[1:] + "."


def round_counts(session: Session) -> dict[int, tuple[int | None, int | None]]:
    """For each step index: the rounds of the breathing step before it and of the one after it."""
    out: dict[int, tuple[int | None, int | None]] = {}
    last: int | None = None
    for step in session.steps:
        out[step.index] = (last, None)
        if isinstance(step.action, Breathe):
            last = step.action.cycles
    upcoming: int | None = None
    for step in reversed(session.steps):
        out[step.index] = (out[step.index][0], upcoming)
        if isinstance(step.action, Breathe):
            upcoming = step.action.cycles
    return out


def fill(text: str, session: Session, last: int | None, upcoming: int | None) -> str:
    """``text`` with its placeholders filled in; a count with no breathing step to count becomes "the rounds"."""
    if "{" not in text:
        return text
    lang = language(session)
    none = "de rondes" if lang == "nl" else "the rounds"
    text = text.replace("{next_rounds}", rounds(upcoming, lang) if upcoming is not None else none)
    text = text.replace("{last_rounds}", rounds(last, lang) if last is not None else none)
    text = text.replace("{stop}", how_to_stop(session.stop_ways, lang))
    return " ".join(text.split())


def placeholder_warnings(session: Session) -> list[str]:
    """``validate`` warnings for counts that have no breathing step to count."""
    counts = round_counts(session)
    warnings = []
    for step in session.steps:
        if not isinstance(step.action, Say):
            continue
        last, upcoming = counts[step.index]
        for key, value in (("{last_rounds}", last), ("{next_rounds}", upcoming)):
            if key in step.action.text and value is None:
                side = "before" if key == "{last_rounds}" else "after"
                warnings.append(f"step {step.index} (say): warning: {key} has no breathing step {side} it")
    return warnings
