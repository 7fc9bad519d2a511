"""The owner always gets through: a real daemon with the phone remote on loopback, started with a Raspberry
Pi's open-file limit (1024, soft and hard), is sent 1100 idle TCP connections to the remote's port; ``ctl
start`` and ``ctl status`` answer during the flood and after it ends.

(Before the remote ran in a process of its own, the web server took the daemon's last descriptors and the
control socket's accept loop died with EMFILE: ``ctl`` failed for good, even after the connections closed.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.script.test_expansion import where_it_trips

from .audio_helpers import REPO, Pulse
from .test_daemon_live import Daemon

pytestmark = pytest.mark.audio

PI_FILES = 1024
"""Raspberry Pi OS's default open-file limit."""
IDLE = 1100
"""Idle connections sent to the remote: more than the limit."""


def _pi_limits() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_NOFILE, (PI_FILES, PI_FILES))  # the daemon cannot raise it either


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def pi_daemon(pulse: Pulse, tmp_path: Path, speech_cache: Path, port: int) -> Iterator[Daemon]:
    """``voiceguide daemon`` with the fake voice on the null sink and the remote on ``port``, limited to
    :data:`PI_FILES` open files; killed at the end (with its remote)."""
    home, runtime = tmp_path / "home", tmp_path / "run"
    runtime.mkdir(mode=0o700)
    path = home / "config" / "voiceguide" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(f'[audio]\noutput = "pulse"\n[speech]\ntts = "fake"\ncache_dir = "{speech_cache}"\n'
                    f"[remote]\nport = {port}\n", encoding="utf-8")
    env = dict(pulse.env, XDG_CONFIG_HOME=str(home / "config"), XDG_RUNTIME_DIR=str(runtime),
               XDG_CACHE_HOME=str(home / "cache"), XDG_DATA_HOME=str(home / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "voiceguide", "daemon"], env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_pi_limits, cwd=REPO, start_new_session=True)
    d = Daemon(proc, env)
    try:
        d.wait_for("ready")
        d.wait_for("phone remote on")
        yield d
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the daemon and its remote child
        proc.wait()


def _open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` connections to ``port`` that send nothing (connecting without waiting for each)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 400), hard))
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        code = s.connect_ex(("127.0.0.1", port))
        assert code in (0, errno.EINPROGRESS, errno.EAGAIN), os.strerror(code)
        socks.append(s)
    return socks


def _remote_answers(port: int, within: float = 30.0) -> bool:
    """Whether the remote serves its pairing page again within ``within`` seconds."""
    import httpx

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/pair", timeout=5).status_code == 200:
                return True
        time.sleep(0.5)
    return False


def _open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _remote_pid(daemon: Daemon) -> int:
    """The daemon's child that serves the phone remote."""
    for task in os.listdir(f"/proc/{daemon.proc.pid}/task"):
        for child in Path(f"/proc/{daemon.proc.pid}/task/{task}/children").read_text().split():
            if "voiceguide.remote.process" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"):
                return int(child)
    pytest.fail(f"no remote process among the daemon's children:\n{''.join(daemon.log)}")


def _settled(pid: int, timeout: float = 30.0) -> int:
    """The open files of ``pid`` once they have not changed for 1 s (the server has accepted what it will, however
    long a busy machine makes that take)."""
    deadline = time.monotonic() + timeout
    count, since = _open_files(pid), time.monotonic()
    while time.monotonic() - since < 1.0 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = _open_files(pid)
        if now != count:
            count, since = now, time.monotonic()
    return count


def test_idle_connections_cannot_make_the_daemon_deaf(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> None:
    port = _free_port()
    with pi_daemon(pulse, tmp_path, speech_cache, port) as daemon:
        before = _open_files(daemon.proc.pid)
        remote = _remote_pid(daemon)
        rest = _open_files(remote)
        idle = _open_idle(port, IDLE)
        try:
            taken = _settled(remote)
            print(f"the remote holds {taken} open files of its {PI_FILES} with {IDLE} idle connections ({rest} "
                  "before)")
            assert taken >= rest + 100, f"the flood did not reach the remote ({rest} files before, {taken} during)"
            started = daemon.ctl("start", "demo")
            assert started.returncode == 0, started.stderr + "".join(daemon.log[-20:])
            # ctl answers at once; the session itself may take a while to prepare on a busy machine
            give_up = time.monotonic() + 60
            while True:
                status = daemon.ctl("status")
                assert status.returncode == 0, status.stderr
                if "playing" in status.stdout or time.monotonic() > give_up:
                    break
                time.sleep(0.5)
            assert "playing" in status.stdout, status.stdout + "".join(daemon.log[-20:])
            during = _open_files(daemon.proc.pid)
        finally:
            for s in idle:
                s.close()
        assert during < before + 50, f"the daemon itself holds {during} files during the flood ({before} before)"
        time.sleep(1.0)
        for _ in range(3):  # and after the flood, every time
            after = daemon.ctl("status")
            assert after.returncode == 0, after.stderr
        assert _remote_answers(port), "the phone remote did not recover after the flood"
        assert daemon.ctl("stop").returncode == 0
        daemon.wait_for("stopped demo")
        assert daemon.proc.poll() is None
        assert not any("Traceback" in line for line in daemon.log), "".join(daemon.log)


def test_the_daemon_refuses_an_amplifying_script(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> None:
    """2000 steps that each include a file of 2000 steps that each include body-scan-45, as a user script:
    ``ctl start`` is refused with the located message and the daemon goes on answering."""
    with pi_daemon(pulse, tmp_path, speech_cache, _free_port()) as daemon:
        scripts = Path(daemon.env["XDG_CONFIG_HOME"]) / "voiceguide" / "scripts"
        scripts.mkdir(parents=True)
        head = '[session]\ntitle = "Amplifier"\n\n'
        (scripts / "inner.toml").write_text(head + '[[step]]\ninclude = "body-scan-45"\n\n' * 2000)
        (scripts / "amp.toml").write_text(head + '[[step]]\ninclude = "inner"\n\n' * 2000)
        started = daemon.ctl("start", "amp")
        assert started.returncode == 1
        line, step = where_it_trips()
        assert f"{line}: {step} (include): with its includes the session has more than 5,000 steps" \
            in started.stderr, started.stderr
        status = daemon.ctl("status")
        assert status.returncode == 0 and status.stdout.startswith("idle"), status.stdout + status.stderr
