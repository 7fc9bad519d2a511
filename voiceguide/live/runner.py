"""The one session runner: ``voiceguide run`` and the daemon both play a session through a :class:`Runner`.

It owns, for the session under way, the player (through the play loop), the answer listener with its held
microphone (and so the acknowledgements), and "slower". Whoever drives it sends commands
(:meth:`Runner.command`: pause, resume, skip, back, slower, stop ...) and reads :attr:`Runner.state`, which is
read from the player itself each time: nothing keeps a copy. It emits typed events (``live.events``) on its own
thread: a step started, holding for an answer, paused, resumed, slowed, output lost, finished.

A key press reaches the speaker in three hops: the key reader puts a :class:`Command` on
:attr:`Runner.controls`, the audio callback (``Player.fill``) takes it at its next block (about 43 ms at most)
and starts the fade. A ``ctl`` command goes through :meth:`Runner.command`, which waits (at most
:data:`COMMAND_WAIT`) for the callback to take it, so the reply tells the state it led to. "Slower" never
crosses the audio callback: put on :attr:`Runner.controls` (a :class:`Controls`), it goes straight to the
runner's :class:`~voiceguide.playback.slowing.Slower`, which compiles the rest again on a worker thread and
swaps it into the player (two hops where it took five through three threads).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from voiceguide.engine.timeline import Timeline
from voiceguide.errors import OutputLost as OutputLostError
from voiceguide.live.events import (
    Finished,
    Holding,
    OutputLost,
    Paused,
    Resumed,
    RunEvent,
    RunState,
    Slowed,
    StepStarted,
)
from voiceguide.live.session import HeldListener, LiveSession
from voiceguide.playback.control import Command, PlayResult, Snapshot, TimelineSource
from voiceguide.playback.loop import play
from voiceguide.playback.player import Player
from voiceguide.playback.slowing import Slower
from voiceguide.script.model import Session
from voiceguide.seams import AudioOutput, Clock

log = logging.getLogger(__name__)

COMMAND_WAIT = 0.25
"""Seconds :meth:`Runner.command` waits for the audio callback to take a command (it takes one every block,
about 43 ms; longer only if the output has stalled, and then the reply tells the state as it still is)."""


class Controls(queue.SimpleQueue[Command]):
    """The player's command queue, with "slower" taken off it: whoever puts :attr:`Command.SLOWER` here (a key, a
    voice command, the daemon) hands it straight to the runner, which starts compiling the rest slower on a
    worker thread; it never crosses the audio callback. Everything else goes to the player as before."""

    def __init__(self, slower: Callable[[], None]) -> None:
        super().__init__()
        self._slower = slower

    def put(self, item: Command, block: bool = True, timeout: float | None = None) -> None:
        if item is Command.SLOWER:
            self._slower()
        else:
            super().put(item, block, timeout)

    def put_nowait(self, item: Command) -> None:
        self.put(item)


class Runner:
    """Plays one session at a time with the parts of ``live`` (a :class:`LiveSession`), takes commands, tells
    its state from the player and emits :data:`~voiceguide.live.events.RunEvent`\\ s to its subscribers."""

    def __init__(self, live: LiveSession, on_event: Callable[[RunEvent], None] | None = None) -> None:
        self.live = live
        self.controls: queue.SimpleQueue[Command] = Controls(self._slow)
        """What the player takes commands from (keys, voice commands and the listener's release put here)."""
        self.cancelled = threading.Event()
        """Set by a stop: also ends a preparation or a wait for the output."""
        self._subscribers: list[Callable[[RunEvent], None]] = [on_event] if on_event is not None else []
        self._player: Player | None = None
        self._under_way = self._stop_asked = self._played = False
        self._played = False
        self._loop_thread: int | None = None
        self._listener: HeldListener | None = None
        self._slower: Slower | None = None
        self._seen = (0, RunState.IDLE)
        """The step last announced and the state at the last tick."""

    # --- what drivers read and send ----------------------------------------------------------------------
    @property
    def state(self) -> RunState:
        """What is happening now, read from the player (PREPARING before it exists, IDLE with no session)."""
        player = self._player
        if player is None:
            if not self._under_way:
                return RunState.IDLE
            if self._played:
                return RunState.FINISHED
            return RunState.STOPPING if self._stop_asked else RunState.PREPARING
        state = RunState.of(player.state)
        return RunState.STOPPING if self._stop_asked and state.active else state

    def snapshot(self) -> Snapshot | None:
        """The player's position, state and timeline (None while no player plays)."""
        player = self._player
        return player.snapshot() if player is not None else None

    def subscribe(self, on_event: Callable[[RunEvent], None]) -> None:
        """Also tell ``on_event`` what happens (called on the runner's thread: keep it short)."""
        self._subscribers.append(on_event)

    def command(self, command: Command) -> RunState:
        """Pass ``command`` to the session under way and return the state it led to. A stop also ends a
        preparation. From another thread, waits until the audio callback has taken it (:data:`COMMAND_WAIT`)."""
        if command is Command.STOP:
            self._stop_asked = True
            self.cancelled.set()
        player = self._player
        if player is not None:
            player.taken.clear()
        self.controls.put(command)
        if command is Command.SLOWER:
            return self.state
        if player is not None and self._loop_thread not in (None, threading.get_ident()):
            player.taken.wait(COMMAND_WAIT)
        return self.state

    # --- one session --------------------------------------------------------------------------------------
    def begin(self) -> None:
        """A session is on its way (PREPARING): fresh controls, no stop asked yet."""
        self.controls = Controls(self._slow)
        self.cancelled.clear()
        self._stop_asked = self._played = False
        self._under_way = True

    def end(self) -> None:
        """The session is over (IDLE)."""
        self._under_way = self._stop_asked = self._played = False

    def listen(self, session: Session) -> HeldListener:
        """Take answers at ``session``'s questions, holding the microphone from now until :meth:`finish`
        (a :class:`VoiceguideError` if the journal or the recognizer cannot be opened)."""
        self._listener = self.live.listener(session, self.controls)
        return self._listener

    def slow_with(self, session: Session, build: Callable[[Session], Timeline] | None = None,
                  ready: Callable[[], object] = lambda: None) -> None:
        """Act on "slower" in ``session`` by compiling the rest again with ``build`` (default: the builder's);
        what it tells the person is emitted as :class:`Slowed`."""
        run_in = None if self.live.threaded else _at_once
        self._slower = self.live.slower(session, build, ready=ready, say=lambda text: self._emit(Slowed(text)),
                                        run_in=run_in)

    def play(self, source: TimelineSource, output: AudioOutput, clock: Clock | None = None,
             on_tick: Callable[[Snapshot], None] | None = None) -> PlayResult:
        """Play ``source`` on ``output`` (by ``clock``, default the live session's) to its end or a stop, with
        the listener and "slower" set up for it; raises :class:`~voiceguide.errors.OutputLost` if the output
        goes away."""
        self._under_way = True
        self._loop_thread = threading.get_ident()
        self._seen = (0, RunState.IDLE)
        listener = self._listener

        def tick(snapshot: Snapshot) -> None:
            self.live.tick(snapshot)
            self._notice(snapshot)
            if on_tick is not None:
                on_tick(snapshot)

        heard_at = getattr(output, "heard_at", None)  # when a frame reaches the speaker, if the output tells

        def on_hold(step: int, over: threading.Event) -> None:
            """The player's HoldBegan, handed over by the loop: tell it, then take the answer (or go on)."""
            self._emit(Holding(step))
            if listener is not None:
                player = self._player
                at = heard_at(player.hold_frame) if heard_at is not None and player is not None else None
                listener.on_hold(step, over, at, player.thanks_over if player is not None else None)
            else:
                self.controls.put(Command.RELEASE)

        try:
            result = play(source, output, clock or self.live.clock, self.controls, tick, on_hold,
                          started=self._started)
        except OutputLostError as exc:
            self._played = True
            self._emit(OutputLost(str(exc)))
            raise
        finally:
            self._loop_thread = None
        self._played = True
        self._emit(Finished(result.stopped_early, result.frames / result.timeline.sample_rate))
        return result

    def release(self) -> None:
        """Let go of the microphone (the words of the answers may still be coming)."""
        if self._listener is not None:
            self._listener.release()

    def finish(self, timeout: float = 30.0) -> bool:
        """Let go of the microphone and wait (up to ``timeout``) for the answers' words; True if all came."""
        listener, self._listener, self._slower = self._listener, None, None
        self.end()
        return listener.close(timeout) if listener is not None else True

    @property
    def entries(self) -> list[int]:
        """Journal ids of the answers kept in this session so far."""
        return self._listener.entries if self._listener is not None else []

    def close(self) -> None:
        """Close the live session's speech engines and recognizers."""
        self.live.close()

    # --- inside ----------------------------------------------------------------------------------------------
    def _started(self, player: Player | None) -> None:
        self._player = player

    def _slow(self) -> None:
        """"Slower", from whoever asked: the rest is compiled again, slower, off the audio path."""
        player, slower = self._player, self._slower
        if player is None or slower is None:
            log.info("'slower' is not available here")
            return
        slower.request(player)

    def _notice(self, snapshot: Snapshot) -> None:
        """Emit what changed since the last tick: a new step, paused, resumed (a question is told by
        the player's own event, see ``on_hold`` in :meth:`play`)."""
        step, state = snapshot.timeline.step_at(snapshot.position), RunState.of(snapshot.state)
        seen_step, seen_state = self._seen
        if step != seen_step and state is RunState.PLAYING:
            self._emit(StepStarted(step, len(snapshot.timeline.step_starts)))
            seen_step = step
        self._seen = (seen_step, state)
        if state is seen_state:
            return
        if state is RunState.PAUSED:
            self._emit(Paused())
        elif seen_state is RunState.PAUSED and state is RunState.PLAYING:
            self._emit(Resumed())

    def _emit(self, event: RunEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # one listener's bug must not end the session
                log.exception("a runner subscriber failed on %s", type(event).__name__)


def _at_once(work: Callable[[], None]) -> None:
    """Run ``work`` on the caller's thread (a live session on a fake clock)."""
    work()

