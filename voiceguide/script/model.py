"""The parsed form of a session script: frozen, validated data the rest of the program trusts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voiceguide.script.limits import LONG_HOLD_SECONDS, MAX_HOLD_SECONDS, MAX_LONG_HOLD_ROUNDS

PhaseKind = Literal["inhale", "hold", "exhale", "rest"]
CueMode = Literal["voice", "tone", "both"]
ListenKind = Literal["reflection", "rating"]

PHASE_KINDS: tuple[PhaseKind, ...] = ("inhale", "hold", "exhale", "rest")
CUE_MODES: tuple[CueMode, ...] = ("voice", "tone", "both")


@dataclass(frozen=True)
class Phase:
    """One phase of a breath."""

    kind: PhaseKind
    """What the body does: inhale, hold, exhale or rest (an empty pause after the exhale)."""
    seconds: float
    """How long the phase lasts, in seconds (> 0)."""


@dataclass(frozen=True)
class BreathPattern:
    """A breathing rhythm: the phases of one cycle, in order."""

    name: str
    """The pattern's name (``box``) or ``custom`` for inline phases."""
    phases: tuple[Phase, ...]
    """The phases of one cycle; zero-length phases are left out."""
    description: str = ""
    """One line for people choosing a pattern."""
    default_cycles: int = 1
    """Cycles when a step does not say (4-7-8: four, as its own guidance advises for beginners)."""

    @property
    def cycle_seconds(self) -> float:
        """Length of one cycle in seconds."""
        return sum(p.seconds for p in self.phases)


MARKS = ("choice", "aftercare", "help")
"""Marks a ``say`` line can carry: ``choice`` offers a way out before a hard moment, ``aftercare`` closes a session
that went near painful material, ``help`` names where help is."""


@dataclass(frozen=True)
class Say:
    """Speak a line of guidance."""

    text: str
    """The words to speak."""
    rate: int | None = None
    """Speech rate for this line in words per minute; None uses the session's."""
    volume: float | None = None
    """Loudness of this line, 0..1; None uses the session's."""
    after: float | None = None
    """Seconds of quiet after this line; None uses the session's ``speech_gap``."""
    audio: Path | None = None
    """A recording to play instead of synthesising ``text`` (resolved path); the text stays the caption and,
    when the file is missing or unreadable, is spoken instead."""
    pitch: int | None = None
    """Base pitch 0..100 (50 is the voice's normal) where the backend supports it; None uses the session's."""
    sentence_gap: float | None = None
    """Seconds of silence between the sentences of this line; None uses the session's."""
    mark: str | None = None
    """What the line does for the listener's safety, one of :data:`MARKS` (not spoken): a translation must keep
    the same marks in the same order, which the tests check for every bundled session and its twin."""


@dataclass(frozen=True)
class Pause:
    """Silence."""

    seconds: float
    """How long, in seconds."""


@dataclass(frozen=True)
class Chime:
    """Play a sound once."""

    sound: str
    """The name as written in the script (``bell`` or ``sounds/gong.wav``)."""
    path: Path
    """The resolved sound file."""
    volume: float = 1.0
    """Relative loudness, 0..1."""


