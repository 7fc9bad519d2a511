"""Benchmark the daemon under attack from the network: audio underruns and ``ctl`` latency while the phone
remote is flooded, against a control run without attack measured the same way.

``python -m benchmarks.attack [--seconds 20]`` (``tools/bench attack``) needs a running PulseAudio server;
the daemon plays into a null sink of its own. The daemon (and so the remote's child process) runs pinned
to CPU 0 (``sched_setaffinity``, what ``taskset -c 0`` does) with an open-file limit of 1024, soft and
hard, as a stand-in for a Raspberry Pi. For each scenario a session plays (``coherent``, fake voice) while,
for ``--seconds``:

- ``control``: nothing else happens;
- ``idle``: 1100 TCP connections to the remote's port that send nothing;
- ``slowloris``: 200 clients that each send a request head a few bytes a second, and open a new connection
  whenever theirs is closed;
- ``load``: 2000 GETs of the main pages from 20 paired clients (as many as fit the time, then stop).

Meanwhile ``ctl status`` is asked every 0.25 s over the control socket (its round trip is the latency) and
the owner's phone asks for ``/api/status`` every second. The session is then stopped and the daemon's log
read for underruns ("ran dry"). Everything targets loopback. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .daemon import Running, fake_voice_config, folders_env, free_port
from .remote import PAGES, _seed

PI_FILES = 1024
CTL_EVERY = 0.25
PHONE_EVERY = 1.0
SCENARIOS = ("control", "idle", "slowloris", "load")


def _pinned() -> None:
    os.sched_setaffinity(0, {0})
    resource.setrlimit(resource.RLIMIT_NOFILE, (PI_FILES, PI_FILES))
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def pinned_daemon(folder: Path, port: int) -> Iterator[Running]:
    """The daemon (fake voice, remote on ``port``) on CPU 0 with 1024 open files; terminated at the end."""
    path = folder / "config" / "voiceguide" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (folder / "run").mkdir(mode=0o700, exist_ok=True)
    path.write_text(fake_voice_config(folder, f"[remote]\nport = {port}\n"), encoding="utf-8")
    env = folders_env(folder)
    proc = subprocess.Popen([sys.executable, "-m", "voiceguide", "daemon"], env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=_pinned, start_new_session=True)
    running = Running(proc, env)
    try:
        running.wait_for("ready")
        running.wait_for("phone remote on")
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # a remote child left behind


def _summary(ms: list[float]) -> dict[str, Any]:
    if not ms:
        return {"count": 0}
    ms = sorted(ms)
    return {"count": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1), "max_ms": round(ms[-1], 1)}


def _probe_ctl(socket_path: Path, stop: threading.Event, out: dict[str, Any]) -> None:
    from voiceguide.daemon.ctl_socket import request
    from voiceguide.errors import DaemonError

    ms: list[float] = []
    failures: list[str] = []
    while not stop.wait(CTL_EVERY):
        began = time.perf_counter()
        try:
            reply = request({"command": "status"}, socket_path, timeout=10.0)
            if reply.get("ok"):
                ms.append(1000 * (time.perf_counter() - began))
            else:
                failures.append(str(reply))
        except DaemonError as exc:
            failures.append(str(exc))
    out.update(_summary(ms), failures=len(failures), first_failures=failures[:3])


def _probe_phone(port: int, token: str, stop: threading.Event, out: dict[str, Any]) -> None:
    import httpx

    ms: list[float] = []
    failures: list[str] = []
    while not stop.wait(PHONE_EVERY):
        began = time.perf_counter()
        try:
            with httpx.Client(cookies={"vg_remote": token}, timeout=10) as c:  # a fresh connection each time
                status = c.get(f"http://127.0.0.1:{port}/api/status").status_code
            if status == 200:
                ms.append(1000 * (time.perf_counter() - began))
            else:
                failures.append(str(status))
        except httpx.HTTPError as exc:
            failures.append(type(exc).__name__)
    out.update(_summary(ms), failures=len(failures), first_failures=failures[:3])


def _idle(port: int, stop: threading.Event, out: dict[str, Any]) -> None:
    socks = []
    for _ in range(1100):
        s = socket.socket()
        s.setblocking(False)
        code = s.connect_ex(("127.0.0.1", port))
        if code not in (0, errno.EINPROGRESS):
            out["refused"] = out.get("refused", 0) + 1
        socks.append(s)
    out["opened"] = len(socks)
    stop.wait()
    for s in socks:
        s.close()


def _slowloris(port: int, stop: threading.Event, out: dict[str, Any]) -> None:
    head = b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: " + b"b" * 4000
    conns: dict[int, tuple[socket.socket, int]] = {}
    opened = closed = 0

    def connect(n: int) -> None:
        nonlocal opened
        s = socket.socket()
        s.settimeout(2.0)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            return
        s.setblocking(False)
        conns[n] = (s, 0)
        opened += 1

    for n in range(200):
        connect(n)
    while not stop.wait(1.0):
        for n in range(200):
            if n not in conns:
                connect(n)
                continue
            s, sent = conns[n]
            try:
                s.send(head[sent:sent + 3])
                conns[n] = (s, min(sent + 3, len(head) - 3))
            except OSError:
                s.close()
                del conns[n]
                closed += 1
    for s, _ in conns.values():
        s.close()
    out.update(connections_opened=opened, closed_by_server=closed)


def _load(port: int, token: str, stop: threading.Event, out: dict[str, Any]) -> None:
    import httpx

    counter = iter(range(2000))
    ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"vg_remote": token}, timeout=30) as c:
            for n in counter:
                if stop.is_set():
                    return
                began = time.perf_counter()
                try:
                    code = c.get(PAGES[n % len(PAGES)]).status_code
                except httpx.HTTPError as exc:
                    code = type(exc).__name__  # type: ignore[assignment]
                with lock:
                    ms.append(1000 * (time.perf_counter() - began))
                    if code != 200:
                        errors.append(str(code))

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.update(_summary(ms), errors=len(errors), first_errors=errors[:3],
               seconds=round(time.perf_counter() - began, 1))
    stop.wait()


ATTACKS: dict[str, Callable[..., None]] = {"idle": _idle, "slowloris": _slowloris, "load": _load}


def scenario(name: str, number: int, running: Running, port: int, token: str, seconds: float) -> dict[str, Any]:
    """One scenario (the ``number``-th of the run) while a session plays: its figures."""
    result: dict[str, Any] = {"ctl": {}, "phone": {}, "attack": {}}
    socket_path = Path(running.env["XDG_RUNTIME_DIR"]) / "voiceguide" / "ctl.sock"
    print(running.ctl("start", "coherent", "--minutes", "10").strip(), file=sys.stderr)
    running.wait_for("playing coherent", count=number)
    time.sleep(2.0)
    stop, done = threading.Event(), threading.Event()
    threads = [threading.Thread(target=_probe_ctl, args=(socket_path, done, result["ctl"])),
               threading.Thread(target=_probe_phone, args=(port, token, done, result["phone"]))]
    if name in ATTACKS:
        extra = (token,) if name == "load" else ()
        threads.append(threading.Thread(target=ATTACKS[name], args=(port, *extra, stop, result["attack"])))
    for t in threads:
        t.start()
    time.sleep(seconds)
    done.set()
    stop.set()
    for t in threads:
        t.join(60)
    result["daemon_open_files_after"] = len(os.listdir(f"/proc/{running.proc.pid}/fd"))
    stopped = running.ctl("stop").strip()
    print(stopped, file=sys.stderr)
    result["stopped"] = stopped.startswith("stopping")
    if not result["stopped"]:  # the daemon no longer answers: nothing more can be measured with it
        return result
    running.wait_for("stopped coherent", count=number)
    time.sleep(1.0)
    dry = [int(m[1]) for line in running.log if (m := re.search(r"ran dry (\d+) time", line))]
    result["underruns_so_far"] = sum(dry)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.attack", description=__doc__)
    p.add_argument("--seconds", type=float, default=20.0, help="length of each scenario (default 20)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS),
                   help="which scenarios to run, in order (default: all)")
    args = p.parse_args(argv)
    from .onsets import private_sink

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))  # for our own 1100 sockets
    result: dict[str, Any] = {"load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp, private_sink(f"vg_attack_bench_{os.getpid()}"):
        folder = Path(tmp)
        token = _seed(folder)
        port = free_port()
        with pinned_daemon(folder, port) as running:
            underruns = 0
            for number, name in enumerate(args.scenarios, start=1):
                figures = scenario(name, number, running, port, token, args.seconds)
                if "underruns_so_far" in figures:
                    total = figures.pop("underruns_so_far")
                    figures["underruns"], underruns = total - underruns, total
                result[name] = figures
                print(name, json.dumps(figures), file=sys.stderr)
                if not figures["stopped"]:
                    print(f"bench: the daemon stopped answering in '{name}'; the rest is not run", file=sys.stderr)
                    break
            result["daemon_alive"] = running.proc.poll() is None
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0 if all(n in result and result[n]["ctl"].get("failures", 1) == 0 for n in args.scenarios) else 1


if __name__ == "__main__":
    sys.exit(main())
