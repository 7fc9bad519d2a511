"""Play a compiled timeline live: one output stream, a player, and a loop that waits on the clock."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from voiceguide.engine.timeline import as_played
from voiceguide.errors import OutputLost
from voiceguide.playback.control import Command, HoldBegan, PlayResult, Snapshot, TimelineSource
from voiceguide.playback.player import Player
from voiceguide.seams import AudioOutput, Clock

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25
"""How often the view is refreshed; the loop blocks in between (no busy waiting)."""
STALL_SECONDS = 1.5
"""If a running output stops asking for audio this long and says it is no longer active, it is gone (the sound
server stopped, the device was unplugged). A running stream asks every ~43 ms (2048-frame blocks at 48 kHz)."""
HUNG_SECONDS = 10.0
"""An output that still says it is active is given this long: opening the microphone through PulseAudio was
seen holding the output's callbacks back for more than 1.5 s (at a listen window)."""
START_SECONDS = 5.0
"""The same before the stream has asked for more than its first blocks: a new PulseAudio stream was measured
taking 0.6-1.8 s after its first three blocks before it asked again."""
SUSPENDED_SECONDS = 1.0
"""If the loop itself wakes this much later than its tick, the whole process was stopped (Ctrl-Z, a suspended
machine): the output is given time again instead of being called lost."""


def play(source: TimelineSource, output: AudioOutput, clock: Clock,
         controls: queue.SimpleQueue[Command] | None = None,
         on_tick: Callable[[Snapshot], None] | None = None,
         on_hold: Callable[[int, threading.Event], None] | None = None,
         on_slower: Callable[[Player], None] | None = None,
         started: Callable[[Player | None], None] | None = None) -> PlayResult:
    """Play ``timeline`` to the end or until stopped; Ctrl-C asks for a faded stop, a second one aborts.

    At each gate (a listen window) the player holds; ``on_hold(step, over)`` is called once on this
    thread and must arrange for ``Command.RELEASE`` to be queued when the answer is done, unless
    ``over`` is set first (the hold ended some other way: skip, repeat or stop). With no
    ``on_hold``, gates are released at once. ``source`` is a compiled :class:`Timeline` or one still
    compiling (an :class:`~voiceguide.engine.ahead.Ahead`): playback starts as soon as it is safe and the player
    follows the growing timeline.
    ``on_slower(player)`` is called on this thread each time "slower" is asked for (see ``slowing``);
    without it the request is only logged. ``started(player)`` is called once the player exists, and
    ``started(None)`` once it is gone (the session runner reads its state from it in between).
    """
    first, final = source.wait_ready()
    player = Player(first, controls, final=final)
    source.follow(player.extend)
    if started is not None:
        started(player)
    try:
        return _loop(player, output, clock, on_tick, on_hold, on_slower)
    finally:
        if started is not None:
            started(None)


def _loop(player: Player, output: AudioOutput, clock: Clock, on_tick: Callable[[Snapshot], None] | None,
          on_hold: Callable[[int, threading.Event], None] | None,
          on_slower: Callable[[Player], None] | None) -> PlayResult:
    timeline = player.timeline
    interrupted = False
    with output.open(timeline.sample_rate, player.fill) as stream:
        last_frames, last_change = player.stream_frames, clock.monotonic()
        last_loop, running = last_change, False
        while True:
            try:
                if clock.wait(player.wake, TICK_SECONDS):
                    player.wake.clear()
                if player.done.is_set():
                    break
                _take_events(player, on_hold, on_slower)
                if on_tick is not None:
                    on_tick(player.snapshot())
            except KeyboardInterrupt:  # the first Ctrl-C fades out like 'q'; a second one aborts
                if interrupted:
                    raise
                interrupted = True
                log.info("stopping (Ctrl-C)")
                player.controls.put(Command.STOP)
                continue
            now = clock.monotonic()
            if now - last_loop > TICK_SECONDS + SUSPENDED_SECONDS:
                last_change = now  # this process was not running: the output is not to blame
            last_loop = now
            if player.stream_frames != last_frames:
                last_frames, last_change, running = player.stream_frames, now, True
            elif now - last_change > (STALL_SECONDS if running else START_SECONDS) and \
                    (not getattr(stream, "active", False) or now - last_change > HUNG_SECONDS):
                if on_tick is not None:
                    on_tick(player.snapshot())
                player.cut()  # the callback has stopped: what played so far is final
                minutes, seconds = divmod(int(player.stream_frames / timeline.sample_rate), 60)
                raise OutputLost(f"The sound output went away after {minutes}:{seconds:02d} (the sound server "
                                 "stopped or the device was unplugged), so the session has ended. Everything up to "
                                 "here is kept. When the sound is back, start it again ('voiceguide devices' lists "
                                 "the outputs).", _result(player))
    if on_tick is not None:
        on_tick(player.snapshot())
    if player.starved:
        log.warning("playback waited %.2f s for speech to be ready", player.starved / timeline.sample_rate)
    account, rate = player.catch_up, timeline.sample_rate
    if account.underruns:
        log.info("the output ran dry %d time(s), %.1f ms in all; %.1f ms of it taken out of quiet stretches, "
                 "%.1f ms still owed at the end", account.underruns, 1000 * account.lost / rate,
                 1000 * account.paid / rate, 1000 * account.debt / rate)
    return _result(player)


def _take_events(player: Player, on_hold: Callable[[int, threading.Event], None] | None,
                 on_slower: Callable[[Player], None] | None) -> None:
    """Act on what the player told since the last wake, in order."""
    while True:
        try:
            event = player.events.get_nowait()
        except queue.Empty:
            return
        if isinstance(event, HoldBegan):
            if event.over.is_set():
                continue  # it ended some other way (skip, pause, stop) before this loop woke
            if on_hold is None:
                player.controls.put(Command.RELEASE)
            else:
                on_hold(player.timeline.step_at(event.gate - 1), event.over)
        elif on_slower is None:
            log.info("'slower' is not available here")
        else:
            on_slower(player)


def _result(player: Player) -> PlayResult:
    """What has played so far, with the events moved to when they really sounded."""
    holds = [(h.gate, h.stream_start, h.stream_end) for h in player.holds]
    return PlayResult(as_played(player.timeline, player.segments, holds), player.stopped_early,
                      player.stream_frames, player.timeline, player.starved, player.catch_up.lost,
                      player.catch_up.debt)
