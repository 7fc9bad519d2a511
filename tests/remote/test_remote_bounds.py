"""What one network client can hold of the remote's server is bounded (idle and slow connections are closed,
a crowd is cut off, headers are capped), and the remote runs in a child process the daemon watches."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("uvicorn")

from voiceguide.daemon import remote_process
from voiceguide.daemon.config import DaemonConfig, Remote
from voiceguide.daemon.remote_process import RemoteProcess
from voiceguide.remote import bounds
from voiceguide.remote.server import RemoteServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(bounds, "REQUEST_HEAD_SECONDS", 0.5)
    monkeypatch.setattr(bounds, "MAX_OPEN_CONNECTIONS", 5)
    port = _free_port()
    server = RemoteServer(DaemonConfig(path=tmp_path / "config.toml", journal=tmp_path / "journal",
                                       remote=Remote(port=port)), tmp_path / "ctl.sock")
    server.start(lambda event: None)
    yield port
    server.close()


def _closed_by_server(s: socket.socket, within: float = 10.0) -> bool:
    """Whether the server closes ``s`` (recv sees the end) within ``within`` seconds."""
    s.settimeout(within)
    try:
        return s.recv(100) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("sent", [b"", b"GET /pair HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "])
def test_a_connection_without_a_whole_request_head_is_closed(served: int, sent: bytes) -> None:
    with socket.create_connection(("127.0.0.1", served)) as s:
        s.sendall(sent)
        assert _closed_by_server(s), "the server kept a connection open that sent no complete request head"
    assert httpx.get(f"http://127.0.0.1:{served}/pair", timeout=10).status_code == 200


def test_past_the_cap_a_new_connection_closes_the_oldest_silent_one(served: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounds, "REQUEST_HEAD_SECONDS", 60)  # none is closed for being slow meanwhile
    held = [socket.create_connection(("127.0.0.1", served)) for _ in range(bounds.MAX_OPEN_CONNECTIONS)]
    try:
        time.sleep(0.2)  # accepted
        with httpx.Client(timeout=10) as phone:  # the owner's phone gets through
            assert phone.get(f"http://127.0.0.1:{served}/pair").status_code == 200
        assert _closed_by_server(held[0], 10.0), "the oldest silent connection was kept"
        assert not _closed_by_server(held[1], 0.2), "more than the oldest was closed"
    finally:
        for s in held:
            s.close()


def test_a_huge_request_head_is_refused(served: int) -> None:
    try:
        reply = httpx.get(f"http://127.0.0.1:{served}/pair", headers={"X-Big": "a" * 1_000_000}, timeout=10)
    except (httpx.ReadError, httpx.WriteError):
        return  # refused and closed while the head was still being sent
    assert reply.status_code in (400, 431)


def test_a_kept_alive_connection_gets_the_same_deadline(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as s:
        s.sendall(b"GET /pair HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.settimeout(10)
        assert s.recv(100).startswith(b"HTTP/1.1 200")
        deadline = time.monotonic() + 30
        with pytest.raises((BrokenPipeError, ConnectionResetError)):  # closed while still trickling
            while time.monotonic() < deadline:  # a byte every 0.1 s: never a whole head
                s.sendall(b"G")
                time.sleep(0.1)


def _wait(condition: object, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_the_daemon_restarts_a_remote_that_ended_and_stops_it_on_close(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote_process, "FIRST_PAUSE", 0.05)
    children: list[subprocess.Popen[bytes]] = []
    scripts = ["import sys; sys.exit(3)", "import time; time.sleep(120)"]

    def spawn(args: list[str]) -> subprocess.Popen[bytes]:
        child = subprocess.Popen([sys.executable, "-c", scripts[min(len(children), 1)]], stdin=subprocess.PIPE)
        children.append(child)
        return child

    watcher = RemoteProcess(DaemonConfig(remote=Remote()), tmp_path / "ctl.sock", spawn=spawn)
    watcher.start(lambda event: None)
    try:
        assert _wait(lambda: len(children) == 2), "the remote that ended was not started again"
        assert children[0].returncode == 3
    finally:
        watcher.close()
    assert children[1].poll() is not None, "close left the remote running"
    time.sleep(0.2)
    assert len(children) == 2, "a remote was started after close"


def test_the_remote_runs_isolated_in_its_own_process(tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "config.toml"
    config.write_text(f"[remote]\nport = {port}\n", encoding="utf-8")
    watcher = RemoteProcess(DaemonConfig(path=config, remote=Remote(port=port)), tmp_path / "ctl.sock")
    watcher.start(lambda event: None)
    try:
        assert _wait(lambda: _answers(port)), "the remote's child process did not serve"
        child = watcher.child
        assert child is not None and child.pid != os.getpid()
        argv = Path(f"/proc/{child.pid}/cmdline").read_bytes().split(b"\0")
        assert argv[1:4] == [b"-I", b"-m", b"voiceguide.remote.process"]
        assert os.readlink(f"/proc/{child.pid}/cwd") == "/"
        # SIGTERM as the daemon sends it; the child gets as long as a busy machine needs (the daemon itself
        # kills it after STOP_WAIT, which is about how long it is allowed, not how long it takes)
        child.terminate()
        assert child.wait(30) == 0, "the remote did not stop cleanly on SIGTERM"  # (a stdin lock once aborted it)
    finally:
        watcher.close()
    assert not _answers(port)


def test_the_remote_ends_when_the_daemon_is_gone(tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "config.toml"
    config.write_text(f"[remote]\nport = {port}\n", encoding="utf-8")
    child = subprocess.Popen(remote_process.command(config, tmp_path / "ctl.sock"), stdin=subprocess.PIPE, cwd="/")
    try:
        assert _wait(lambda: _answers(port))
        assert child.stdin is not None
        child.stdin.close()  # what the daemon's death does to the pipe
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/pair", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
