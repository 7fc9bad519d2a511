"""The remote's server on a daemon thread: it serves on loopback, refuses a port in use with our error, and
stops promptly when the daemon closes it (it sleeps instead of polling)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from voiceguide.daemon.config import DaemonConfig, Remote
from voiceguide.errors import BackendError
from voiceguide.remote.server import RemoteServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serves_on_loopback_and_stops_promptly(tmp_path: Path) -> None:
    port = _free_port()
    server = RemoteServer(DaemonConfig(path=tmp_path / "config.toml", journal=tmp_path / "journal",
                                       remote=Remote(port=port)), tmp_path / "ctl.sock")
    server.start(lambda event: None)
    try:
        reply = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False, timeout=10)
        assert reply.status_code == 303 and reply.headers["location"] == "/pair"
        assert httpx.get(f"http://127.0.0.1:{port}/pair", timeout=10).status_code == 200
    finally:
        began = time.monotonic()
        server.close()
        took = time.monotonic() - began
    assert server._thread is not None and not server._thread.is_alive(), f"still serving after {took:.1f} s"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/pair", timeout=2)


def test_a_port_in_use_is_our_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        server = RemoteServer(DaemonConfig(remote=Remote(port=port)))
        with pytest.raises(BackendError, match=f"cannot listen on 127.0.0.1:{port}"):
            server.start(lambda event: None)
