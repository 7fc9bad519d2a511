"""The playback vocabulary: what can be asked of a player, where it is, and what a play loop plays from.

Keys, voice commands, the daemon's triggers and the view speak these words; only the player acts on them.
This module imports nothing heavy (no numpy, no mixer), so a command that only sends or shows these starts
fast.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from voiceguide.engine.timeline import Event, Timeline


class Command(enum.Enum):
    """What the person asked for (by key, voice or button)."""

    PAUSE = "pause"
    RESUME = "resume"
    TOGGLE = "toggle"
    SKIP = "skip"
    STOP = "stop"
    REPEAT = "repeat"
    """Go back to the start of the current step."""
    RELEASE = "release"
    """Sent by the listener when an answer is done: playback continues after the gate."""
    NOTHING_HEARD = "nothing-heard"
    """Sent by the listener when a window ended without an answer: playback continues with the next step,
    past the acknowledgement (no thanks for silence)."""
    SLOWER = "slower"
    """Slow the guidance down (voice command)."""
    YIELD = "yield"
    """Sent by the listener when the person speaks again during the acknowledgement that follows an answer: the
    voice fades (``YIELD_FADE_SECONDS``) and the session holds at the same listen window again, so the same
    answer goes on; the acknowledgement is said from its start once the person is done."""


class State(enum.Enum):
    """Where the player is."""

    PLAYING = "playing"
    PAUSING = "pausing"
    PAUSED = "paused"
    RESUMING = "resuming"
    SKIPPING = "skipping"
    STOPPING = "stopping"
    GATING = "gating"
    """Fading out just before a gate (a listen window)."""
    HOLDING = "holding"
    """Held at a gate until RELEASE: the person is answering."""
    CATCHING = "catching up"
    """Fading out an ambient bed for a moment to take time lost in an underrun out of a quiet stretch."""
    FINISHED = "finished"


@dataclass(frozen=True)
class Hold:
    """A stretch of the stream held at a gate (a listen window as it really happened)."""

    gate: int
    """Timeline sample of the gate."""
    stream_start: int
    """Stream sample where the hold began."""
    stream_end: int
    """Stream sample where it was released (or the session stopped)."""


@dataclass(frozen=True)
class HoldBegan:
    """Told by the player: it holds at a gate (a listen window opened) until released."""

    gate: int
    """Timeline sample of the gate (the last sample of its step's question)."""
    over: threading.Event
    """Set when this hold ends, however it ends (the listener's release, skip, repeat, pause or stop)."""


@dataclass(frozen=True)
class SlowerAsked:
    """Told by the player: "slower" reached it through its command queue (the bare play loop acts on it)."""


SLOWER_ASKED = SlowerAsked()
"""The one instance the audio callback puts (it allocates nothing there)."""

PlayerEvent = HoldBegan | SlowerAsked
"""What the player tells its control loop, in order, through :attr:`~voiceguide.playback.player.Player.events`."""


@dataclass(frozen=True)
class Snapshot:
    """What the view needs, read from the audio thread's state without locking."""

    position: int
    """Timeline sample being played."""
    state: State
    """Player state."""
    timeline: Timeline
    """The timeline as far as it is compiled."""


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
    lost: int = 0
    """Frames the output lost in underruns (it ran dry, or dropped audio if negative)."""
    owed: int = 0
    """Of those, frames not yet taken out of a quiet stretch when the session ended (0: back on the plan)."""


class TimelineSource(Protocol):
    """What a play loop plays from: a timeline that may still be growing while it plays.

    A compiled :class:`~voiceguide.engine.timeline.Timeline` is one (ready at once, final, never grows);
    :class:`~voiceguide.engine.ahead.Ahead` is one that compiles speech while the first steps play.
    """

    def wait_ready(self) -> tuple[Timeline, bool]:
        """Block until it is safe to start; the timeline so far and whether it is final."""
        ...

    def follow(self, listener: Callable[[Timeline, bool], None]) -> None:
        """Call ``listener(timeline, final)`` with every later version (at once if one is newer already)."""
        ...
