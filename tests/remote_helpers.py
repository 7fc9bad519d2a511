"""The phone remote's app in a test client, with a fake daemon link, a temporary config and journal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from starlette.testclient import TestClient

from voiceguide.daemon.config import Remote
from voiceguide.journal.db import JOURNAL_FILE, Journal
from voiceguide.remote.attempts import Attempts
from voiceguide.remote.context import Context
from voiceguide.remote.devices import Devices
from voiceguide.remote.guard import COOKIE
from voiceguide.remote.link import Link
from voiceguide.remote.site import create_app
from voiceguide.seams import Clip

ORIGIN = "http://testserver"
CONFIG = """# my bedside speaker
[audio]
output = "pulse"   # the speaker on the USB card

# sleep, every night
[[schedule]]
session = "bedtime"
at = "22:30"
days = "daily"
"""


@dataclass
class FakeDaemon:
    """Answers ctl messages like the daemon would, and remembers them."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    state: str = "idle"
    volume: float = 0.8

    def __call__(self, message: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(message)
        command = message["command"]
        if command == "status":
            if self.state == "idle":
                return {"ok": True, "state": "idle", "volume": self.volume}
            return {"ok": True, "state": self.state, "session": "demo", "seconds": 60.0, "position": 12.0,
                    "step": 2, "steps": 5}
        if command == "start":
            self.state = "playing"
            return {"ok": True, "session": message["session"], "seconds": 60.0}
        if command == "volume":
            self.volume = message["level"]
            return {"ok": True, "volume": self.volume}
        if command == "reload":
            return {"ok": True, "schedule": 1}
        if command == "stop":
            self.state = "idle"
        return {"ok": True, "state": self.state, "session": "demo"}


@dataclass
class Remote_:
    """Everything a test needs."""

    client: TestClient
    ctx: Context
    daemon: FakeDaemon
    config: Path

    def pair(self) -> str:
        """Pair the client with a fresh code; returns the device token."""
        code = self.ctx.devices.new_code()
        page = self.client.get("/pair")
        pre = re.search(r'action="/pair\?csrf=([^"]+)"', page.text)
        assert pre is not None
        reply = self.client.post(f"/pair?csrf={pre[1]}", data={"code": code, "name": "test phone"},
                                 headers={"Origin": ORIGIN}, follow_redirects=False)
        assert reply.status_code == 303, reply.text
        token = self.client.cookies.get(COOKIE)
        assert token
        return token

    def csrf(self, path: str = "/") -> str:
        """The CSRF token printed into a page."""
        found = re.search(r'csrf=([0-9a-f]{32})', self.client.get(path).text)
        assert found is not None
        return found[1]

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """A form POST the way the page sends it (Origin and CSRF)."""
        sep = "&" if "?" in path else "?"
        return self.client.post(f"{path}{sep}csrf={self.csrf()}", data=data, headers={"Origin": ORIGIN},
                                follow_redirects=False, **kwargs)


def seed_journal(folder: Path) -> Journal:
    """A journal with a reflection (with a recording) and ratings over several days."""
    journal = Journal(folder / JOURNAL_FILE)
    tone = (0.2 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000)).astype(np.float32)
    journal.add("What helped today?", transcript="The walk by the river.", session_id="reflection",
                session_title="Reflection", audio=Clip(tone, 16000), time="2026-11-20T21:00:00+01:00")
    for day, rating in (("2026-11-20", 4), ("2026-11-21", 6), ("2026-11-23", 7), ("2026-11-30", 8)):
        journal.add("How do you feel, from 0 to 10?", "rating", transcript=str(rating), rating=rating,
                    session_id="reflection", session_title="Reflection", time=f"{day}T21:05:00+01:00")
    return journal


def make_remote(tmp_path: Path, journal: bool = True) -> Remote_:
    """The app over a temporary config, journal and devices folder."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    folder = tmp_path / "journal"
    seed_journal(folder).close()
    daemon = FakeDaemon()
    ctx = Context(Remote(journal=journal), config, folder, Link(daemon), Devices(tmp_path / "remote"), Attempts(),
                  None, doctor=lambda: [], names=("testserver",))
    client = TestClient(create_app(ctx), base_url=ORIGIN)
    return Remote_(client, ctx, daemon, config)
