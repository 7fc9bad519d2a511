"""The control socket: ``voiceguide ctl`` talks to the daemon over a Unix socket only its user can use.

The socket lives in the user runtime directory (``$XDG_RUNTIME_DIR/voiceguide/ctl.sock``): the folder is
0700, the socket 0600, and a connecting process must run as the same user (checked with SO_PEERCRED).
One JSON line in, one JSON line out: ``{"command": "start", "session": "demo"}`` ->
``{"ok": true, "session": "demo", "seconds": 62.0}``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import stat
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voiceguide import places
from voiceguide.daemon.events import Control, Event, Reload, Reply, ReplySlot, SetVolume, Start, StartRequest, Status
from voiceguide.daemon.messages import CtlRequest
from voiceguide.errors import DaemonError
from voiceguide.playback.control import Command
from voiceguide.script.checks import NESTED_TOO_DEEPLY, too_deep

log = logging.getLogger(__name__)

SOCKET_NAME = "ctl.sock"
MAX_REQUEST = 4096
"""Longest request line accepted, in bytes."""
START_TIMEOUT = 180.0
"""How long ``ctl start`` waits for the session to be prepared (uncached speech on a Pi takes a while)."""
REPLY_TIMEOUT = 10.0
"""How long other commands wait for the daemon's answer."""
BACKLOG = socket.SOMAXCONN
"""Connections the kernel queues for the socket before ``accept`` (it caps this at net.core.somaxconn)."""
CONNECT_PATIENCE = 2.0
"""How long ``ctl`` keeps trying while the socket exists but its queue is full (or the daemon is starting)."""
CONNECT_FIRST_WAIT = 0.01
"""First pause between those tries; it doubles up to :data:`CONNECT_LONGEST_WAIT`."""
CONNECT_LONGEST_WAIT = 0.2
SHORTAGES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
"""``accept`` errors that mean the process or system is short of something for now."""
SHORTAGE_PAUSE = 0.1
"""Seconds the accept loop waits before trying again while short of files or memory."""
COMMANDS = {"stop": Command.STOP, "pause": Command.TOGGLE, "resume": Command.RESUME, "skip": Command.SKIP,
            "slower": Command.SLOWER}
"""Session controls by name; ``pause`` pauses, or resumes when paused."""


def runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/voiceguide`` (see :func:`voiceguide.places.runtime_dir`)."""
    return places.runtime_dir()


def socket_path() -> Path:
    """Where the daemon listens."""
    return runtime_dir() / SOCKET_NAME


def private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) or make sure an existing one is ours and private."""
    try:
        places.private_dir(path, tighten=False)  # a new one is 0700; an existing one is checked first
        info = path.stat()
        if info.st_uid != os.getuid():
            raise DaemonError(f"{path} belongs to another user; remove it or set XDG_RUNTIME_DIR")
        if stat.S_IMODE(info.st_mode) != places.PRIVATE_DIR:
            path.chmod(places.PRIVATE_DIR)
    except OSError as exc:
        raise DaemonError(f"cannot use {path} for the control socket: {exc.strerror or exc}") from exc
    return path


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def to_event(message: Any, reply: Callable[[Reply], None]) -> Event | str:
    """The event a request (a decoded JSON line, see :class:`CtlRequest`) asks for, or what is wrong with it."""
    request = CtlRequest.from_dict(message)
    if isinstance(request, str):
        return request
    if request.command == "status":
        return Status(reply)
    if request.command == "reload":
        return Reload(reply)
    if request.command == "volume":
        assert request.level is not None
        return SetVolume(request.level, reply)
    if request.command == "start":
        assert request.session is not None
        return Start(StartRequest(request.session, "ctl", request.minutes), reply)
    return Control(COMMANDS[request.command], "ctl", reply)


