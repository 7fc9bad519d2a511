"""The CLI's subcommands (part of the command-line layer: the only code besides ``cli`` that prints)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from voiceguide import backends
from voiceguide.cli import outputs
from voiceguide.cli.arguments import SessionOptions, session_options
from voiceguide.cli.view import clock_text
from voiceguide.engine import lint
from voiceguide.engine.builder import SessionBuilder, estimate_minutes, load_session
from voiceguide.engine.compile import compile_session
from voiceguide.engine.timeline import Timeline
from voiceguide.errors import ScriptError
from voiceguide.safe_text import terminal_safe
from voiceguide.script import library, parse, wording
from voiceguide.script.model import Affirm, Breathe, Chime, Listen, Pause, Say, Session, Sleep
from voiceguide.script.patterns import PATTERNS

log = logging.getLogger(__name__)


def _notify(text: str) -> None:
    """A note for the person while a session is prepared (e.g. a backend fell back to the default one)."""
    print(f"voiceguide: {text}", file=sys.stderr)


def builder(options: SessionOptions) -> SessionBuilder:
    """The session builder for these options: its notes go to stderr."""
    return SessionBuilder(options.speech, options.shaping.sample_rate, notify=_notify)


def load(options: SessionOptions) -> Session:
    """The session these options name, with the speech, breathing and sound options applied."""
    return load_session(options.session, options.speech, options.shaping)


def cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for entry in library.entries():
        try:
            session = parse.load(entry.path)
        except ScriptError as exc:
            print(terminal_safe(f"voiceguide: skipping invalid {entry.path}:\n{exc}", multiline=True), file=sys.stderr)
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
        shown = {key: escape(terminal_safe(r[key])) for key in ("id", "title", "language", "description")}
        console.print(f"[bold]{shown['id']:<16}[/] {shown['title']:<28} {shown['language']:<3} ~{r['minutes']:>4} min"
                      f"  {shown['description']}")
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
    options = session_options(args)
    session = load(options)
    if options.speech.tts == "fake":
        from voiceguide.backends.fake import FakeSpeaker, FakeTimer  # the fake voice's lengths, without its sound

        timeline = compile_session(session, FakeTimer(FakeSpeaker.sample_rate), options.shaping.sample_rate)
    else:
        with builder(options) as build:
            timeline = build.build(session)
    rate = timeline.sample_rate
    console = Console(highlight=False, soft_wrap=True)
    console.print(Text.assemble((terminal_safe(session.title), "bold"),
                                terminal_safe(f"  ({session.id}, {session.language})")))
    if session.description:
        console.print(terminal_safe(session.description, multiline=True), markup=False)
    counts = wording.round_counts(session)
    for step, start in zip(session.steps, timeline.step_starts, strict=True):
        act = step.action
        if isinstance(act, Say):  # as it will be spoken: counts from the plan
            act = dataclasses.replace(act, text=wording.fill(act.text, session, *counts[step.index]))
        console.print(terminal_safe(f"{clock_text(start / rate):>6}  {step.index:>3}  {_describe(act)}"),
                      markup=False)
    console.print(f"total {clock_text(timeline.seconds)} ({timeline.seconds:.1f} s)")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    script = library.find(args.session)
    target = outputs.check_writable(args.output, protect=(script,))  # every output is checked first
    fmt = outputs.sound_format(args.output)
    if args.timeline:
        outputs.check_writable(args.timeline, "timeline", (script, target))
    options = session_options(args)
    session = load(options)
    with builder(options) as build:
        timeline = build.build(session)
    outputs.write_sound(timeline, target, fmt)
    if args.timeline:
        write_timeline(timeline, args.timeline, None)
    print(f"wrote {args.output} ({clock_text(timeline.seconds)}, {timeline.sample_rate} Hz)")
    return 0


def write_timeline(timeline: Timeline, path: str, events: Any) -> None:
    """The timeline JSON written through a temporary file, so a failure never leaves half of one."""
    with outputs.replacing(outputs.check_writable(path, "timeline")) as tmp:
        timeline.write_json(tmp, events)


def cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for name in args.files:
        try:
            session = parse.load(Path(name))
        except ScriptError as exc:
            bad += 1
            for problem in exc.problems:
                print(terminal_safe(problem))
        else:
            broken = lint.chime_problems(session)
            if broken:
                bad += 1
                for line in broken:
                    print(terminal_safe(f"{Path(name).name}: {line}"))
                continue
            print(terminal_safe(f"{Path(name).name}: ok"))
            for warning in lint.warnings(session):
                print(terminal_safe(f"{Path(name).name}: {warning}"))  # things that do not stop it from playing
    return 1 if bad else 0


def cmd_devices(args: argparse.Namespace) -> int:
    from voiceguide.backends.sounddevice_out import list_devices

    for d in list_devices():
        kinds = ", ".join(k for k, n in (("out", d.outputs), ("in", d.inputs)) if n)
        print(f"{d.index:>3}  {d.name}  ({kinds}, {d.default_rate:g} Hz)")
    return 0


def _pack_lines(pack_name: str) -> list[str]:
    """One line per session a pack has lines for: its coverage and the lines that stay synthetic."""
    from voiceguide.backends import voice_pack
    from voiceguide.engine.pack_lines import session_lines
    from voiceguide.errors import VoiceguideError

    pack = voice_pack.open_pack(pack_name)
    out = []
    for session_id in sorted(pack.sessions):
        recorded, total = pack.coverage(session_id)
        text = f"  {recorded} of {total} lines of {session_id}"
        try:
            synthetic = [line for line in session_lines(parse.load(library.find(session_id)))
                         if not line.recordable]
        except VoiceguideError:
            synthetic = []
        if synthetic:
            text += f"; always synthetic: {len(synthetic)} ({synthetic[0].note})"
        out.append(text)
    return out


def cmd_voices(args: argparse.Namespace) -> int:
    from voiceguide.backends import piper_tts, voice_pack

    if args.packs:
        packs = voice_pack.list_packs()
        for pack in packs:
            print(terminal_safe(f"{pack.name:<28} Recorded voice pack ({len(pack.lines)} lines)"))
            for line in _pack_lines(pack.name):
                print(terminal_safe(line))
        if not packs:
            print("no voice packs yet: 'voiceguide record SESSION --pack NAME' makes one")
        return 0
    voices = [] if args.tts == "piper" else backends.speaker(args.tts or backends.fallback_tts()).voices()
    if args.tts in (None, "piper"):  # Piper voices are found from their files: no model is loaded
        voices += [v.as_voice() for v in piper_tts.find_voices(args.voice)]
    for v in voices:
        if args.language and not any(code.lower().startswith(args.language.lower()) for code in v.languages):
            continue
        print(terminal_safe(f"{v.id:<28} {v.name:<32} {', '.join(v.languages)}"))
    if args.tts is None and not args.language:  # recorded packs speak any language: listed unless one is asked
        for pack in voice_pack.list_packs():
            print(terminal_safe(f"{pack.name:<28} {'Recorded voice pack':<32} ({len(pack.lines)} lines)"))
            for line in _pack_lines(pack.name):
                print(terminal_safe(line))
    return 0
