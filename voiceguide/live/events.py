"""What the session runner says: the state it reads from the player, and the events it emits.

``voiceguide run``, ``ctl status``, the remote page (and anything else that drives a :class:`~voiceguide.live.runner.
Runner`) show :class:`RunState`, read from the player each time it is asked for: nothing keeps a copy that could
drift from what is really heard. The events say what happened, in order, on the runner's thread. This module
imports nothing heavy, so the daemon's status and ``ctl`` can use it without the mixer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from voiceguide.playback.control import State


class RunState(enum.Enum):
    """What the runner is doing, as a person would say it (the ``state`` of ``ctl status``)."""

    IDLE = "idle"
    """No session."""
    PREPARING = "preparing"
    """A session is being compiled or its output opened; nothing sounds yet."""
    PLAYING = "playing"
    """Sound is going out (including the short fades of skip, resume and catching up)."""
    LISTENING = "listening"
    """Held at a question, waiting for the person's answer."""
    PAUSED = "paused"
    """Paused by the person (or fading into the pause)."""
    STOPPING = "stopping"
    """Asked to stop: fading out, or giving up its preparation."""
    FINISHED = "finished"
    """The player has played its last sample; the runner is tidying up."""

    @classmethod
    def of(cls, state: State) -> RunState:
        """The run state a player in ``state`` is in."""
        return _OF_PLAYER[state]

    @property
    def active(self) -> bool:
        """Whether a session is under way (commands can reach it)."""
        return self not in (RunState.IDLE, RunState.FINISHED)


_OF_PLAYER = {
    State.PLAYING: RunState.PLAYING, State.RESUMING: RunState.PLAYING, State.SKIPPING: RunState.PLAYING,
    State.CATCHING: RunState.PLAYING, State.GATING: RunState.PLAYING,
    State.PAUSING: RunState.PAUSED, State.PAUSED: RunState.PAUSED,
    State.HOLDING: RunState.LISTENING, State.STOPPING: RunState.STOPPING, State.FINISHED: RunState.FINISHED,
}


@dataclass(frozen=True)
class StepStarted:
    """A step of the script began to play."""

    step: int
    """Its 1-based number."""
    steps: int
    """How many steps the session has (as far as it is compiled)."""


@dataclass(frozen=True)
class Holding:
    """The player holds at a question and the person may answer."""

    step: int
    """The 1-based step that asked."""


@dataclass(frozen=True)
class Paused:
    """The player paused (its fade has ended)."""


@dataclass(frozen=True)
class Resumed:
    """The player plays again after a pause."""


@dataclass(frozen=True)
class Slowed:
    """"Slower" was acted on (or could not be)."""

    text: str
    """What to tell the person."""


@dataclass(frozen=True)
class OutputLost:
    """The sound output went away; the session has ended there."""

    message: str
    """The error's text, for the person."""


@dataclass(frozen=True)
class Finished:
    """The session ended (played to its end or stopped)."""

    stopped_early: bool
    """True if the person stopped it."""
    seconds: float
    """How long it played, pauses included."""


RunEvent = StepStarted | Holding | Paused | Resumed | Slowed | OutputLost | Finished
"""Everything a runner emits."""
