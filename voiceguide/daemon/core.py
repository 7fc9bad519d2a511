"""The daemon's core: one loop, one event queue, one session at a time.

Triggers put events on the queue; :meth:`Daemon.handle` is the only code that changes state, and
:meth:`Daemon.tick` asks the scheduler what is due. Between events the loop blocks on the queue until
the next scheduled moment (at most :data:`MAX_WAIT`), so an idle daemon uses no CPU.

A trigger that arrives while a session is being prepared or played is **ignored** (logged, and ctl is
told why): nothing starts by surprise after a session ends. Stop the session first to start another.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from voiceguide.daemon.clock import WallClock
from voiceguide.daemon.config import DaemonConfig
from voiceguide.daemon.events import (
    Control,
    Ended,
    Event,
    EventQueue,
    Prepared,
    Reload,
    Reply,
    SetVolume,
    Shutdown,
    Start,
    StartRequest,
    Status,
    Trigger,
)
from voiceguide.daemon.messages import CtlReply, LastSession, NextScheduled
from voiceguide.daemon.schedule import Due, Scheduler
from voiceguide.daemon.session_worker import SessionWorker
from voiceguide.daemon.volume import Volume
from voiceguide.errors import BackendError
from voiceguide.live.events import RunState
from voiceguide.playback.control import Command

log = logging.getLogger(__name__)

MAX_WAIT = 60.0
"""The loop wakes at least this often even with nothing due, to notice a clock that was set."""
SHUTDOWN_GRACE = 1.5
"""After SIGTERM, how long the stop fade and the stream's close may take before the daemon exits anyway."""

