"""Using the phone remote while a session plays: many requests from several clients on loopback bring no
error and no underrun (the timed load run with its latency figures is the benchmark, tools/bench remote)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from voiceguide.remote.devices import Devices

from .test_daemon_live import Daemon
from .test_remote_browser import remote_daemon  # noqa: F401  (the fixture)

pytestmark = pytest.mark.audio
PAGES = ("/", "/api/status", "/journal", "/mood?by=week", "/schedule", "/static/remote.css")


def test_requests_while_playing_bring_no_error_and_no_underrun(remote_daemon: tuple[Daemon, int, Path],  # noqa: F811
                                                                tmp_path: Path) -> None:
    daemon, port, _ = remote_daemon
    token = Devices(tmp_path / "home" / "data" / "voiceguide" / "remote").add_token("load test")
    started = daemon.ctl("start", "demo")
    assert started.returncode == 0, started.stderr
    daemon.wait_for("playing on")
    failures: list[str] = []
    counter = iter(range(400))

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"vg_remote": token}, timeout=30) as c:
            for n in counter:
                reply = c.get(PAGES[n % len(PAGES)])
                if reply.status_code != 200:
                    failures.append(f"{PAGES[n % len(PAGES)]}: {reply.status_code}")

    threads = [threading.Thread(target=client) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    time.sleep(1.0)
    assert daemon.ctl("stop").returncode == 0
    daemon.wait_for("stopped demo")
    time.sleep(0.5)
    assert not any("ran dry" in line for line in daemon.log), "".join(daemon.log)
