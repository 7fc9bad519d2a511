"""The control socket outlives a spell without free descriptors, and the daemon's file limit is raised."""

from __future__ import annotations

import errno
import logging
import queue
import resource
import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.test_daemon_flood import IdleWorker
from voiceguide.daemon.clock import SystemWallClock
from voiceguide.daemon.config import DaemonConfig
from voiceguide.daemon.core import Daemon
from voiceguide.daemon.ctl_socket import ControlServer, request
from voiceguide.daemon.events import Event, Shutdown
from voiceguide.daemon.files import raise_file_limit

SHORT = 5
"""Accepts that fail with EMFILE before descriptors are free again."""


@pytest.fixture
def short_of_files(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next :data:`SHORT` accepts on a Unix socket fail as if the process had no descriptor left."""
    failures = [SHORT]
    real = socket.socket.accept

    def accept(self: socket.socket) -> tuple[socket.socket, object]:
        if self.family == socket.AF_UNIX and failures[0] > 0:
            select.select([self], [], [])  # a connection waits (and stays queued, as with a real EMFILE)
            failures[0] -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return real(self)

    monkeypatch.setattr(socket.socket, "accept", accept)
    return failures


@pytest.fixture
def daemon(runtime: Path) -> Iterator[Daemon]:
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    server = ControlServer()
    d = Daemon(DaemonConfig(), events, IdleWorker(), SystemWallClock(), [])
    thread = threading.Thread(target=d.run, daemon=True)
    thread.start()
    server.start(events.put)
    yield d
    events.put(Shutdown("test"))
    thread.join(5)
    server.close()


def test_the_accept_loop_waits_out_emfile_and_answers(short_of_files: list[int], daemon: Daemon,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="voiceguide.daemon.ctl_socket"):
        assert request({"command": "status"}, timeout=10.0) == {"ok": True, "state": "idle", "ended": 0}
        assert request({"command": "status"}, timeout=10.0) == {"ok": True, "state": "idle", "ended": 0}
    assert short_of_files == [0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["control socket: Too many open files; waiting for some to be freed"]  # once, not 5 times
    assert "control socket: accepting again" in caplog.messages


def test_the_soft_file_limit_is_raised_towards_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        got = raise_file_limit(wanted=min(4096, hard))
        assert got == min(4096, hard) == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert raise_file_limit(wanted=512) == got  # never lowered
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
