"""What a session is played with: frozen options, each range checked once, when they are made.

The command line fills these from its arguments (``voiceguide.cli.arguments``), the daemon from its config
file (``voiceguide.daemon.sessions``); nothing below them sees an ``argparse.Namespace``. A value out of
range is a :class:`VoiceguideError` naming the command-line option, as the CLI has always said it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide.bounds import LEVEL, MINUTES, SAMPLE_RATES
from voiceguide.errors import VoiceguideError
from voiceguide.script.steps import PITCH_RANGE, RATE_RANGE, SENTENCE_GAP_MAX


@dataclass(frozen=True)
class SpeechOptions:
    """How a session's lines are spoken; None keeps what the script (or the backend) says."""

    tts: str | None = None
    """Speech backend name (``espeak``, ``pyttsx3``, ``piper``, ``fake``); None: the backend that has
    ``voice``, or the default one."""
    voice: str | None = None
    """Voice id or name; None picks one for the session's language."""
    rate: int | None = None
    """Words per minute."""
    volume: float | None = None
    """Master volume 0..1."""
    pitch: int | None = None
    """Base pitch 0..100, 50 normal (espeak-ng voices)."""
    sentence_gap: float | None = None
    """Seconds of silence between the sentences of a line."""
    soften: bool = False
    """Gently cut the voice's highs; False keeps the script's own choice."""
    cache_dir: Path | None = None
    """The speech cache folder; None is the user cache directory."""

    def __post_init__(self) -> None:
        if self.rate is not None and not RATE_RANGE[0] <= self.rate <= RATE_RANGE[1]:
            raise VoiceguideError(f"--rate must be from {RATE_RANGE[0]} to {RATE_RANGE[1]}")
        if self.volume is not None and self.volume not in LEVEL:
            raise VoiceguideError("--volume must be from 0 to 1")
        if self.pitch is not None and not PITCH_RANGE[0] <= self.pitch <= PITCH_RANGE[1]:
            raise VoiceguideError(f"--pitch must be from {PITCH_RANGE[0]} to {PITCH_RANGE[1]} "
                                  "(50 is the voice's normal pitch)")
        if self.sentence_gap is not None and not 0.0 <= self.sentence_gap <= SENTENCE_GAP_MAX:
            raise VoiceguideError(f"--sentence-gap must be from 0 to {SENTENCE_GAP_MAX:g} seconds")

    def session_changes(self) -> dict[str, Any]:
        """The session fields these options set (what the script said is kept for the others)."""
        changes: dict[str, Any] = {}
        for name in ("rate", "volume", "pitch", "sentence_gap"):
            if getattr(self, name) is not None:
                changes[name] = getattr(self, name)
        if self.voice:
            changes["voice"] = self.voice
        if self.soften:
            changes["soften"] = True
        return changes


@dataclass(frozen=True)
class ShapingOptions:
    """How a session's breathing and sound are shaped; None (or False) keeps the script's own."""

    cycles: int | None = None
    """Cycles for every breathing step."""
    minutes: float | None = None
    """Fit the breathing so the session lasts about this long."""
    bpm: float | None = None
    """Breaths per minute for every breathing step."""
    no_holds: bool = False
    """Leave out breath holds (rests stay)."""
    ambient: str | None = None
    """Ambient bed: ``pink``, ``brown``, ``drone`` or ``none``."""
    ambient_volume: float | None = None
    """Ambient level 0..1."""
    sample_rate: int = 48000
    """The stream's sample rate in Hz, which the session is compiled at."""

    def __post_init__(self) -> None:
        if self.sample_rate not in SAMPLE_RATES:
            raise VoiceguideError(f"--sample-rate must be {SAMPLE_RATES}")
        if self.minutes is not None and self.minutes not in MINUTES:
            raise VoiceguideError(f"--minutes must be {MINUTES}")


@dataclass(frozen=True)
class ListeningOptions:
    """How the spoken answers (and commands) of a session with listen steps are taken."""

    listen: bool = True
    """Record answers at listen steps; False makes them quiet pauses."""
    input: str | None = None
    """Microphone by (part of) its name; None is the default input."""
    journal: Path | None = None
    """The journal database; None is the one in the user data folder."""
    recognizer: str = "auto"
    """Speech recognizer for answers (a name in ``backends.RECOGNIZERS``)."""
    model: str | None = None
    """The recognizer's model folder or name; None is its default."""
    keep_audio: bool = True
    """Keep each answer's audio as well as its words."""
    voice_commands: bool = True
    """Hear "pause", "resume", "skip", "repeat", "slower" and "stop" while the session plays."""
    spotter: str = "pocketsphinx"
    """The keyword spotter for them, by its name in ``backends.SPOTTERS`` (``fake``: test tones only)."""
