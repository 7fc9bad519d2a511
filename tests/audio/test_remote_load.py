"""Using the phone remote while a session plays: many requests from several clients on loopback bring no error,
and no more underruns than the same requests sent to another daemon's remote (the timed load run with its
latency figures is the benchmark, tools/bench remote).

Underruns are judged against a control, not against zero: on this 2-core machine, shared with other work, a
session can run dry now and then with no request at all, and 400 requests take CPU time that the audio then
lacks wherever they are served (measured: 4 underruns under load against 1 without, the product unchanged).
The product's promise is narrower: serving the remote must not hold the playing process back. So the session
plays twice in the same daemon, after a warm-up (every page fetched once, so the catalog and the templates are
loaded; the requests begin 2 s after the stream starts, past a new stream's uneven first blocks): once while the
400 requests go to a second daemon's remote (the control: the same work on the same machine, in another
process), once while they go to the playing daemon's own. The second may run dry at most :data:`ALLOWANCE`
times more than the first.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from voiceguide.remote.devices import Devices

from .audio_helpers import Pulse
from .test_daemon_live import Daemon, running_daemon
from .test_remote_browser import _free_port, remote_daemon  # noqa: F401  (the fixture)

pytestmark = pytest.mark.audio
PAGES = ("/", "/api/status", "/journal", "/mood?by=week", "/schedule", "/static/remote.css")
REQUESTS = 400
SESSION = """[session]
title = "Load"
[[step]]
chime = "bell"
[[step]]
pause = 2
[[step]]
say = "A line to keep the voice sounding while the requests come in, and then a little more of it."
[[step]]
pause = 2
[[step]]
chime = "bell"
[[step]]
pause = 2
"""
"""About 16 s of sound and pauses (fake voice): long enough for the 400 requests (3-8 s measured)."""
ALLOWANCE = 1
"""Underruns the session may have beyond the control's. Measured 2026-12-07 (2 cores shared with other lanes,
load 3-11): with the requests served elsewhere and by the playing daemon, 0 and 0 in 3 of 3 runs; with handlers
of /api/status and /journal broken on purpose to hold the interpreter lock for 0.3 s each, 0 and 2 (twice).
Against a control without any requests (the first design) the product unchanged had 0/0, 1/2, 1/4 and 0/1."""


def _session(daemon: Daemon, script: Path, port: int, token: str) -> tuple[int, list[str]]:
    """Play ``script`` to its end in ``daemon`` with the requests sent to the remote on ``port``; its underruns,
    and any failed request."""
    before = len(daemon.log)
    started = daemon.ctl("start", str(script))
    assert started.returncode == 0, started.stderr
    done = sum("finished" in line for line in daemon.log)
    daemon.wait_for("playing on", count=sum("playing on" in line for line in daemon.log[:before]) + 1)
    failures: list[str] = []
    time.sleep(2.0)  # past the new stream's first blocks
    counter = iter(range(REQUESTS))

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
    daemon.wait_for("finished", count=done + 1)
    found = [re.search(r"the output ran dry (\d+) time", line) for line in daemon.log[before:]]
    return sum(int(m.group(1)) for m in found if m), failures


@pytest.fixture
def other_remote(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> Iterator[tuple[int, str]]:
    """A second daemon with its remote (nothing plays in it): its port and a token for it."""
    from tests.remote_helpers import seed_journal

    folder = tmp_path / "other"
    seed_journal(folder / "home" / "data" / "voiceguide").close()
    port = _free_port()
    with running_daemon(pulse, folder, speech_cache, config=f"\n[remote]\nport = {port}\n") as d:
        d.wait_for("phone remote on")
        yield port, Devices(folder / "home" / "data" / "voiceguide" / "remote").add_token("control")


def _warm(port: int, token: str) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"vg_remote": token}, timeout=30) as c:
        for page in PAGES:  # the catalog, the journal and the templates are loaded once
            assert c.get(page).status_code == 200, page


def test_requests_while_playing_bring_no_error_and_no_more_underruns(
        remote_daemon: tuple[Daemon, int, Path], other_remote: tuple[int, str], tmp_path: Path) -> None:  # noqa: F811
    daemon, port, _ = remote_daemon
    token = Devices(tmp_path / "home" / "data" / "voiceguide" / "remote").add_token("load test")
    script = tmp_path / "load.toml"
    script.write_text(SESSION, encoding="utf-8")
    _warm(port, token)
    _warm(*other_remote)
    control, failures = _session(daemon, script, *other_remote)
    assert failures == []
    loaded, failures = _session(daemon, script, port, token)
    assert failures == []
    assert loaded <= control + ALLOWANCE, \
        f"{loaded} underruns with the requests served by the playing daemon, {control} with them served by " \
        f"another\n{''.join(daemon.log)}"
    print(f"underruns with {REQUESTS} requests: served elsewhere {control}, by the playing daemon {loaded}")
