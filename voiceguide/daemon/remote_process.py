"""The daemon starts the phone remote as a child process and keeps it running.

A daemon *trigger* like the control socket: :meth:`RemoteProcess.start` starts ``python -I -m
voiceguide.remote.process`` (isolated: no ``PYTHON*`` variables, no user site, not the working folder on
the path) and a thread that watches it. When the child ends while the daemon runs, it is started again
after a pause that doubles from :data:`FIRST_PAUSE` up to :data:`LONGEST_PAUSE` (and starts over once a
child has run :data:`STEADY` seconds). :meth:`RemoteProcess.close` asks the child to stop (SIGTERM) and
kills it if it does not. The child's standard input is a pipe the daemon holds, so the child also ends
when the daemon dies without closing it. The child logs to the daemon's standard error.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from voiceguide.daemon.config import DaemonConfig
from voiceguide.daemon.ctl_socket import socket_path
from voiceguide.daemon.events import Event
from voiceguide.errors import BackendError

log = logging.getLogger(__name__)

FIRST_PAUSE = 1.0
"""Seconds before the first restart of a child that ended."""
LONGEST_PAUSE = 300.0
"""Longest pause between restarts, in seconds."""
STEADY = 60.0
"""A child that ran this long ended on its own account: the next restart is quick again."""
STOP_WAIT = 1.0
"""Seconds the child has to stop after SIGTERM before it is killed (it takes about 0.25 s; the daemon promises
to exit within 2 s of its own SIGTERM)."""


def command(config: Path | None, control_socket: Path) -> list[str]:
    """How the child is started."""
    args = [sys.executable, "-I", "-m", "voiceguide.remote.process", "--socket", str(control_socket)]
    return [*args, "--config", str(config.resolve())] if config is not None else args


class RemoteProcess:
    """Runs the phone remote of ``config`` in a child process while the daemon runs."""

    name = "phone remote"

    def __init__(self, config: DaemonConfig, control_socket: Path | None = None,
                 spawn: Callable[[list[str]], subprocess.Popen[bytes]] | None = None) -> None:
        self.command = command(config.path, control_socket if control_socket is not None else socket_path())
        self._spawn = spawn if spawn is not None else _spawn
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self.child: subprocess.Popen[bytes] | None = None
        """The running child, if any."""
        self.starts = 0
        """How many times a child was started."""
        self._thread: threading.Thread | None = None

    def start(self, post: Callable[[Event], None]) -> None:
        """Start the child and watch it on a thread (BackendError without the remote's extra)."""
        if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("starlette") is None:
            raise BackendError("the phone remote needs its extra: pip install 'voiceguide[remote]'")
        self._thread = threading.Thread(target=self._watch, name="voiceguide-remote-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        pause = FIRST_PAUSE
        while not self._closing.is_set():
            began = time.monotonic()
            with self._lock:
                if self._closing.is_set():
                    return
                try:
                    self.child = self._spawn(self.command)
                    self.starts += 1
                except OSError as exc:
                    log.error("cannot start the phone remote: %s", exc)
                    self.child = None
            if self.child is not None:
                code = self.child.wait()
                if self._closing.is_set():
                    return
                log.warning("the phone remote stopped (exit code %s)", code)
            if time.monotonic() - began >= STEADY:
                pause = FIRST_PAUSE
            log.info("starting the phone remote again in %g s", pause)
            if self._closing.wait(pause):
                return
            pause = min(LONGEST_PAUSE, pause * 2)

    def close(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after :data:`STOP_WAIT` s) and stop watching."""
        with self._lock:
            self._closing.set()
            child = self.child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if child is not None and child.stdin is not None:
            with contextlib.suppress(OSError):
                child.stdin.close()
        if self._thread is not None:
            self._thread.join(STOP_WAIT)


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    """The child, with a pipe as standard input (its end tells it the daemon is gone), and the daemon's
    standard error; it starts in the root folder, so nothing is looked up in the daemon's working folder."""
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd="/", close_fds=True)
