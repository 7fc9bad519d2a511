"""A ``voiceguide daemon`` run by a benchmark: in user folders of its own, playing into the PulseAudio
server's default sink (a benchmark points ``PULSE_SINK`` at a private null sink first), with its log kept.
Used by ``benchmarks.remote`` and ``benchmarks.startup``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
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
