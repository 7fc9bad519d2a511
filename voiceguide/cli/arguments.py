"""The command line's arguments, converted once into the engine's typed options (part of the CLI layer).

``show``, ``render`` and ``run`` call :func:`session_options` (and ``run`` :func:`run_options`) where they
first need them; below this module nothing reads an ``argparse.Namespace``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from voiceguide import backends
from voiceguide.engine.options import ListeningOptions, ShapingOptions, SpeechOptions


@dataclass(frozen=True)
class SessionOptions:
    """What ``show``, ``render`` and ``run`` play a session with."""

    session: str
    """The session id or script path, as given."""
    speech: SpeechOptions
    """How it is spoken."""
    shaping: ShapingOptions
    """How its breathing and sound are shaped."""
    backend: str
    """``auto`` (real speech, output and clock) or ``fake`` (the built-in fakes: a dry run, no hardware)."""

    @property
    def rig(self) -> str:
        """The name of the rig a live session plays on (``backends.rig.RIGS``): ``fake`` for the dry run."""
        return "fake" if self.backend == "fake" else "sounddevice"


@dataclass(frozen=True)
class RunOptions:
    """What only ``run`` takes besides the session options."""

    listening: ListeningOptions
    """How answers and voice commands are heard."""
    device: str | None
    """The output device by (part of) its name; None is the default."""
    timeline: str | None
    """Where to write the timeline as it played; None writes none."""


def session_options(args: argparse.Namespace) -> SessionOptions:
    """The session options of ``show``, ``render`` or ``run`` (out-of-range values are a VoiceguideError)."""
    tts = args.tts or ("fake" if args.backend == "fake" else None)  # None: the voice's backend, or the default
    speech = SpeechOptions(tts=tts, voice=args.voice or None, rate=args.rate, volume=args.volume, pitch=args.pitch,
                           sentence_gap=args.sentence_gap, soften=bool(args.soften),
                           cache_dir=Path(args.cache_dir) if args.cache_dir else None)
    shaping = ShapingOptions(cycles=args.cycles, minutes=args.minutes, bpm=args.bpm, no_holds=bool(args.no_holds),
                             ambient=args.ambient, ambient_volume=args.ambient_volume, sample_rate=args.sample_rate)
    return SessionOptions(args.session, speech, shaping, args.backend)


def run_options(args: argparse.Namespace) -> RunOptions:
    """The options only ``run`` has."""
    listening = ListeningOptions(listen=not args.no_listen, input=args.input,
                                 journal=Path(args.journal) if args.journal else None, recognizer=args.recognizer,
                                 model=args.model, keep_audio=not args.no_keep_audio,
                                 voice_commands=not args.no_voice_commands, spotter=args.spotter)
    backends.SPOTTERS.get_backend(listening.spotter)  # an unknown name is an error now, not a silent "keys only"
    return RunOptions(listening, args.device, args.timeline)
