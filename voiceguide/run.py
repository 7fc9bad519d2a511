"""Play a compiled timeline live: one output stream, a player, and a loop that waits on the clock."""

from __future__ import annotations

import bisect
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .ahead import Ahead
from .errors import AudioError
from .player import Command, Player, Snapshot, State
from .seams import AudioOutput, Clock
from .timeline import Event, Timeline, as_played

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25
"""How often the view is refreshed; the loop blocks in between (no busy waiting)."""
STALL_SECONDS = 10.0
"""If the output stops asking for audio this long, the device is gone."""


@dataclass(frozen=True)
class PlayResult:
    """How a live run went."""

    events: list[Event]
    """The timeline's events moved to when they actually sounded (pauses, skips, stop)."""
    stopped_early: bool
    """True if the person stopped before the end."""
    frames: int
    """Stream samples delivered, including silence while paused."""
    timeline: Timeline
    """The timeline that was played (complete unless preparing it failed part-way)."""
    starved: int = 0
    """Samples of silence because speech was not ready in time (0 when all went to plan)."""


def play(source: Timeline | Ahead, output: AudioOutput, clock: Clock,
         controls: queue.SimpleQueue[Command] | None = None,
         on_tick: Callable[[Snapshot], None] | None = None,
         on_hold: Callable[[int, threading.Event], None] | None = None,
         on_slower: Callable[[Player], None] | None = None) -> PlayResult:
    """Play ``timeline`` to the end or until stopped; Ctrl-C asks for a faded stop, a second one aborts.

    At each gate (a listen window) the player holds; ``on_hold(step, over)`` is called once on this
    thread and must arrange for ``Command.RELEASE`` to be queued when the answer is done, unless
    ``over`` is set first (the hold ended some other way: skip, repeat or stop). With no
    ``on_hold``, gates are released at once. ``source`` may be an :class:`Ahead` still compiling:
    playback starts as soon as it is safe and the player follows the growing timeline.
    ``on_slower(player)`` is called on this thread each time "slower" is asked for (see ``slowing``);
    without it the request is only logged.
    """
    if isinstance(source, Ahead):
        first, final = source.wait_ready()
        player = Player(first, controls, final=final)
        source.follow(player.extend)
    else:
        player = Player(source, controls)
    timeline = player.timeline
    interrupted = False
    holds_seen = slower_seen = 0
    with output.open(timeline.sample_rate, player.fill):
        last_frames, last_change = -1, clock.monotonic()
        while True:
            try:
                if clock.wait(player.wake, TICK_SECONDS):
                    player.wake.clear()
                if player.done.is_set():
                    break
                hold_number = len(player.holds) + 1  # the holds finished so far, plus the one now
                if player.state is State.HOLDING and hold_number != holds_seen:
                    over = player.hold_over  # this hold's: the player makes it before it shows HOLDING
                    holds_seen = hold_number
                    step = bisect.bisect_right(player.timeline.step_starts, player.position - 1)
                    if on_hold is None:
                        player.controls.put(Command.RELEASE)
                    else:
                        on_hold(max(1, step), over)
                if player.slower != slower_seen:
                    slower_seen = player.slower
                    if on_slower is None:
                        log.info("'slower' is not available here")
                    else:
                        on_slower(player)
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
            if player.stream_frames != last_frames:
                last_frames, last_change = player.stream_frames, now
            elif now - last_change > STALL_SECONDS:
                raise AudioError(f"the audio output stopped asking for sound for {STALL_SECONDS:g} s")
    if on_tick is not None:
        on_tick(player.snapshot())
    holds = [(h.gate, h.stream_start, h.stream_end) for h in player.holds]
    if player.starved:
        log.warning("playback waited %.2f s for speech to be ready", player.starved / timeline.sample_rate)
    return PlayResult(as_played(player.timeline, player.segments, holds), player.stopped_early,
                      player.stream_frames, player.timeline, player.starved)