class ControlServer:
    """Accepts ctl connections on a thread (blocking in ``accept``) and posts their requests."""

    name = "control socket"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else socket_path()
        self._sock: socket.socket | None = None
        self._post: Callable[[Event], None] | None = None

    def start(self, post: Callable[[Event], None]) -> None:
        """Bind the socket (0600) and serve on a background thread."""
        private_dir(self.path.parent)
        _clear_stale(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(str(self.path))
        except OSError as exc:
            sock.close()
            raise DaemonError(f"cannot listen on {self.path}: {exc.strerror or exc}") from exc
        finally:
            os.umask(old)
        self.path.chmod(0o600)
        sock.listen(BACKLOG)
        self._sock, self._post = sock, post
        threading.Thread(target=self._accept, args=(sock,), name="voiceguide-ctl", daemon=True).start()
        log.info("control socket %s", self.path)

    def close(self) -> None:
        """Stop accepting and remove the socket file."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _accept(self, sock: socket.socket) -> None:
        """Accept until closed. Running out of files, memory or threads is waited out: the owner's next
        ``ctl`` gets through once whatever holds them lets go (logged once per spell, not per try)."""
        short = False
        while True:
            try:
                conn, _ = sock.accept()
            except OSError as exc:
                if self._sock is not sock:
                    return  # closed
                if exc.errno not in SHORTAGES:
                    log.warning("control socket: accept failed (%s); going on", exc)
                    continue
                if not short:
                    log.warning("control socket: %s; waiting for some to be freed", exc.strerror or exc)
                    short = True
                time.sleep(SHORTAGE_PAUSE)  # not audio: the accept thread waiting for a free descriptor
                continue
            try:
                threading.Thread(target=self._serve, args=(conn,), name="voiceguide-ctl-conn", daemon=True).start()
            except RuntimeError as exc:  # no thread to be had: answer nobody rather than stop accepting
                conn.close()
                if not short:
                    log.warning("control socket: %s; waiting", exc)
                    short = True
                time.sleep(SHORTAGE_PAUSE)
                continue
            if short:
                log.info("control socket: accepting again")
                short = False

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5.0)
                if _peer_uid(conn) != os.getuid():
                    raise PermissionError("another user")
                line = conn.makefile("rb").readline(MAX_REQUEST)
                reply = self._answer(line)
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError as exc:
                log.warning("control connection failed: %s", exc)

    def _answer(self, line: bytes) -> Reply:
        try:
            message = json.loads(line)
        except RecursionError:  # json recurses once per nesting level
            return {"ok": False, "error": f"not a JSON request: {NESTED_TOO_DEEPLY}"}
        except ValueError:  # JSONDecodeError, UnicodeDecodeError
            return {"ok": False, "error": "not a JSON request"}
        if too_deep(message):
            return {"ok": False, "error": f"not a JSON request: {NESTED_TOO_DEEPLY}"}
        slot = ReplySlot()
        event = to_event(message, slot)
        if isinstance(event, str):
            return {"ok": False, "error": event}
        assert self._post is not None
        self._post(event)
        timeout = START_TIMEOUT if isinstance(event, Start) else REPLY_TIMEOUT
        reply = slot.wait(timeout)
        return reply if reply is not None else {"ok": False, "error": f"no answer from the daemon in {timeout:g} s"}


def _clear_stale(path: Path) -> None:
    """Remove a socket at ``path`` that nobody answers on (a daemon that crashed or was killed left it).
    A socket someone answers on means another daemon; anything that is not a socket is never removed."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DaemonError(f"cannot check {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISSOCK(info.st_mode):
        raise DaemonError(f"{path} is in the way of the control socket and is not a socket; it is left as it is. "
                          "Move it away, or set XDG_RUNTIME_DIR")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            pass  # nobody listens: stale
        except OSError as exc:  # EAGAIN: a daemon whose queue is full; anything else: not ours to judge
            raise DaemonError(f"another voiceguide daemon seems to be running on {path} "
                              f"({exc.strerror or exc})") from exc
        else:
            raise DaemonError(f"another voiceguide daemon is already running (it answers on {path})")
    log.info("removing the stale control socket %s (left by a daemon that did not exit cleanly)", path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def request(message: dict[str, Any], path: Path | None = None, timeout: float = START_TIMEOUT + 10,
            patience: float = CONNECT_PATIENCE) -> Reply:
    """Send one request to the daemon and return its reply. While the socket exists but the daemon's
    queue is full (EAGAIN) or nobody accepts yet (ECONNREFUSED), connecting is tried again with a short,
    growing pause, for up to ``patience`` seconds."""
    path = path if path is not None else socket_path()
    give_up = time.monotonic() + patience
    wait = CONNECT_FIRST_WAIT
    while True:
        try:
            return _exchange(message, path, timeout)
        except (BlockingIOError, ConnectionRefusedError) as exc:
            if not _is_socket(path) or time.monotonic() + wait > give_up:
                if isinstance(exc, BlockingIOError):
                    raise DaemonError(f"the daemon on {path} is too busy to answer; try again in a moment") from exc
                raise _not_running(path) from exc
            time.sleep(wait)  # not audio: a command-line client waiting for a free place in the queue
            wait = min(CONNECT_LONGEST_WAIT, wait * 2)
        except FileNotFoundError as exc:
            raise _not_running(path) from exc
        except OSError as exc:
            raise DaemonError(f"talking to the daemon on {path} failed: {exc.strerror or exc}") from exc


def _not_running(path: Path) -> DaemonError:
    return DaemonError(f"the daemon is not running (no answer on {path}); start it with 'voiceguide daemon' "
                       "or 'systemctl --user start voiceguide'")


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.lstat().st_mode)
    except OSError:
        return False


def _exchange(message: dict[str, Any], path: Path, timeout: float) -> Reply:
    """One connection: the request out, the reply line back (OSError from connecting passes through)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        try:
            sock.sendall(json.dumps(message).encode() + b"\n")
            line = sock.makefile("rb").readline(1 << 20)
        except OSError as exc:
            raise DaemonError(f"talking to the daemon on {path} failed: {exc.strerror or exc}") from exc
    try:
        reply = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise DaemonError(f"the daemon gave an unreadable answer: {line[:200]!r}") from exc
    if not isinstance(reply, dict):
        raise DaemonError(f"the daemon gave an unexpected answer: {reply!r}")
    return reply
