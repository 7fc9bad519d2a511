"""Using the phone remote while a session plays: many requests from several clients on loopback bring no error,
and do not make the playing daemon run dry (the timed load run with its latency figures is the benchmark,
tools/bench remote).

Underruns are judged against a control played AT THE SAME TIME, not against zero and not one after the other:
on this 2-core machine, shared with other work, a session can run dry now and then with no request at all, and
400 requests take CPU time that any audio on the machine then lacks. The product's promise is narrower: serving
the remote (in its own process, asking the daemon through the control socket) must not hold the playing process
back. So two daemons, alike (each with its remote, each warmed up by one start and stop and every page fetched
once), play the same session side by side into the same sink while the 400 requests go to one of them: a busy
machine, and the requests' own CPU time, weigh on both; only what serving them does to the daemon asked falls on
it alone. The counts are judged as rare random events, with the sign test of the MQTT tests (:data:`ALPHA`).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest

from voiceguide.remote.devices import Devices

from .audio_helpers import Pulse, chance_of_as_many
from .test_daemon_live import Daemon, running_daemon
from .test_remote_browser import _free_port

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
ALPHA = 0.01
"""How unlikely the asked daemon's share of the two daemons' underruns must be, were serving the remote harmless,
for the test to fail (0/7, 1/10 fail; 0/6, 1/9 pass): see ``chance_of_as_many``."""
LOST_RATIO, LOST_FLOOR = 4.0, 2000.0
"""... and the milliseconds its output lost may be at most ``LOST_RATIO`` times the control's plus
``LOST_FLOOR`` ms: one long stall counts as one underrun, so the counts alone missed a daemon held back for
seconds at a time. Measured 2026-12-07/08 (control / asked, underruns and ms lost), 8 runs at load 5-14 from
other work, the last 3 with a busy loop beside: 2 (1718) / 1 (1632), 0 / 0, 0 / 2 (7), 3 (3492) / 2 (3542),
0 / 1 (35); busy 0 / 0 three times. Broken on purpose (``ctl status`` in the daemon holding the interpreter
lock for about 0.45 s, ``re.match(r"(a+)+b", "a" * 22)``): 9 (5559 ms) / 7 (71849 ms), caught by the time lost
only; with 0.9 s holds (n=23) the counts were 4 / 3."""
DRY = re.compile(r"the output ran dry (\d+) time\(s\), ([\d.]+) ms in all")


class Side:
    """One of the two daemons, with its remote's port and a token for it."""

    def __init__(self, daemon: Daemon, port: int, token: str) -> None:
        self.daemon, self.port, self.token = daemon, port, token
        self.since = 0

    def get(self, pages: Iterable[str], failures: list[str]) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", cookies={"vg_remote": self.token},
                          timeout=60) as c:
            for page in pages:
                reply = c.get(page)
                if reply.status_code != 200:
                    failures.append(f"{page}: {reply.status_code}")

    def start(self, script: Path) -> None:
        self.since = len(self.daemon.log)
        started = self.daemon.ctl("start", str(script))
        assert started.returncode == 0, started.stderr

    def wait(self, text: str, timeout: float = 60) -> None:
        """Until this run's log has a line with ``text``."""
        before = sum(text in line for line in self.daemon.log[:self.since])
        self.daemon.wait_for(text, count=before + 1, timeout=timeout)

    def underruns(self) -> tuple[int, float]:
        """This run's underruns and the milliseconds the output lost in them."""
        found = [m for m in (DRY.search(line) for line in self.daemon.log[self.since:]) if m]
        return sum(int(m.group(1)) for m in found), sum(float(m.group(2)) for m in found)

    def log(self) -> str:
        return "".join(self.daemon.log[self.since:])


@contextlib.contextmanager
def two_daemons(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> Iterator[tuple[Side, Side]]:
    """The control and the asked daemon, each with its phone remote and a seeded journal, warmed up."""
    from tests.remote_helpers import seed_journal

    with contextlib.ExitStack() as stack:
        sides = []
        for name in ("control", "asked"):
            folder = tmp_path / name
            data = folder / "home" / "data" / "voiceguide"
            seed_journal(data).close()
            port = _free_port()
            daemon = stack.enter_context(running_daemon(pulse, folder, speech_cache,
                                                        config=f"\n[remote]\nport = {port}\n"))
            daemon.wait_for("phone remote on")
            sides.append(Side(daemon, port, Devices(data / "remote").add_token("load test")))
        script = tmp_path / "load.toml"
        script.write_text(SESSION, encoding="utf-8")
        failures: list[str] = []
        for side in sides:  # the catalog, the journal and the templates are loaded once; the output opened once
            side.get(PAGES, failures)
            side.start(script)
            side.wait("playing on")
            assert side.daemon.ctl("stop").returncode == 0
            side.wait("stopped")
        assert failures == []
        yield sides[0], sides[1]


def test_requests_while_playing_bring_no_error_and_no_more_underruns(pulse: Pulse, tmp_path: Path,
                                                                     speech_cache: Path) -> None:
    with two_daemons(pulse, tmp_path, speech_cache) as (control, asked):
        script = tmp_path / "load.toml"
        control.start(script)
        asked.start(script)
        control.wait("playing on")
        asked.wait("playing on")
        time.sleep(2.0)  # past the new streams' first blocks (the same for both)
        failures: list[str] = []
        pages = (PAGES[n % len(PAGES)] for n in range(REQUESTS))
        lock = threading.Lock()

        def client() -> None:
            def next_page() -> Iterator[str]:
                while True:
                    with lock:
                        page = next(pages, None)
                    if page is None:
                        return
                    yield page

            asked.get(next_page(), failures)

        began = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        served = time.monotonic() - began
        for side in (control, asked):
            side.wait("finished", timeout=90)
        assert failures == []
        (calm, calm_ms), (dry, dry_ms) = control.underruns(), asked.underruns()
        print(f"underruns side by side with {REQUESTS} requests in {served:.1f} s: control {calm} ({calm_ms:.0f} ms "
              f"lost), the daemon asked {dry} ({dry_ms:.0f} ms lost)")
        assert dry_ms <= LOST_RATIO * calm_ms + LOST_FLOOR, \
            f"the daemon whose remote served {REQUESTS} requests lost {dry_ms:.0f} ms of output, the control " \
            f"{calm_ms:.0f} ms at the same time\ncontrol:\n{control.log()}\nasked:\n{asked.log()}"
        chance = chance_of_as_many(calm, dry)
        assert chance >= ALPHA, \
            f"the output ran dry {dry} time(s) in the daemon whose remote served {REQUESTS} requests, {calm} in " \
            f"the control at the same time (chance {chance:.4f} if both were alike)\ncontrol:\n{control.log()}" \
            f"\nasked:\n{asked.log()}"
