"""What voice commands listen for and how strictly: the words, their sensitivity, and the filter settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from voiceguide.playback.control import Command

DEFAULT_WORDS: Mapping[str, Command] = {
    "pause": Command.PAUSE, "resume": Command.RESUME, "skip": Command.SKIP,
    "repeat": Command.REPEAT, "slower": Command.SLOWER, "stop": Command.STOP,
}
"""Spoken word → command."""
DEFAULT_SENSITIVITY: Mapping[str, float] = {
    "pause": 0.25, "resume": 0.25, "skip": 0.75, "repeat": 0.25, "slower": 0.25, "stop": 0.75,
}
"""Per-word sensitivity 0..1 (threshold 1e-(10 + 40*s)), tuned on a Piper voice (see docs/benchmarks.md).
"skip" and "stop" are short and need loose thresholds; the check decoder decides between them."""
DEFAULT_SENSITIVITY_OTHER = 0.4
"""Sensitivity of a word not listed in ``sensitivity``."""
@dataclass(frozen=True)
class CommandConfig:
    """How voice commands are spotted and filtered."""

    words: Mapping[str, Command] = field(default_factory=lambda: dict(DEFAULT_WORDS))
    """Spoken word → command; every word must be in the en-us dictionary."""
    sensitivity: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SENSITIVITY))
    """Per-word sensitivity 0..1; higher hears more (and mishears more). Unlisted words use 0.4."""
    while_speaking: frozenset[Command] = frozenset()
    """Commands still accepted while the session's own speech is playing (none by default: with the
    guide's voice at the microphone a STOP exemption let through 3 false stops in 35 minutes)."""
    gate_margin: float = 0.5
    """Seconds before and after the session's speech that are gated too."""
    isolation_gap: float = 0.15
    """Seconds between the word's edges and the context it is compared with."""
    isolation_context: float = 0.3
    """Seconds of context before and after the word."""
    isolation_bridge: float = 0.06
    """Longest pause inside a word (the closure before a "p" or "k")."""
    isolation_grow: float = 0.7
    """How far the spotter's word edges may be moved out to take in the rest of the word."""
    isolation_longest: float = 2.0
    """The longest stretch of sound taken as one command word."""
    isolation_margin_db: float = 10.0
    """How much louder than its context the word must be."""
    refractory: float = 1.0
    """Seconds during which the same command is not taken again."""
    check: bool = True
    """Have a second decoder, which knows only the command words, confirm each word first."""
    check_pad: tuple[float, float] = (0.3, 0.4)
    """Seconds of audio before and after the word that the check also hears."""
    spotter: str = "pocketsphinx"
    """The keyword spotter, by its name in ``backends.SPOTTERS`` (``fake`` hears test tones only: for tests).
    The check is pocketsphinx's: only the ``pocketsphinx`` spotter gets it."""

    def __post_init__(self) -> None:
        # The dictionary and the decoders know lowercase words only.
        object.__setattr__(self, "words", {w.lower(): c for w, c in self.words.items()})
        object.__setattr__(self, "sensitivity", {w.lower(): s for w, s in self.sensitivity.items()})

    def word_sensitivity(self) -> dict[str, float]:
        """The sensitivity of every word."""
        return {word: float(self.sensitivity.get(word, DEFAULT_SENSITIVITY_OTHER)) for word in self.words}
