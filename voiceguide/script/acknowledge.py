"""What the session says after an answer has been heard: short, calm, and not the same every time.

The acknowledgement follows the listen window in the timeline. It is skipped at run time when nothing was heard
(see ``Command.NOTHING_HEARD``), and left out when the script's own next line already acknowledges ("Thank
you for sharing that ..."), so the person is never thanked twice, or for silence.
"""

from __future__ import annotations

import hashlib

from voiceguide.script.model import Listen, Say, Session, Step

ACKNOWLEDGEMENTS: dict[str, tuple[str, ...]] = {
    "en": ("Thank you.", "Thank you for sharing that.", "Mm. Thank you.", "Thanks for telling me.",
           "I heard that. Thank you."),
    "nl": ("Dank je.", "Dank je dat je dat deelt.", "Mm. Dank je wel.", "Fijn dat je het vertelt.",
           "Ik heb het gehoord. Dank je."),
}
"""Said gently after an answer, by language (unknown languages use English); one each, in turn."""
OPENERS: dict[str, tuple[str, ...]] = {
    "en": ("thank", "thanks", "i heard", "i hear you"),
    "nl": ("dank", "bedankt", "fijn dat je", "ik heb het gehoord"),
}
"""How a script's own line begins when it already acknowledges the answer before it (lowercase)."""


def _language(session: Session) -> str:
    lang = session.language.split("-")[0].lower()
    return lang if lang in ACKNOWLEDGEMENTS else "en"


def already_acknowledges(text: str, language: str) -> bool:
    """Whether a line begins by thanking or acknowledging (so the engine does not thank as well)."""
    words = text.strip().lower().lstrip("\"'(\u201c\u2018")
    lang = language.split("-")[0].lower()
    return any(words.startswith(opener) for opener in OPENERS.get(lang, OPENERS["en"]))


def acknowledgements(session: Session) -> dict[int, str]:
    """The acknowledgement after each question of ``session`` (by step index), None-free: a question whose next
    step already acknowledges has none. Consecutive questions get different words; which come first depends on
    the session, so that two sessions do not open alike."""
    lang = _language(session)
    choices = ACKNOWLEDGEMENTS[lang]
    turn = int.from_bytes(hashlib.sha256(session.id.encode()).digest()[:4], "little")
    out: dict[int, str] = {}
    steps: list[Step] = list(session.steps)
    for here, after in zip(steps, [*steps[1:], None], strict=True):
        if not isinstance(here.action, Listen):
            continue
        if after is not None and isinstance(after.action, Say) and already_acknowledges(after.action.text, lang):
            continue
        out[here.index] = choices[turn % len(choices)]
        turn += 1
    return out
