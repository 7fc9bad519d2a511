"""Every line a session speaks, for recording a voice pack: what can be recorded, and what stays synthetic.

The lines are found by compiling the session with a speaker that only notes what it is asked to say (with
listening on, so the privacy notice and the thank-you are among them), in the order they are heard. The
affirmations a session may draw from (the bundled set for its language and the person's own list) are added
after them: any of them recorded is used on the days it is drawn.

Lines with placeholders (see ``script.wording``):

* ``{next_rounds}`` and ``{last_rounds}`` are filled from the session as it stands, and recorded as they read
  then; if the rounds change (``--cycles``, ``--minutes``) the line reads differently and the fallback voice
  says it.
* ``{stop}`` says how to stop with what the device has (keys, a button, the word "stop"), which differs between
  ``run`` and the daemon: such a line is always synthetic, and ``record`` and ``voices`` say so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from voiceguide.backends.fake import FakeTimer
from voiceguide.engine import affirmations
from voiceguide.engine.compile import compile_session
from voiceguide.script.model import Affirm, Listen, Say, Session
from voiceguide.seams import Clip, SpeechParams, Voice


@dataclass(frozen=True)
class Line:
    """One line a session may speak."""

    text: str
    """The words, as the session speaks them today."""
    kind: str
    """``line`` (the script's), ``affirmation`` (may be drawn), or ``synthetic`` (always the fallback voice)."""
    note: str = ""
    """Why it may be spoken by the fallback voice even when recorded (changing rounds), or why it always is."""

    @property
    def recordable(self) -> bool:
        """Whether a recording of it can ever be played."""
        return self.kind != "synthetic"


class _Noting:
    """A speaker that notes each text it is asked for and times it like the fake voice (no sound made)."""

    name = "noting"
    timing_only = True

    def __init__(self) -> None:
        self.timer = FakeTimer()
        self.texts: list[str] = []

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        return self.timer.synthesize(text, params)

    def recording(self, text: str, params: SpeechParams) -> None:
        """Asked for first with every whole line: the whole line is what a person records."""
        self.texts.append(text)

    def voices(self) -> list[Voice]:
        return []

    def resolve_voice(self, params: SpeechParams) -> str:
        return "noting"

    def close(self) -> None:
        """Nothing to release."""


def _stop_lines(session: Session) -> set[str]:
    """The spoken (filled) text of each line that has ``{stop}`` in the script."""
    from voiceguide.script import wording

    counts = wording.round_counts(session)
    out = set()
    for step in session.steps:
        act = step.action
        raw = act.text if isinstance(act, Say) else act.prompt if isinstance(act, Listen) else ""
        if "{stop}" in raw:
            text = wording.fill(raw, session, *counts[step.index]) if isinstance(act, Say) else raw
            out.add(text)
    return out


def _rounds_lines(session: Session) -> set[str]:
    from voiceguide.script import wording

    counts = wording.round_counts(session)
    return {wording.fill(s.action.text, session, *counts[s.index]) for s in session.steps
            if isinstance(s.action, Say) and ("{next_rounds}" in s.action.text or "{last_rounds}" in s.action.text)}


def session_lines(session: Session) -> list[Line]:
    """Every distinct line of ``session`` in the order heard, then the affirmations it may draw."""
    noting = _Noting()
    compile_session(session, noting, sample_rate=8000, listening=True, day=dt.date(2000, 1, 1))
    stop, rounds = _stop_lines(session), _rounds_lines(session)
    lines: list[Line] = []
    seen: set[str] = set()

    def add(line: Line) -> None:
        key = " ".join(line.text.split())
        if key and key not in seen:
            seen.add(key)
            lines.append(line)

    for text in noting.texts:
        if text in stop:
            add(Line(text, "synthetic", "it says how to stop, which differs between devices"))
        elif text in rounds:
            add(Line(text, "line", "it counts rounds: if they change, the synthetic voice says it"))
        else:
            add(Line(text, "line"))
    if any(isinstance(s.action, Affirm) for s in session.steps):
        personal = any(isinstance(s.action, Affirm) and s.action.personal for s in session.steps)
        pool = affirmations.bundled(session.language)
        if personal:
            pool = affirmations.read_lines(affirmations.personal_file()) + pool
        for text in pool:
            add(Line(text, "affirmation", "drawn on some days"))
    return lines
