"""Shared test helpers (plain functions and constants; the fixtures are in ``conftest.py``): the repository's
folders, small scripts and sessions, compiled timelines, test clips, and a control socket too busy to accept.

Import them as ``from tests.helpers import ...`` (``pytest``'s ``pythonpath`` puts the repository root first).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from voiceguide.backends.fake import FakeSpeaker
from voiceguide.daemon.ctl_socket import private_dir
from voiceguide.engine.compile import compile_session
from voiceguide.engine.timeline import Event, Timeline
from voiceguide.live.events import RunState
from voiceguide.live.runner import Runner
from voiceguide.live.session import LiveSession
from voiceguide.playback.control import Command
from voiceguide.script import parse
from voiceguide.script.model import Session
from voiceguide.seams import Clock, Samples

REPO = Path(__file__).resolve().parent.parent
"""The repository root."""
SCRIPTS = REPO / "scripts"
"""The bundled session scripts."""
AUDIO = REPO / "audio"
"""The bundled sounds."""

HEADER = '[session]\ntitle = "Test"\n'
"""A valid ``[session]`` header for test scripts."""

TWENTY_MINUTES = ('[[step]]\nsay = "Welcome."\n'
                  '[[step]]\nbreathe = "box"\ncycles = 40\n'
                  '[[step]]\npause = 30\n'
                  '[[step]]\nbreathe = "coherent"\ncycles = 50\ncue = "tone"\n'
                  '[[step]]\nchime = "bell"\n')
"""Steps of a session a little over 20 minutes long (use a low sample rate with it)."""


def script(body: str, header: str = HEADER) -> str:
    """A script with a valid ``[session]`` header and ``body``."""
    return header + body


def session_of(body: str, header: str = HEADER, name: str = "test.toml", script_dir: Path | None = None) -> Session:
    """Parse ``body`` (steps) under a valid header."""
    return parse.loads(script(body, header), name=name, script_dir=script_dir)


def beyond_validation(session: Session, texts: dict[str, str]) -> Session:
    """``session`` with each spoken text that equals a key of ``texts`` replaced by its value, past the
    validation limits (for engine tests of text that a script could not carry, e.g. 22,000 characters)."""
    import dataclasses

    from voiceguide.script.model import Say

    steps = tuple(dataclasses.replace(st, action=dataclasses.replace(st.action, text=texts[st.action.text]))
                  if isinstance(st.action, Say) and st.action.text in texts else st for st in session.steps)
    return dataclasses.replace(session, steps=steps)


def compiled(body: str, rate: int = 8000, header: str = HEADER, speaker: FakeSpeaker | None = None) -> Timeline:
    """Parse and compile ``body`` with the fake speaker."""
    return compile_session(session_of(body, header), speaker or FakeSpeaker(), rate)


def position_ramp(length: int) -> Samples:
    """A clip whose value encodes its own index (0.05 .. 0.95), so output reveals what was played."""
    return (0.05 + 0.9 * np.arange(length, dtype=np.float64) / length).astype(np.float32)


def one_clip_timeline(clip: Samples, step_starts: tuple[int, ...] = (0,), rate: int = 8000) -> Timeline:
    """A timeline that is one audible clip from sample 0, divided into steps at ``step_starts``."""
    n = len(clip)
    event = Event("speech", 0, n, 1, 0, 1.0, "all")
    return Timeline(rate, (event,), (clip,), step_starts, n, "one clip")


def max_jump(audio: Samples) -> float:
    """The largest sample-to-sample change (a click shows up as a big jump)."""
    return float(np.abs(np.diff(audio.astype(np.float64))).max()) if len(audio) > 1 else 0.0


@contextmanager
def full_listen_queue(path: Path) -> Iterator[tuple[socket.socket, list[socket.socket]]]:
    """A Unix socket bound at ``path`` (its folder made private) that listens with a queue of 0 and accepts
    nothing, and the clients (at most 4) queued on it until further connects get EAGAIN: a daemon too busy to
    accept. Yields (server, queued clients); all of them are closed at the end."""
    private_dir(path.parent)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(0)
    queued: list[socket.socket] = []
    try:
        for _ in range(4):  # fill the queue: further connects get EAGAIN
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(str(path))
            except BlockingIOError:
                s.close()
                break
            queued.append(s)
        yield server, queued
    finally:
        for s in queued:
            s.close()
        server.close()


class FollowsCommands:
    """The state a fake session worker reports, as the real runner would read it from its player: preparing
    after a play job, playing once :meth:`prepared`, and what each command leads to."""

    state = RunState.IDLE

    def submitted(self, kind: str) -> None:
        """A job was queued: a play job is being prepared."""
        if kind == "play":
            self.state = RunState.PREPARING

    def prepared(self) -> None:
        """The session's player has started."""
        self.state = RunState.PLAYING

    def commanded(self, command: Command) -> RunState:
        """The state ``command`` leads to (as the player takes it)."""
        self.state = _LEADS_TO.get(command, self.state)
        return self.state


_LEADS_TO = {Command.PAUSE: RunState.PAUSED, Command.RESUME: RunState.PLAYING, Command.STOP: RunState.STOPPING}


def runner_on(clock: Clock, live: LiveSession | None = None) -> Runner:
    """A session runner on ``clock`` (with no speech engines, microphone or journal unless ``live`` has them),
    taking answers and slowing down on the caller's thread."""
    return Runner(live if live is not None else LiveSession(None, clock, threaded=False))
