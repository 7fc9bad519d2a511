"""A ``voiceguide daemon`` run by a benchmark: in user folders of its own, playing into the PulseAudio
server's default sink (a benchmark points ``PULSE_SINK`` at a private null sink first), with its log kept.
Used by ``benchmarks.remote``, ``benchmarks.mqtt``, ``benchmarks.attack``, ``benchmarks.startup`` and
``benchmarks.voices``; also how a daemon's memory and idle CPU are read (with its child processes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Running:
    """A ``voiceguide daemon`` subprocess and its log."""

    def __init__(self, proc: subprocess.Popen[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.proc, self.env, self.cwd = proc, env, cwd
        self.log: list[str] = []
        """The daemon's stderr (its log), line by line as it came."""
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.log.append(line)
                self._seen.notify_all()

    def wait_for(self, text: str, timeout: float = 60.0, count: int = 1) -> None:
        """Until ``text`` has appeared in ``count`` lines of the log; exits the benchmark after ``timeout`` s."""
        with self._seen:
            if not self._seen.wait_for(lambda: sum(text in line for line in self.log) >= count, timeout):
                raise SystemExit(f"bench: the daemon did not log {text!r} (x{count}):\n{''.join(self.log)}")

    def ctl(self, *args: str) -> str:
        """``voiceguide ctl ARGS`` for this daemon: what it printed."""
        done = subprocess.run([sys.executable, "-m", "voiceguide", "ctl", *args], env=self.env, cwd=self.cwd,
                              capture_output=True, text=True, timeout=200, check=False)
        return done.stdout + done.stderr


@contextmanager
def daemon(folder: Path, config: str, env: dict[str, str], cwd: Path | None = None) -> Iterator[Running]:
    """``voiceguide daemon`` with ``config`` as its config file, under ``folder`` (``config/voiceguide``, a
    0700 ``run`` folder) and the environment ``env`` (which must point the XDG folders there), started in
    ``cwd``; once it has logged "ready". Terminated at the end (killed after 10 s)."""
    path = folder / "config" / "voiceguide" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (folder / "run").mkdir(mode=0o700, exist_ok=True)
    path.write_text(config, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "voiceguide", "daemon"], env=env, text=True, cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    running = Running(proc, env, cwd)
    try:
        running.wait_for("ready")
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pulse_server() -> str:
    """The running PulseAudio server's address (a private XDG_RUNTIME_DIR would hide its default socket)."""
    if os.environ.get("PULSE_SERVER"):
        return os.environ["PULSE_SERVER"]
    info = subprocess.run(["pactl", "info"], capture_output=True, text=True, check=True).stdout
    server = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Server String:"))
    return f"unix:{server}" if server.startswith("/") else server


IDLE_SECONDS = 30.0
"""How long idle CPU is measured."""


def fake_voice_config(folder: Path, extra: str = "") -> str:
    """The config of a benchmarked daemon: the pulse output, the fake voice with its cache under ``folder``,
    then ``extra`` (a table such as ``[remote]``)."""
    return f'[audio]\noutput = "pulse"\n[speech]\ntts = "fake"\ncache_dir = "{folder / "speech"}"\n' + extra


def folders_env(folder: Path) -> dict[str, str]:
    """This environment with the XDG config, runtime, data and cache folders under ``folder``, and the running
    PulseAudio server named (a private runtime folder would hide its socket)."""
    return dict(os.environ, XDG_CONFIG_HOME=str(folder / "config"), XDG_RUNTIME_DIR=str(folder / "run"),
                XDG_DATA_HOME=str(folder / "data"), XDG_CACHE_HOME=str(folder / "cache"), PULSE_SERVER=pulse_server())


@contextmanager
def fake_voice_daemon(folder: Path, extra: str = "") -> Iterator[Running]:
    """:func:`daemon` with :func:`fake_voice_config` and :func:`folders_env`."""
    with daemon(folder, fake_voice_config(folder, extra), folders_env(folder)) as running:
        yield running


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the remote runs in a child of the daemon)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo.extend(int(child) for child in task.read_text().split())
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MB."""
    total = 0.0
    for member in tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its descendants, in seconds."""
    total = 0
    for member in tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def idle(running: Running, children: bool = True) -> dict[str, float]:
    """After 5 s to settle: resident memory, CPU over :data:`IDLE_SECONDS` and threads of the daemon and its
    children; ``children=False`` counts the daemon's own threads only (and no process count)."""
    time.sleep(5.0)
    pid = running.proc.pid
    before = cpu_seconds(pid)
    time.sleep(IDLE_SECONDS)
    figures: dict[str, float] = {"rss_mb": round(rss_mb(pid), 1), "idle_cpu_s": round(cpu_seconds(pid) - before, 3)}
    if not children:
        figures["threads"] = len(os.listdir(f"/proc/{pid}/task"))
        return figures
    members = tree(pid)
    figures["threads"] = sum(len(os.listdir(f"/proc/{p}/task")) for p in members)
    figures["processes"] = len(members)
    return figures
