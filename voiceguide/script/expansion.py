"""How large a session grows while its includes are spliced in, checked step by step as it grows.

One :class:`Budget` follows one top-level :func:`voiceguide.script.parse.load`: every step that ends up in
the expanded session is counted once (with its timed seconds and its spoken characters), every include is
counted, and the depth of includes is checked before a part is read. The first bound passed stops the whole
expansion at once with a located problem, so a small file that includes a large one many times over is
refused after a few thousand steps instead of being built in full. A part already read for this session is
taken from :attr:`Budget.parts` instead of being read and parsed again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide.errors import Problem, ScriptError
from voiceguide.script.limits import (
    MAX_EXPANDED_CHARS,
    MAX_EXPANDED_SECONDS,
    MAX_EXPANDED_STEPS,
    MAX_INCLUDE_DEPTH,
    MAX_INCLUDES,
)
from voiceguide.script.model import Action, Affirm, Breathe, Listen, Pause, Say, Session, Sleep

_STEP_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*step[ \t]*\]\]", re.MULTILINE)


class TooLarge(ScriptError):
    """The expanded session passed one of the bounds in :mod:`voiceguide.script.limits`."""


@dataclass
class Budget:
    """What one session's expansion has used so far."""

    steps: int = 0
    """Steps in the expanded session so far."""
    includes: int = 0
    """``include`` steps expanded so far, at every depth."""
    seconds: float = 0.0
    """Timed seconds so far (speech itself not counted: its length depends on the voice)."""
    chars: int = 0
    """Characters of text to speak so far."""
    depth: int = 0
    """How many includes deep the part being read is (0: the script itself)."""
    parts: dict[Path, Session] = field(default_factory=dict)
    """Parts already read for this session, by resolved path (each file is parsed once)."""
    found: dict[tuple[str, Path | None], Path | None] = field(default_factory=dict)
    """Where each include name was found, by name and including folder (each is looked up once)."""

    def include(self, place: Place) -> None:
        """Count one include at ``place``, or stop the expansion."""
        self.includes += 1
        if self.depth + 1 > MAX_INCLUDE_DEPTH:
            place.refuse(f"includes nest more than {MAX_INCLUDE_DEPTH} deep")
        if self.includes > MAX_INCLUDES:
            place.refuse(f"the session expands more than {MAX_INCLUDES:,} includes")

    def add(self, place: Place, actions: list[Action]) -> None:
        """Count the steps ``actions`` about to be added at ``place``, or stop the expansion."""
        self.steps += len(actions)
        for action in actions:
            self.seconds += timed_seconds(action)
            self.chars += spoken_chars(action)
        if self.steps > MAX_EXPANDED_STEPS:
            place.refuse(f"with its includes the session has more than {MAX_EXPANDED_STEPS:,} steps")
        if self.seconds > MAX_EXPANDED_SECONDS:
            place.refuse(f"with its includes the session lasts more than {MAX_EXPANDED_SECONDS / 3600:g} hours")
        if self.chars > MAX_EXPANDED_CHARS:
            place.refuse(f"with its includes the session has more than {MAX_EXPANDED_CHARS:,} characters to speak")


@dataclass(frozen=True)
class Place:
    """A step of one script file, for the message that stops an expansion."""

    name: str
    """The script's display name."""
    text: str
    """Its text (to find the step's line)."""
    number: int
    """The step's number in that file (1-based)."""
    what: str
    """The step's action, e.g. ``include``."""

    def refuse(self, message: str) -> None:
        """Stop expanding: raise :class:`TooLarge` located as ``file:line: step N (action): message``."""
        raise TooLarge([Problem(f"{self.name}:{step_line(self.text, self.number)}", f"step {self.number} "
                                f"({self.what})", f"{message}; it is refused")])


def step_line(text: str, number: int) -> int:
    """The line (1-based) of the ``number``-th ``[[step]]`` header in ``text``; 1 if it cannot be found."""
    for n, match in enumerate(_STEP_HEADER.finditer(text), start=1):
        if n == number:
            return text.count("\n", 0, match.start()) + 1
    return 1


def timed_seconds(action: Action) -> float:
    """The seconds a step lasts that do not depend on the voice."""
    if isinstance(action, Pause):
        return action.seconds
    if isinstance(action, Sleep):
        return action.seconds
    if isinstance(action, Breathe):
        return action.seconds
    if isinstance(action, Say):
        return action.after or 0.0
    if isinstance(action, Affirm):
        return action.count * action.gap
    if isinstance(action, Listen):
        return action.timeout + action.limit
    return 0.0


def spoken_chars(action: Action) -> int:
    """Characters of text a step speaks (an affirmation step's lines are chosen later: not counted)."""
    if isinstance(action, Say):
        return len(action.text)
    if isinstance(action, Listen):
        return len(action.prompt)
    return 0
