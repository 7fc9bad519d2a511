"""No failure of speech synthesis takes the daemon down, and a crashed daemon's socket does not block the next."""

from __future__ import annotations

import functools
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import full_listen_queue, runner_on
from voiceguide import backends
from voiceguide.backends.fake import FakeClock, FakeSpeaker
from voiceguide.daemon import isolated, sessions
from voiceguide.daemon.clock import SystemWallClock
from voiceguide.daemon.config import DaemonConfig, Speech
from voiceguide.daemon.core import Daemon
from voiceguide.daemon.ctl_socket import ControlServer, private_dir, request, socket_path
from voiceguide.daemon.events import Event, Shutdown, StartRequest
from voiceguide.daemon.worker import Stage, Worker
from voiceguide.errors import DaemonError, SpeechError, VoiceguideError
from voiceguide.seams import AudioOutput, Clip, Clock, SpeechParams


class RaisingSpeaker(FakeSpeaker):
    """A speech engine that fails on every line."""

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        raise RuntimeError("the engine fell over")


def _segfault() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def _raise_speech_error() -> None:
    raise SpeechError("no voice for that")


def _write(path: str) -> None:
    Path(path).write_text("done")


def test_work_that_crashes_its_process_is_an_error_here(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match=r"the speech engine crashed \(SIGSEGV\)"):
        isolated.run(_segfault, "preparing box")
    with pytest.raises(VoiceguideError, match="no voice for that"):
        isolated.run(_raise_speech_error, "preparing box")
    isolated.run(functools.partial(_write, str(tmp_path / "out")), "writing")
    assert (tmp_path / "out").read_text() == "done", "the work ran"


def _no_output(request: StartRequest) -> tuple[AudioOutput, Clock]:
    raise AssertionError("nothing should be played")


@pytest.fixture
def daemon_with(runtime: Path) -> Iterator[functools.partial[Daemon]]:
    """Starts a daemon loop with the real control socket and the real worker thread, given its prepare."""
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    server = ControlServer()
    started: list[tuple[Daemon, threading.Thread]] = []

    def start(prepare: Callable[[StartRequest], object]) -> Daemon:
        server.start(events.put)
        worker = Worker(events.put, Stage(prepare, _no_output), runner_on(FakeClock()))  # type: ignore[arg-type]
        d = Daemon(DaemonConfig(), events, worker, SystemWallClock(), [])
        thread = threading.Thread(target=d.run, daemon=True)
        thread.start()
        started.append((d, thread))
        return d

    yield functools.partial(start)
    events.put(Shutdown("test"))
    for _, thread in started:
        thread.join(5)
    server.close()


def test_a_speaker_that_raises_is_reported_to_ctl_and_the_daemon_goes_on(
        daemon_with: functools.partial[Daemon], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(backends.TTS, "fake", RaisingSpeaker)
    config = DaemonConfig(speech=Speech(tts="fake"))
    daemon_with(lambda r: sessions.prepare(config, r))
    reply = request({"command": "start", "session": "box"}, timeout=30.0)
    assert reply["ok"] is False and "the engine fell over" in reply["error"]
    assert request({"command": "status"}) == {"ok": True, "state": "idle", "ended": 1,
                                              "last": {"session": "box", "stopped": True}}
    assert any("the engine fell over" in r.getMessage() for r in caplog.records), "and it is in the log"


def test_an_engine_that_crashes_while_preparing_is_reported_and_the_daemon_goes_on(
        daemon_with: functools.partial[Daemon]) -> None:
    def prepare(request: StartRequest) -> tuple[object, object]:
        isolated.run(_segfault, f"preparing {request.session}")
        raise AssertionError("not reached")

    daemon_with(prepare)
    reply = request({"command": "start", "session": "box"}, timeout=30.0)
    assert reply["ok"] is False and "crashed (SIGSEGV)" in reply["error"]
    assert request({"command": "status"}) == {"ok": True, "state": "idle", "ended": 1,
                                              "last": {"session": "box", "stopped": True}}


CRASHING_TTS = textwrap.dedent('''
    """Loaded by every interpreter started with this folder on PYTHONPATH: a speech backend that segfaults."""
    import os, signal
    from voiceguide import backends
    from voiceguide.backends.fake import FakeSpeaker

    class CrashingSpeaker(FakeSpeaker):
        def synthesize(self, text, params):
            os.kill(os.getpid(), signal.SIGSEGV)

    backends.TTS["crash"] = CrashingSpeaker
''')


def _ctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voiceguide", "ctl", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def _wait_for_socket(path: Path, daemon: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert daemon.poll() is None, f"the daemon exited: {daemon.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "the daemon did not open its socket"
        time.sleep(0.05)


def test_a_real_daemon_survives_a_crashing_engine_and_its_killed_socket_is_replaced(
        tmp_path: Path, runtime: Path) -> None:
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "sitecustomize.py").write_text(CRASHING_TTS)
    config = tmp_path / "config.toml"
    config.write_text(f'[speech]\ntts = "crash"\ncache_dir = "{tmp_path / "cache"}"\n'
                      f'[journal]\npath = "{tmp_path / "journal"}"\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(plugin), *sys.path]))
    path = socket_path()
    daemon = subprocess.Popen([sys.executable, "-m", "voiceguide", "daemon", "--config", str(config)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_socket(path, daemon)
        started = _ctl(env, "start", "box")
        assert started.returncode == 1 and "crashed (SIGSEGV)" in started.stderr, started.stderr
        assert daemon.poll() is None, "the daemon died with its speech engine"
        status = _ctl(env, "status")
        assert status.returncode == 0 and status.stdout.startswith("idle"), status.stderr
        daemon.kill()  # as the kernel would on a crash: the socket file stays behind
        daemon.wait(10)
        assert path.exists()
        daemon = subprocess.Popen([sys.executable, "-m", "voiceguide", "daemon", "--config", str(config)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while (status := _ctl(env, "status")).returncode != 0:
            assert daemon.poll() is None, f"the next daemon did not start: {daemon.communicate()[1][-2000:]}"
            assert time.monotonic() < deadline, status.stderr
            time.sleep(0.1)
        assert status.stdout.startswith("idle")
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()


@pytest.mark.parametrize("kind", ["file", "folder", "symlink"])
def test_only_a_socket_is_ever_replaced(runtime: Path, tmp_path: Path, kind: str) -> None:
    path = socket_path()
    private_dir(path.parent)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    if kind == "file":
        path.write_text("keep me")
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(precious)
    with pytest.raises(DaemonError, match="not a socket; it is left as it is"):
        ControlServer().start(lambda e: None)
    assert path.is_symlink() if kind == "symlink" else path.exists()
    assert precious.read_text() == "keep me"
    if kind == "file":
        assert path.read_text() == "keep me"


def test_a_live_socket_that_is_busy_is_not_taken_for_a_stale_one(runtime: Path) -> None:
    path = socket_path()
    with full_listen_queue(path):
        with pytest.raises(DaemonError, match="another voiceguide daemon"):
            ControlServer().start(lambda e: None)
        assert path.exists(), "a running daemon's socket was removed"
