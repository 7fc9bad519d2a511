"""Benchmark the phone remote: the daemon's memory and idle CPU with and without it, and a load test.

``python -m benchmarks.remote [--requests 2000] [--clients 20]`` (``tools/bench remote``) needs a
running PulseAudio server; the daemon plays into a null sink of its own. It starts ``voiceguide daemon``
(fake voice) in temporary user folders twice: without ``[remote]`` and with it on 127.0.0.1. The load
test sends ``--requests`` GETs of the main pages and the status API from ``--clients`` concurrent clients
on loopback while a session plays, and reads the daemon's log for underruns. Memory, CPU and threads are
those of the daemon and its child processes together (the remote runs in a child since issue 18).
Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .daemon import Running, fake_voice_daemon, free_port, idle, rss_mb

PAGES = ("/", "/api/status", "/journal", "/mood?by=day", "/schedule", "/sessions", "/static/remote.css",
         "/journal/1")
"""What the load test asks for, in turn."""


@contextmanager
def daemon(folder: Path, remote_port: int | None) -> Iterator[Running]:
    """The daemon with the fake voice on the default (private) sink, in user folders under ``folder``."""
    with fake_voice_daemon(folder, f"[remote]\nport = {remote_port}\n" if remote_port is not None else "") as running:
        yield running


def _seed(folder: Path) -> str:
    """A journal of 60 entries over 30 days, and a device token for the load clients."""
    from voiceguide.journal.db import JOURNAL_FILE, Journal
    from voiceguide.remote.devices import Devices

    journal = Journal(folder / "data" / "voiceguide" / JOURNAL_FILE)
    for day in range(30):
        when = f"2026-11-{day + 1:02d}T21:00:00+01:00"
        journal.add("What helped today?", transcript=f"A slow walk, day {day}.", time=when)
        journal.add("How do you feel, from 0 to 10?", "rating", transcript=str(3 + day % 6), time=when)
    journal.close()
    return Devices(folder / "data" / "voiceguide" / "remote").add_token("bench")


def _load(port: int, token: str, requests: int, clients: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"vg_remote": token}, timeout=30) as c:
            for n in counter:
                start = time.perf_counter()
                try:
                    reply = c.get(PAGES[n % len(PAGES)])
                    ok = reply.status_code == 200
                except httpx.HTTPError as exc:
                    ok, reply = False, None
                    errors.append(repr(exc))
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    if not ok and reply is not None:
                        errors.append(f"{PAGES[n % len(PAGES)]}: {reply.status_code}")

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    ms = sorted(x * 1000 for x in latencies)
    return {"requests": len(ms), "clients": clients, "errors": len(errors), "first_errors": errors[:5],
            "seconds": round(wall, 2), "per_second": round(len(ms) / wall, 1),
            "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1),
            "max_ms": round(ms[-1], 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.remote", description=__doc__)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    from .onsets import private_sink

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, private_sink(f"vg_remote_bench_{os.getpid()}"):
        folder = Path(tmp)
        token = _seed(folder)
        with daemon(folder, None) as plain:
            result["without_remote"] = idle(plain)
        port = free_port()
        with daemon(folder, port) as running:
            running.wait_for("phone remote on")
            result["with_remote_started"] = idle(running)
            import httpx

            with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"vg_remote": token}) as c:
                for page in PAGES:
                    c.get(page).raise_for_status()
            result["with_remote_after_pages"] = idle(running)
            print(running.ctl("start", "coherent", "--minutes", "10").strip(), file=sys.stderr)
            running.wait_for("playing on")
            time.sleep(2.0)
            playing_rss = round(rss_mb(running.proc.pid), 1)
            result["load"] = _load(port, token, args.requests, args.clients)
            result["load"]["rss_mb_playing_before"] = playing_rss
            result["load"]["rss_mb_after"] = round(rss_mb(running.proc.pid), 1)
            print(running.ctl("stop").strip(), file=sys.stderr)
            running.wait_for("stopped coherent")
            time.sleep(1.0)
            dry = [int(m[1]) for line in running.log if (m := re.search(r"ran dry (\d+) time", line))]
            result["load"]["underruns"] = sum(dry)
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    load = result["load"]
    return 0 if load["errors"] == 0 and load["underruns"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