class Daemon:
    """The state machine between triggers and the session worker."""

    def __init__(self, config: DaemonConfig, events: EventQueue, worker: SessionWorker, clock: WallClock,
                 triggers: Sequence[Trigger] = ()) -> None:
        self.config = config
        self.events = events
        self.worker = worker
        self.clock = clock
        self.triggers = list(triggers)
        self.scheduler = Scheduler(config.schedule, clock.now())
        self.current: StartRequest | None = None
        """The session being prepared or played."""
        self.length = 0.0
        self.history: list[Ended] = []
        """Every session that ended, in order (for status and tests)."""
        self.volume: Volume | None = None
        """The master volume (set by :func:`voiceguide.daemon.app.build`); None: none to control."""
        self._pending: Callable[[Reply], None] | None = None
        self._shutdown_by: dt.datetime | None = None

    @property
    def phase(self) -> str:
        """What the session is doing (``idle`` without one), read from the worker's runner each time."""
        if self.current is None:
            return RunState.IDLE.value
        return self.worker.state.value

    # --- the loop ----------------------------------------------------------------------------------
    def run(self) -> int:
        """Handle events until shut down; returns the exit code (0)."""
        for trigger in list(self.triggers):
            try:
                trigger.start(self.events.put)
            except BackendError as exc:  # a missing button or microphone must not keep the rest from working
                log.error("%s disabled: %s", trigger.name, exc)
                self.triggers.remove(trigger)
        upcoming = self.scheduler.upcoming(self.clock.now())
        log.info("ready; next scheduled: %s", _describe_due(upcoming))
        try:
            while True:
                now = self.clock.now()
                self.tick(now)
                if self._finished(now):
                    break
                event = self.clock.next_event(self.events, self._timeout(now))
                if event is not None:
                    self.handle(event)
        finally:
            for trigger in self.triggers:
                trigger.close()
            self.worker.close()
        log.info("exited")
        return 0

    def _timeout(self, now: dt.datetime) -> float:
        if self._shutdown_by is not None:
            return max(0.0, (self._shutdown_by - now).total_seconds())
        until = self.scheduler.seconds_to_next(now)
        return MAX_WAIT if until is None else min(MAX_WAIT, until)

    def _finished(self, now: dt.datetime) -> bool:
        if self._shutdown_by is None:
            return False
        if self.current is not None and now < self._shutdown_by:
            return False
        if self.current is not None:
            log.warning("exiting while %s is still stopping", self.current.session)
        return True

    # --- the schedule ------------------------------------------------------------------------------
    def tick(self, now: dt.datetime) -> None:
        """Start what is due and render ahead what is coming."""
        if self._shutdown_by is not None:
            return
        quiet = self.config.quiet_hours
        for due in self.scheduler.due(now):
            name = f"{due.entry.session} (scheduled {due.when:%a %H:%M})"
            if self.scheduler.is_late(due, now):
                log.warning("missed %s: the clock says %s", name, f"{now:%a %H:%M}")
            elif quiet is not None and quiet.contains(due.when.time()):
                log.info("skipped %s: quiet hours", name)
            else:
                ramp = self.config.ramp if due.entry.ramp else None
                self.handle(Start(StartRequest(due.entry.session, "schedule", due.entry.minutes, ramp)))
        for due in self.scheduler.to_prepare(now):
            if quiet is None or not quiet.contains(due.when.time()):
                log.info("preparing %s for %s", due.entry.session, f"{due.when:%H:%M}")
                request = StartRequest(due.entry.session, "schedule", due.entry.minutes)
                self.worker.submit("prepare", request)

    # --- events ------------------------------------------------------------------------------------
    def handle(self, event: Event) -> None:
        """Act on one event."""
        if isinstance(event, Start):
            self._start(event)
        elif isinstance(event, Control):
            self._control(event)
        elif isinstance(event, Status):
            event.reply(self.status())
        elif isinstance(event, Prepared):
            self._prepared(event)
        elif isinstance(event, Ended):
            self._ended(event)
        elif isinstance(event, Shutdown):
            self._shutdown(event)
        elif isinstance(event, Reload):
            self._reload(event)
        elif isinstance(event, SetVolume):
            if self.volume is None:
                _answer(event.reply, CtlReply.refused("this daemon has no volume control"))
            else:
                level = self.volume.set(event.level)
                log.info("volume %.2f", level)
                _answer(event.reply, CtlReply(True, volume=round(level, 2)))

    def _reload(self, event: Reload) -> None:
        """Take up the config file's schedule and quiet hours again (the rest needs a restart)."""
        from voiceguide.daemon.config_read import load_config
        from voiceguide.errors import ConfigError

        if self.config.path is None:
            _answer(event.reply, CtlReply.refused("the daemon runs without a config file; restart it"))
            return
        try:
            fresh = load_config(self.config.path)
        except ConfigError as exc:
            log.error("config not reloaded: %s", exc)
            _answer(event.reply, CtlReply.refused(f"config not reloaded: {exc}"))
            return
        self.config = replace(self.config, schedule=fresh.schedule, quiet_hours=fresh.quiet_hours)
        self.scheduler = Scheduler(fresh.schedule, self.clock.now())
        log.info("reloaded the schedule (%d entries) and quiet hours from %s", len(fresh.schedule), fresh.path)
        _answer(event.reply, CtlReply(True, schedule=len(fresh.schedule)))

    def _start(self, event: Start) -> None:
        request = event.request
        refusal = None
        if self._shutdown_by is not None:
            refusal = "shutting down"
        elif self.current is not None:
            refusal = f"busy: {self.current.session} is {self.phase} (stop it first)"
        if refusal is not None:
            log.info("ignored %s from %s: %s", request.session, request.source, refusal)
            _answer(event.reply, CtlReply.refused(refusal))
            return
        log.info("starting %s (%s)", request.session, request.source)
        self.current, self.length = request, 0.0
        self._pending = event.reply
        self.worker.submit("play", request)

    def _prepared(self, event: Prepared) -> None:
        if event.request is not self.current:
            return
        self.length = event.seconds
        log.info("playing %s (%.0f s)", event.request.session, event.seconds)
        self._reply_pending(CtlReply(True, session=event.request.session, seconds=round(event.seconds, 1)))

    def _ended(self, event: Ended) -> None:
        self.history.append(event)
        if event.error is not None and event.played > 0:
            log.warning("%s ended after %.0f s: %s", event.request.session, event.played, event.error)
            self._reply_pending(CtlReply.refused(event.error))
        elif event.error is not None:
            log.error("could not play %s: %s", event.request.session, event.error)
            self._reply_pending(CtlReply.refused(event.error))
        else:
            word = "stopped" if event.stopped_early else "finished"
            log.info("%s %s after %.0f s", word, event.request.session, event.played)
            self._reply_pending(CtlReply.refused(f"{event.request.session} was stopped before it began"))
        if event.request is self.current:
            self.current = None

    def _control(self, event: Control) -> None:
        command, state = event.command, self.worker.state if self.current is not None else RunState.IDLE
        if self.current is None or not state.active:
            _answer(event.reply, CtlReply.refused("nothing is playing"))
            return
        if command is Command.TOGGLE:
            command = Command.RESUME if state is RunState.PAUSED else Command.PAUSE
        if command is Command.STOP:
            if state is not RunState.STOPPING:
                log.info("stopping %s (%s)", self.current.session, event.source)
                state = self.worker.command(Command.STOP)
        elif state in (RunState.PREPARING, RunState.STOPPING):
            _answer(event.reply, CtlReply.refused(f"{self.current.session} is {state.value}"))
            return
        elif command is Command.PAUSE and state in (RunState.PLAYING, RunState.LISTENING):
            log.info("pausing %s (%s)", self.current.session, event.source)
            state = self.worker.command(Command.PAUSE)
        elif command is Command.RESUME and state is RunState.PAUSED:
            log.info("resuming %s (%s)", self.current.session, event.source)
            state = self.worker.command(Command.RESUME)
        elif command in (Command.SKIP, Command.REPEAT, Command.SLOWER) and \
                state in (RunState.PLAYING, RunState.LISTENING):
            log.info("%s: %s (%s)", self.current.session, command.value, event.source)
            state = self.worker.command(command)
        _answer(event.reply, CtlReply(True, state=state.value, session=self.current.session))

    def _shutdown(self, event: Shutdown) -> None:
        if self._shutdown_by is not None:
            return
        log.info("shutting down (%s)", event.reason)
        self._shutdown_by = self.clock.now() + dt.timedelta(seconds=SHUTDOWN_GRACE)
        if self.current is not None and self.worker.state not in (RunState.STOPPING, RunState.IDLE,
                                                                   RunState.FINISHED):
            self.worker.command(Command.STOP)

    def status(self) -> Reply:
        """What ``voiceguide ctl status`` prints."""
        reply = CtlReply(True, state=self.phase)
        if self.volume is not None:
            reply = replace(reply, volume=round(self.volume.level, 2))
        if self.current is not None:
            reply = replace(reply, session=self.current.session, source=self.current.source,
                            seconds=round(self.length, 1))
            snapshot, rate = self.worker.snapshot, self.worker.sample_rate
            if snapshot is not None and rate:
                reply = replace(reply, position=round(snapshot.position / rate, 1))
                if snapshot.timeline.step_starts:
                    reply = replace(reply, step=snapshot.timeline.step_at(snapshot.position),
                                    steps=len(snapshot.timeline.step_starts))
        if self.history:  # with "ended": how a watcher (MQTT) tells finished from stopped
            last = self.history[-1]
            reply = replace(reply, last=LastSession(last.request.session,
                                                    last.stopped_early or last.error is not None))
        reply = replace(reply, ended=len(self.history))
        upcoming = self.scheduler.upcoming(self.clock.now())
        if upcoming is not None:
            reply = replace(reply, next=NextScheduled(upcoming.entry.session,
                                                      upcoming.when.isoformat(timespec="minutes")))
        return reply.to_dict()

    def _reply_pending(self, reply: CtlReply) -> None:
        pending, self._pending = self._pending, None
        _answer(pending, reply)


def _answer(reply: Callable[[Reply], None] | None, value: CtlReply) -> None:
    if reply is not None:
        reply(value.to_dict())


def _describe_due(due: Due | None) -> str:
    return "nothing" if due is None else f"{due.entry.session} at {due.when:%a %H:%M}"
