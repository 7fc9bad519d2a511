"""The phone remote in a real browser (Debian's Chromium driven by Playwright) at a phone's size, against
a real ``voiceguide daemon`` playing into the null sink: pair with a code, start a session and hear its
first bell, pause it, turn it down and stop it, add a schedule entry, upload a broken script, open a journal
entry and play its recording, see the mood chart of a seeded journal, delete an entry.

``VOICEGUIDE_SCREENSHOTS=docs`` also writes the screenshots into docs/ (for README).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .audio_helpers import REPO, Pulse, global_lag, local_lag, read_wav, run_voiceguide, timeline_starts
from .test_daemon_live import Daemon, running_daemon

pytestmark = pytest.mark.audio
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but {CHROMIUM} is missing (apt-get install chromium; tools/test does it)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


@pytest.fixture
def remote_daemon(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> Iterator[tuple[Daemon, int, Path]]:
    from tests.remote_helpers import seed_journal

    port = _free_port()
    seed_journal(tmp_path / "home" / "data" / "voiceguide").close()
    extra = f"\n# the phone remote, on this device only\n[remote]\nport = {port}\n"
    with running_daemon(pulse, tmp_path, speech_cache, config=extra) as d:
        d.wait_for("phone remote on")
        yield d, port, tmp_path / "home" / "config" / "voiceguide" / "config.toml"


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"remote-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("VOICEGUIDE_SCREENSHOTS") == "docs":
        shutil.copy(path, REPO / "docs" / path.name)


def _shown(page: Any, selector: str, expected: str) -> str:
    """What ``selector`` shows once the page's poll has caught up (at most 5 s), as read on the screen.

    The daemon logs a change before the page's next poll shows it, and CSS may capitalise what is shown
    (Chromium's innerText applies ``text-transform``): wait for the text itself, return what is seen."""
    from playwright.sync_api import TimeoutError as PageTimeout

    with contextlib.suppress(PageTimeout):  # the caller's assertion says what was shown instead
        page.wait_for_function("([s, t]) => document.querySelector(s)?.textContent.trim() === t",
                               arg=[selector, expected], timeout=5000)
    return str(page.inner_text(selector)).strip().lower()


def _first_bell_score(recording: Path, tmp_path: Path, speech_cache: Path) -> float:
    wav, timeline = tmp_path / "ref.wav", tmp_path / "ref.json"
    done = run_voiceguide("render", "demo", "--tts", "fake", "--cache-dir", speech_cache, "-o", wav,
                          "--timeline", timeline)
    assert done.returncode == 0, done.stderr
    reference, live = read_wav(wav), read_wav(recording)
    first = timeline_starts(timeline)[0]
    lag = global_lag(live, reference[:len(live)])
    return local_lag(live, reference, first, lag, 2400)[1]


def test_phone_remote_end_to_end(remote_daemon: tuple[Daemon, int, Path], browser: Any, pulse: Pulse,
                                 tmp_path: Path, speech_cache: Path) -> None:
    daemon, port, config = remote_daemon
    base = f"http://127.0.0.1:{port}"
    page = browser.new_page(viewport=PHONE)

    # pairing: nothing without it
    page.goto(base + "/")
    assert page.url == base + "/pair"
    paired = run_voiceguide("remote", "pair", "--no-qr", env=daemon.env)
    code = re.search(r"pairing code: (\d{6})", paired.stdout)
    assert code is not None, paired.stdout + paired.stderr
    page.fill("input[name=code]", "000000" if code[1] != "000000" else "111111")
    page.click("button:has-text('Pair')")
    assert "not right" in page.inner_text("main"), page.content()
    _shot(page, tmp_path, "pair")
    page.fill("input[name=code]", code[1])
    page.fill("input[name=name]", "bedside phone")
    page.click("button:has-text('Pair')")
    assert page.url == base + "/"
    assert "bedside phone" in run_voiceguide("remote", "devices", env=daemon.env).stdout

    # start a session and hear it, pause, stop
    recording = tmp_path / "remote.wav"
    with pulse.record(recording):
        time.sleep(3.0)  # the monitor records nothing for its first 1-2 s
        page.select_option("#session", "demo")
        page.click("button.start")
        daemon.wait_for("playing on")
        time.sleep(3.0)  # the bell rings out
        page.goto(base + "/")
        assert page.inner_text("#np-session") == "A one-minute pause"  # the demo's title, not its id
        _shot(page, tmp_path, "now")
        page.click("button.pause")
        daemon.wait_for("pausing demo")
        assert _shown(page, "#np-state", "paused") == "paused"
        page.click("button.quieter")
        daemon.wait_for("volume 0.90")
        assert _shown(page, "#np-volume", "90 %") == "90 %"
        page.click("button.stop")
        daemon.wait_for("stopped demo")
        time.sleep(0.5)
    assert _first_bell_score(recording, tmp_path, speech_cache) > 0.8, "the first bell is not in the recording"

    # a schedule entry, written to the file with its comments kept, taken up by the daemon
    page.goto(base + "/schedule")
    form = page.locator("#add")
    form.locator("select[name=session]").select_option("box")
    form.locator("input[name=at]").fill("07:15")
    form.locator("select[name=days]").select_option("weekdays")
    form.locator("button").click()
    assert "The daemon uses it now" in page.inner_text("main")
    text = config.read_text()
    assert "# the phone remote, on this device only" in text and 'session = "box"' in text
    daemon.wait_for("reloaded the schedule (1 entries)")
    _shot(page, tmp_path, "schedule")

    # a broken script shows its located problem
    page.goto(base + "/sessions")
    page.fill("textarea[name=text]",
              '[session]\ntitle = "Mine"\n[[step]]\nsay = "Hello."\n[[step]]\nbreathe = "boxx"\n')
    page.fill("input[name=name]", "mine")
    page.click("button:has-text('Check and save')")
    problems = page.inner_text("#problems")
    assert "step 2" in problems, problems
    _shot(page, tmp_path, "sessions")

    # the journal: an entry and its recording, played by the page on request
    page.goto(base + "/journal")
    assert "The walk by the river." in page.inner_text("main")
    _shot(page, tmp_path, "journal")
    page.click("text=The walk by the river.")
    page.wait_for_selector("#recording", state="attached", timeout=30000)  # the entry's page, once it has loaded
    page.evaluate("document.getElementById('recording').play()")
    deadline = time.monotonic() + 10  # polled from here: the page's CSP forbids wait_for_function's eval
    while page.evaluate("document.getElementById('recording').currentTime") < 0.2:
        assert time.monotonic() < deadline, "the recording did not play"
        time.sleep(0.1)
    assert page.evaluate("document.getElementById('recording').error") is None
    _shot(page, tmp_path, "entry")

    # the mood chart of the seeded ratings
    page.goto(base + "/mood?by=day")
    assert page.locator("#mood-chart circle.point").count() == 4
    _shot(page, tmp_path, "mood")

    # delete, with a confirmation
    page.goto(base + "/journal/1")
    page.click("text=Delete…")
    page.click("#confirm-delete")
    assert "The walk by the river." not in page.inner_text("main")
    assert page.goto(base + "/journal/1").status == 404
