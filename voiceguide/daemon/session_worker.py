"""What the daemon's core needs of the worker that prepares and plays its sessions.

A Protocol, so the core (and its tests, with a fake worker) need not load the player: the real one is
:class:`voiceguide.daemon.worker.Worker`, which drives the session runner (``live.runner``).
"""

from __future__ import annotations

from typing import Literal, Protocol

from voiceguide.daemon.events import StartRequest
from voiceguide.live.events import RunState
from voiceguide.playback.control import Command, Snapshot


class SessionWorker(Protocol):
    """What the daemon needs of :class:`voiceguide.daemon.worker.Worker`."""

    @property
    def state(self) -> RunState:
        """What the session under way is doing, read from its player (the daemon keeps no copy)."""
        ...

    @property
    def snapshot(self) -> Snapshot | None: ...

    @property
    def sample_rate(self) -> int: ...

    def submit(self, kind: Literal["play", "prepare"], request: StartRequest) -> None: ...

    def command(self, command: Command) -> RunState: ...

    def close(self, timeout: float = 0.0) -> None: ...
