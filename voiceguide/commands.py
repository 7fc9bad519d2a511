"""The CLI's subcommands (part of the command-line layer: the only code besides ``cli`` that prints)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from . import adjust, backends, library, limits, parse, recorded, wording
from .compile import compile_session
from .errors import AudioError, ScriptError, VoiceguideError
from .mix import Mixer
from .model import Affirm, Breathe, Chime, Listen, Pause, Say, Session, Sleep
from .patterns import PATTERNS
from .seams import Speaker, SpeechParams
from .timeline import Timeline
from .view import clock_text

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


def _session(args: argparse.Namespace) -> Session:
    session = parse.load(library.find(args.session))
    changes: dict[str, Any] = {}
    if getattr(args, "rate", None) is not None:
        if not parse.RATE_RANGE[0] <= args.rate <= parse.RATE_RANGE[1]:
            raise VoiceguideError(f"--rate must be from {parse.RATE_RANGE[0]} to {parse.RATE_RANGE[1]}")
        changes["rate"] = args.rate
    if getattr(args, "volume", None) is not None:
        if not 0.0 <= args.volume <= 1.0:
            raise VoiceguideError("--volume must be from 0 to 1")
        changes["volume"] = args.volume
    if getattr(args, "voice", None):
        changes["voice"] = args.voice
    changes.update(_voice_shaping(args))
    return dataclasses.replace(session, **changes)


def _voice_shaping(args: argparse.Namespace) -> dict[str, Any]:
    """Session changes from --pitch, --sentence-gap and --soften."""
    changes: dict[str, Any] = {}
    if getattr(args, "pitch", None) is not None:
        low, high = parse.PITCH_RANGE
        if not low <= args.pitch <= high:
            raise VoiceguideError(f"--pitch must be from {low} to {high} (50 is the voice's normal pitch)")
        changes["pitch"] = args.pitch
    if getattr(args, "sentence_gap", None) is not None:
        if not 0.0 <= args.sentence_gap <= parse.SENTENCE_GAP_MAX:
            raise VoiceguideError(f"--sentence-gap must be from 0 to {parse.SENTENCE_GAP_MAX:g} seconds")
        changes["sentence_gap"] = args.sentence_gap
    if getattr(args, "soften", False):
        changes["soften"] = True
    return changes


def _speaker(args: argparse.Namespace, session: Session) -> Speaker:
    name = args.tts or ("fake" if args.backend == "fake" else "pyttsx3")
    cache = Path(args.cache_dir) if args.cache_dir else library.cache_dir()
    chosen, fallback = backends.speaker_for(name, SpeechParams(session.language, session.voice), cache)
    if fallback is not None:  # e.g. Piper has no voice for the session's language
        print(f"voiceguide: {fallback}", file=sys.stderr)
    return chosen


def _adjusted(args: argparse.Namespace, session: Session) -> Session:
    """The session with the breathing and sound options applied."""
    if not 8000 <= args.sample_rate <= 192000:
        raise VoiceguideError("--sample-rate must be from 8000 to 192000")
    if args.cycles is not None:
        session = adjust.with_cycles(session, args.cycles)
    if args.bpm is not None:
        session = adjust.with_bpm(session, args.bpm)
    if args.no_holds:
        session = adjust.without_holds(session)
    session = adjust.with_ambient(session, args.ambient, args.ambient_volume)
    if args.minutes is not None:
        if not 0 < args.minutes <= 24 * 60:
            raise VoiceguideError("--minutes must be more than 0 and at most 1440")
        session = adjust.with_minutes(session, args.minutes, estimate_minutes(session) * 60)
    return session


def _builder(args: argparse.Namespace, listening: bool = False) -> Callable[[Session], Timeline]:
    """How these options compile a session (already adjusted): its voice, sample rate and, with
    ``listening``, listen windows. The same function compiles a slowed version of it later."""
    def build(session: Session) -> Timeline:
        return compile_session(session, _speaker(args, session), args.sample_rate, listening=listening)

    return build


def _compile(args: argparse.Namespace, session: Session) -> tuple[Session, Timeline]:
    """The session with the breathing and sound options applied, and its timeline."""
    session = _adjusted(args, session)
    return session, _builder(args)(session)


def estimate_minutes(session: Session) -> float:
    """Session length with the fake voice (speech timed from word count and rate): for listings."""
    from .backends.fake import FakeTimer

    return compile_session(session, FakeTimer(), sample_rate=8000).seconds / 60.0


def cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for entry in library.entries():
        try:
            session = parse.load(entry.path)
        except ScriptError as exc:
            print(f"voiceguide: skipping invalid {entry.path}:\n{exc}", file=sys.stderr)
            continue
        if args.language and session.language.split("-")[0].lower() != args.language.split("-")[0].lower():
            continue
        rows.append({"id": entry.id, "title": session.title, "language": session.language,
                     "minutes": round(estimate_minutes(session), 1), "description": session.description,
                     "bundled": entry.bundled, "path": str(entry.path)})
    if args.json:
        patterns = [{"name": p.name, "description": p.description, "cycle_seconds": p.cycle_seconds}
                    for p in PATTERNS.values()]
        print(json.dumps(rows if not args.patterns else patterns, indent=1))
        return 0
    console = Console(highlight=False, soft_wrap=True)
    for r in rows:
        console.print(f"[bold]{r['id']:<16}[/] {r['title']:<28} {r['language']:<3} ~{r['minutes']:>4} min"
                      f"  {r['description']}")
    if not rows:
        console.print("no sessions found")
    console.print("\n[bold]Breathing patterns[/] (for breathe = \"NAME\" in a script)")
    for pattern in PATTERNS.values():
        console.print(f"  [bold]{pattern.name:<10}[/] {pattern.description}")
    return 0


def _describe(step_action: object) -> str:
    a = step_action
    if isinstance(a, Say):
        return f"say   \"{a.text}\""
    if isinstance(a, Pause):
        return f"pause {a.seconds:g} s"
    if isinstance(a, Chime):
        return f"chime {a.sound}"
    if isinstance(a, Breathe):
        phases = ", ".join(f"{p.kind} {p.seconds:.3g}" for p in a.pattern.phases)
        extra = f", {a.progress.phase} {a.progress.by:+g} s every {a.progress.every} up to {a.progress.limit:g}" \
            if a.progress else ""
        if a.long_holds and a.held_rounds < a.cycles:
            extra += f", the hold in the first {a.held_rounds} only"
        return f"breathe {a.pattern.name} ({phases}) x {a.cycles}, cue {a.cue}{extra}"
    if isinstance(a, Listen):
        return f"listen \"{a.prompt}\" (up to {a.timeout:g} s)"
    if isinstance(a, Affirm):
        return f"affirm {a.count} (chosen for today), {a.gap:g} s after each"
    if isinstance(a, Sleep):
        return f"sleep {a.seconds:g} s with the ambient bed, fading out over the last {a.fade:g} s"
    return type(a).__name__


def cmd_show(args: argparse.Namespace) -> int:
    session = _session(args)
    session, timeline = _compile(args, session)
    rate = timeline.sample_rate
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{session.title}[/]  ({session.id}, {session.language})")
    if session.description:
        console.print(session.description)
    counts = wording.round_counts(session)
    for step, start in zip(session.steps, timeline.step_starts, strict=True):
        act = step.action
        if isinstance(act, Say):  # as it will be spoken: counts from the plan
            act = dataclasses.replace(act, text=wording.fill(act.text, session, *counts[step.index]))
        console.print(f"{clock_text(start / rate):>6}  {step.index:>3}  {_describe(act)}", markup=False)
    console.print(f"total {clock_text(timeline.seconds)} ({timeline.seconds:.1f} s)")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    import soundfile

    session = _session(args)
    session, timeline = _compile(args, session)
    audio = Mixer(timeline).render()
    try:
        soundfile.write(args.output, audio, timeline.sample_rate, subtype="PCM_16")
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"cannot write {args.output}: {exc}") from exc
    if args.timeline:
        _write_timeline(timeline, args.timeline, None)
    print(f"wrote {args.output} ({clock_text(timeline.seconds)}, {timeline.sample_rate} Hz)")
    return 0


def _write_timeline(timeline: Timeline, path: str, events: Any) -> None:
    try:
        timeline.write_json(path, events)
    except OSError as exc:
        raise VoiceguideError(f"cannot write timeline {path}: {exc.strerror or exc}") from exc


def cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for name in args.files:
        try:
            session = parse.load(Path(name))
        except ScriptError as exc:
            bad += 1
            for problem in exc.problems:
                print(problem)
        else:
            print(f"{Path(name).name}: ok")
            for warning in recorded.warnings(session):  # a missing recording is spoken instead: not an error
                print(f"{Path(name).name}: {warning}")
            for warning in limits.hold_warnings(session) + wording.placeholder_warnings(session):
                print(f"{Path(name).name}: {warning}")
    return 1 if bad else 0


def cmd_devices(args: argparse.Namespace) -> int:
    from .backends.sounddevice_out import list_devices

    for d in list_devices():
        kinds = ", ".join(k for k, n in (("out", d.outputs), ("in", d.inputs)) if n)
        print(f"{d.index:>3}  {d.name}  ({kinds}, {d.default_rate:g} Hz)")
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from .backends import piper_tts

    voices = [] if args.tts == "piper" else backends.speaker(args.tts or "pyttsx3").voices()
    if args.tts in (None, "piper"):  # Piper voices are found from their files: no model is loaded
        voices += [v.as_voice() for v in piper_tts.find_voices(args.voice)]
    for v in voices:
        if args.language and not any(code.lower().startswith(args.language.lower()) for code in v.languages):
            continue
        print(f"{v.id:<28} {v.name:<32} {', '.join(v.languages)}")
    return 0