@dataclass(frozen=True)
class Progression:
    """A pattern that changes as the cycles go by, e.g. a longer exhale every two cycles."""

    phase: PhaseKind
    """Which phase changes."""
    by: float
    """Seconds added (or, if negative, taken away) at each change."""
    every: int
    """Change after this many cycles."""
    limit: float
    """The phase never goes past this many seconds (never below it, when shortening)."""

    def seconds(self, base: float, cycle: int) -> float:
        """The phase length in ``cycle`` (0-based), from its starting length ``base``."""
        value = base + self.by * (cycle // self.every)
        return min(value, self.limit) if self.by >= 0 else max(value, self.limit)


@dataclass(frozen=True)
class Breathe:
    """Paced breathing for a number of cycles."""

    pattern: BreathPattern
    """The rhythm to follow."""
    cycles: int
    """How many times the pattern repeats."""
    cue: CueMode = "both"
    """How phases are marked: spoken words, a pacing tone, or both."""
    counts: bool = False
    """Also speak a count on each whole second of a phase ("two", "three", ...)."""
    progress: Progression | None = None
    """How the pattern changes from cycle to cycle, if it does."""
    slow: tuple[tuple[int, float], ...] = ()
    """(first cycle, factor) pairs: from that cycle on every phase lasts ``factor`` times as long (set
    when the person says "slower" during the step; not part of the script format)."""
    held: int | None = None
    """How many rounds keep a long hold (see :mod:`voiceguide.script.limits`); later rounds leave it out. None: as
    many as the cap allows. ``--minutes`` sets it so added time is breathed without holds."""

    @property
    def held_rounds(self) -> int:
        """Rounds that may keep a long hold: never more than :data:`~voiceguide.script.limits.MAX_LONG_HOLD_ROUNDS`."""
        return min(self.cycles if self.held is None else self.held, MAX_LONG_HOLD_ROUNDS)

    def cycle(self, number: int) -> tuple[Phase, ...]:
        """The phases of cycle ``number`` (0-based), with any progression and slowing applied, and within
        the hold limits: no hold longer than ``MAX_HOLD_SECONDS``, no long hold after ``held_rounds``."""
        phases = self.pattern.phases
        if self.progress is not None:
            prog = self.progress
            phases = tuple(Phase(p.kind, prog.seconds(p.seconds, number)) if p.kind == prog.phase else p
                           for p in phases)
        factor = 1.0
        for first, by in self.slow:
            if number >= first:
                factor *= by
        if factor != 1.0:  # slowing lengthens a hold only while it stays short: a long hold is never stretched
            phases = tuple(Phase(p.kind, min(p.seconds * factor, max(p.seconds, LONG_HOLD_SECONDS)))
                           if p.kind == "hold" else Phase(p.kind, p.seconds * factor) for p in phases)
        if any(p.kind == "hold" for p in phases):
            past = number >= self.held_rounds
            phases = tuple(Phase("hold", min(p.seconds, MAX_HOLD_SECONDS)) if p.kind == "hold" else p
                           for p in phases if not (past and p.kind == "hold" and p.seconds > LONG_HOLD_SECONDS))
        return phases

    @property
    def long_holds(self) -> bool:
        """True if any round of this step holds the breath for longer than ``LONG_HOLD_SECONDS``."""
        return any(p.kind == "hold" and p.seconds > LONG_HOLD_SECONDS
                   for n in range(min(self.cycles, self.held_rounds)) for p in self.cycle(n))

    @property
    def seconds(self) -> float:
        """Total length of the step."""
        return sum(p.seconds for n in range(self.cycles) for p in self.cycle(n))


@dataclass(frozen=True)
class Affirm:
    """Speak a few affirmations, chosen afresh each day from the bundled set and the person's own list."""

    count: int
    """How many to speak."""
    gap: float = 6.0
    """Seconds of quiet after each one."""
    personal: bool = True
    """Mix in lines from the person's own affirmations file when it exists."""


@dataclass(frozen=True)
class Sleep:
    """Only the ambient bed for a while, then it fades away: the end of a bedtime session."""

    seconds: float
    """How long the bed plays, including the fade."""
    fade: float = 30.0
    """Length of the final fade-out in seconds."""


@dataclass(frozen=True)
class Listen:
    """Ask a question and leave room for the answer (recording arrives with the listening feature)."""

    prompt: str
    """The question, spoken aloud."""
    timeout: float = 15.0
    """Seconds to wait for speech to begin."""
    limit: float = 60.0
    """Most seconds of answer to record."""
    kind: ListenKind = "reflection"
    """``reflection`` keeps the words; ``rating`` takes a number from 0 to 10."""
    quiet: float | None = None
    """Seconds of quiet that end an answer; None uses the listener's own (1.2 s). Longer for a spoken diary."""


Action = Say | Pause | Chime | Breathe | Listen | Affirm | Sleep


@dataclass(frozen=True)
class Step:
    """One step of a session: exactly one action."""

    index: int
    """1-based position in the script, as people count."""
    action: Action
    """What the step does."""

    @property
    def name(self) -> str:
        """The action key as written in scripts (``say``, ``pause`` ...)."""
        return type(self.action).__name__.lower()


@dataclass(frozen=True)
class Session:
    """A whole session script, parsed and validated."""

    id: str
    """Short id: the file name without ``.toml``."""
    title: str
    """Title shown to the person."""
    steps: tuple[Step, ...]
    """The steps, in order (at least one)."""
    language: str = "en"
    """Language code; selects the voice."""
    rate: int | None = None
    """Speech rate in words per minute; None uses the default calm rate."""
    volume: float = 1.0
    """Master volume for the session, 0..1."""
    voice: str | None = None
    """A voice id or name; None picks one for the language."""
    description: str = ""
    """One line saying what the session is for."""
    speech_gap: float = 0.6
    """Seconds of quiet after each spoken line."""
    ambient: str | None = None
    """Name of an ambient bed (``pink``, ``brown``, ``drone``) under the whole session, or None."""
    ambient_volume: float = 0.5
    """Level of the ambient bed, 0..1 (1 is about as loud as the voice)."""
    sentence_gap: float = 0.0
    """Seconds of silence added between the sentences of a ``say`` line (0: spoken as one piece)."""
    pitch: int | None = None
    """Base pitch 0..100 (50 is normal) where the backend supports it (espeak-ng); None leaves the voice's own."""
    soften: bool = False
    """Gently cut the voice's highs (a high-shelf filter) so harsh voices are easier at night."""
    stop_ways: tuple[str, ...] = ()
    """How the person can stop on the device that plays it (``keys``, ``button``, ``hold-button``, ``voice``):
    what a line's ``{stop}`` says (see :mod:`voiceguide.script.wording`); set by ``run`` and the daemon, not scripts."""
    source: Path | None = field(default=None, compare=False)
    """The file it was read from, if any."""

    @property
    def asks(self) -> bool:
        """True if any step asks a question to be answered aloud (a listen step)."""
        return any(isinstance(s.action, Listen) for s in self.steps)
