"""Many ``ctl`` clients at once all get answers: a deep listen queue, and ``ctl`` retries briefly."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import full_listen_queue
from voiceguide.daemon.clock import SystemWallClock
from voiceguide.daemon.config import DaemonConfig
from voiceguide.daemon.core import Daemon
from voiceguide.daemon.ctl_socket import ControlServer, private_dir, request, socket_path
from voiceguide.daemon.events import Event, Shutdown
from voiceguide.errors import DaemonError
from voiceguide.live.events import RunState

CLIENTS = 200


class IdleWorker:
    snapshot = None
    sample_rate = 0
    state = RunState.IDLE

    def submit(self, kind: str, request: object) -> None:
        pass

    def command(self, command: object) -> None:
        pass

    def close(self, timeout: float = 0.0) -> None:
        pass


@pytest.fixture
def daemon(runtime: Path) -> Iterator[Daemon]:
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    server = ControlServer()
    server.start(events.put)
    d = Daemon(DaemonConfig(), events, IdleWorker(), SystemWallClock(), [])
    thread = threading.Thread(target=d.run, daemon=True)
    thread.start()
    yield d
    events.put(Shutdown("test"))
    thread.join(5)
    server.close()


def test_two_hundred_clients_at_once_all_get_a_reply(daemon: Daemon) -> None:
    replies: list[object] = []
    errors: list[str] = []
    ready = threading.Barrier(CLIENTS)

    def client() -> None:
        ready.wait()
        try:
            replies.append(request({"command": "status"}, timeout=30.0))
        except DaemonError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [], f"{len(errors)} of {CLIENTS} got no reply, e.g. {errors[:1]}"
    assert len(replies) == CLIENTS and all(r == {"ok": True, "state": "idle", "ended": 0} for r in replies)


def test_a_full_queue_is_tried_again_until_the_daemon_accepts(runtime: Path) -> None:
    """A server that accepts nothing for a while (queue of 1, already full): ctl waits, then gets its reply."""
    with full_listen_queue(socket_path()) as (server, fillers):
        started = threading.Event()

        def serve() -> None:
            started.wait()
            for _ in range(len(fillers) + 1):
                conn, _ = server.accept()
                with conn:
                    if conn.recv(100):
                        conn.sendall(b'{"ok": true, "state": "idle"}\n')

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        timer = threading.Timer(0.3, started.set)
        timer.start()
        try:
            for s in fillers:
                s.close()  # accepted later, read as empty
            assert request({"command": "status"}, timeout=5.0) == {"ok": True, "state": "idle"}
        finally:
            timer.cancel()
            started.set()
            thread.join(5)


def test_a_socket_nobody_listens_on_is_tried_briefly_then_reported(runtime: Path) -> None:
    path = socket_path()
    private_dir(path.parent)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()
    with pytest.raises(DaemonError, match="not running"):
        request({"command": "status"}, patience=0.2)
