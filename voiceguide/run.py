"""Play a compiled timeline live: one output stream, a player, and a loop that waits on the clock."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass

from .errors import AudioError
from .player import Command, Player, Snapshot
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


def play(timeline: Timeline, output: AudioOutput, clock: Clock,
         controls: queue.SimpleQueue[Command] | None = None,
         on_tick: Callable[[Snapshot], None] | None = None) -> PlayResult:
    """Play ``timeline`` to the end or until stopped; Ctrl-C asks for a faded stop, a second one aborts."""
    player = Player(timeline, controls)
    interrupted = False
    with output.open(timeline.sample_rate, player.fill):
        last_frames, last_change = -1, clock.monotonic()
        while True:
            try:
                if clock.wait(player.done, TICK_SECONDS):
                    break
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
    return PlayResult(as_played(timeline, player.segments), player.stopped_early, player.stream_frames)
