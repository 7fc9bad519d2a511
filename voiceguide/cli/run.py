"""The ``run`` command: a session played live, with the terminal view, keys, listening and voice commands."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import logging
import queue
import signal
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

from rich.console import Console

from voiceguide import backends
from voiceguide.backends.rig import Rig, open_rig
from voiceguide.cli import outputs
from voiceguide.cli.arguments import RunOptions, SessionOptions, run_options, session_options
from voiceguide.cli.commands import builder, load, write_timeline
from voiceguide.cli.view import SessionView, clock_text
from voiceguide.engine.ahead import Ahead
from voiceguide.engine.builder import SessionBuilder
from voiceguide.engine.options import ListeningOptions
from voiceguide.errors import AudioError, OutputLost, VoiceguideError
from voiceguide.listen import command_choice
from voiceguide.listen.gate import SpeakingGate
from voiceguide.listen.shared_input import SharedInput
from voiceguide.live.events import RunEvent, Slowed
from voiceguide.live.runner import Runner
from voiceguide.live.session import HeldListener, LiveSession
from voiceguide.playback.control import Command, TimelineSource
from voiceguide.safe_text import terminal_safe
from voiceguide.script import library
from voiceguide.script.model import Session
from voiceguide.seams import AudioInput, Recognizer

if TYPE_CHECKING:
    from voiceguide.journal.db import Journal

log = logging.getLogger(__name__)


def cmd_run(args: argparse.Namespace) -> int:
    if args.timeline:  # found unwritable only after the session had played, it would be lost
        outputs.check_writable(args.timeline, "timeline", (library.find(args.session),))
    options, run = session_options(args), run_options(args)
    session = load(options)
    with builder(options) as build:
        rig = open_rig(options.rig, run.device)  # checked: fails before any time is spent on speech
        try:
            return _play(options, run, session, build, rig)
        finally:
            rig.close()


def _play(options: SessionOptions, run: RunOptions, session: Session, build: SessionBuilder, rig: Rig) -> int:
    from voiceguide.cli.keys import KeyReader

    console = Console(highlight=False, soft_wrap=True)
    listening = run.listening
    microphone = _microphone(listening)
    live = LiveSession(build, rig.clock, microphone, journal=lambda: _journal(listening),
                       recognizer=lambda language: _recognizer(listening, language), notify=console.print)
    runner = Runner(live, functools.partial(_tell, console))
    runner.begin()
    controls = runner.controls
    try:
        listens = _listens(rig, listening, session, live, console)
        spotter = command_choice.choose(session.language, named=listening.spotter)
        voice_on = listens and listening.voice_commands and spotter.name is not None and spotter.says_stop
        session = dataclasses.replace(session, stop_ways=("keys", "voice") if voice_on else ("keys",))  # for {stop}
        # speech is prepared while the first steps play
        ahead = Ahead(session, build.speaker(session), options.shaping.sample_rate, listening=listens)
        first, _ = ahead.wait_ready()
        source: TimelineSource = ahead if rig.real_time else ahead.result()  # a fake clock outruns any compile
        runner.slow_with(session, ahead.compile, ready=ahead.result)
        listener = runner.listen(session) if listens else None  # held: no cold start at a question
        voice = _voice_commands(listening, listener, controls, live.gate, console, microphone, spotter)
        lost: OutputLost | None = None
        try:
            with KeyReader(controls) if rig.real_time else _null(), SessionView(first, console) as view, voice, \
                    _released(runner), _stop_on_signals(controls):
                try:
                    result = runner.play(source, rig.output, on_tick=view.update)
                except OutputLost as exc:  # keep what played: the answers so far and the timeline, then exit 2
                    lost, result = exc, exc.result
        except AudioError:  # the microphone shares the server that went away: closing it may fail too
            if lost is None:
                raise
            log.debug("closing the microphone after the output went away failed", exc_info=True)
        kept = len(runner.entries)
        if not runner.finish(timeout=60):  # the microphone was let go already; the words may be coming
            console.print("Some answers are not transcribed yet; 'voiceguide journal retranscribe' can finish "
                          "them.")
        if kept:
            console.print(f"{kept} answer{'s' if kept != 1 else ''} kept in your journal ('voiceguide journal "
                          "list').")
    finally:
        runner.close()
    if ahead.error is not None:
        raise ahead.error
    if run.timeline:
        write_timeline(result.timeline, run.timeline, result.events)
    if lost is not None:
        raise lost
    played = result.frames / result.timeline.sample_rate
    word = "stopped" if result.stopped_early else "finished"
    console.print(terminal_safe(f"{session.title}: {word} after {clock_text(played)}. Take your time before you "
                                "move on."), markup=False)
    return 0


def _tell(console: Console, event: RunEvent) -> None:
    """What the runner has to tell the person at the terminal ("slower" says what it did)."""
    if isinstance(event, Slowed):
        console.print(event.text)


@contextlib.contextmanager
def _released(runner: Runner) -> Iterator[None]:
    """Let go of the runner's microphone when the block ends (the answers' words may still be coming)."""
    try:
        yield None
    finally:
        runner.release()


@contextlib.contextmanager
def _stop_on_signals(controls: queue.SimpleQueue[Command]) -> Iterator[None]:
    """While the session plays, SIGTERM and SIGHUP stop it like 'q' (the soft fade); a second acts like Ctrl-C."""
    received: list[int] = []

    def on_signal(number: int, frame: FrameType | None) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(number)
        controls.put(Command.STOP)  # SimpleQueue.put is safe here; the audio thread fades out

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield None
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if received:
            log.info("stopped by %s", signal.Signals(received[0]).name)


def _microphone(listening: ListeningOptions) -> SharedInput:
    """The microphone, shared by the answers and the voice commands (a device may open only once)."""
    return SharedInput(backends.audio_input("sounddevice", listening.input))


def _journal(listening: ListeningOptions) -> Journal:
    from voiceguide.journal.db import Journal  # loaded only when a session listens

    return Journal(listening.journal, keep_audio=listening.keep_audio)


def _recognizer(listening: ListeningOptions, language: str) -> Recognizer:
    from voiceguide.listen.stt_worker import off_audio_path

    return off_audio_path(listening.recognizer, listening.model, language)


def _listens(rig: Rig, listening: ListeningOptions, session: Session, live: LiveSession, console: Console) -> bool:
    """Whether the session's listen steps take spoken answers (not with no such steps, --no-listen, the fake
    rig or no microphone); if so, the journal and the recognizer are opened now."""
    if not listening.listen or not rig.real_time or not session.asks:
        return False
    problem = live.microphone_problem()
    if problem is not None:
        console.print(f"No microphone ({problem}). Listen steps become quiet pauses to answer in your own mind.")
        return False
    journal = live.journal
    live.recognizer(session.language)
    console.print(f"This session listens for your spoken answers and keeps them privately in your journal "
                  f"({journal.path}). To answer silently instead, run it with --no-listen.")
    return True


@contextlib.contextmanager
def _voice_commands(listening: ListeningOptions, listener: HeldListener | None,
                    controls: queue.SimpleQueue[Command], gate: SpeakingGate, console: Console,
                    microphone: AudioInput, spotter: command_choice.Choice) -> Iterator[None]:
    """Spoken commands while a listening session plays, heard by the spotter chosen for its language (taught
    words, or pocketsphinx's English ones); if the microphone fails, the keys still work."""
    if listener is None or not listening.voice_commands:
        yield None
        return
    if spotter.name is None:
        console.print(spotter.note)
        yield None
        return
    from voiceguide.listen.voice_commands import CommandConfig, CommandListener

    config = CommandConfig(spotter=listening.spotter)  # pocketsphinx's words heard by the named spotter (fake: tones)
    try:
        commands = CommandListener(microphone, controls, gate, commands=command_choice.build(spotter, config))
        commands.start()
    except VoiceguideError as exc:
        console.print(f"Voice commands are off ({exc}); the keys still work.")
        yield None
        return
    try:
        yield None
    finally:
        try:
            commands.stop()
        except VoiceguideError as exc:
            log.warning("voice commands ended with an error: %s", exc)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
