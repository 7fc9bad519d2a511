"""The daemon end to end through the PulseAudio null sink: ``voiceguide daemon`` as a subprocess with a config
in a temporary XDG folder, ``voiceguide ctl start`` makes sound, ``ctl stop`` fades it out (not a cut),
SIGTERM fades and exits within 2 s, and the idle daemon uses next to no CPU."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pytest

from .audio_helpers import (
    RATE,
    SILENCE_RMS,
    ExitClock,
    Pulse,
    judge_fade,
    read_wav,
    run_voiceguide,
    voiceguide,
    wait_until_quiet,
    window_rms,
)

pytestmark = pytest.mark.audio

STOP_AFTER = 6.0
"""Seconds into :data:`LONG_LINE` to stop: well inside its one spoken line (about 1-26 s with the fake voice),
so that a fade under way is heard as a fade however late a busy machine delivers the stop (a stop that lands
after the sound has ended, as it did with the demo's 3-second first line, looks like a cut)."""
LONG_LINE = """[session]
title = "One long line"
rate = 135

[[step]]
say = \"\"\"Here is one long sentence for the test to stop in the middle of, and it goes on for a while \
so that wherever the stop lands there is still speech to fade, though nothing in it needs to be heard or \
understood, since it is only here to keep sounding word after word for close to half a minute while the \
daemon is asked to stop and the recording listens for a gentle fade instead of a sudden cut, and then a \
little longer still in case this machine is busy and the stop comes late\"\"\"
"""
"""A session that sounds without a break for about 25 s (with the fake voice), written as a user script."""


class Daemon:
    """A running ``voiceguide daemon`` and its log."""

    def __init__(self, proc: subprocess.Popen[str], env: dict[str, str]) -> None:
        self.proc = proc
        self.env = env
        self.log: list[str] = []
        self._seen = threading.Condition()
        assert proc.stderr is not None
        threading.Thread(target=self._read, args=(proc.stderr,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._seen:
                self.log.append(line)
                self._seen.notify_all()

    def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> None:
        with self._seen:
            if not self._seen.wait_for(lambda: sum(text in line for line in self.log) >= count, timeout):
                pytest.fail(f"the daemon did not log {text!r} (x{count}) within {timeout} s:\n{''.join(self.log)}")

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_voiceguide("ctl", *args, env=self.env, timeout=60)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def running_daemon(pulse: Pulse, tmp_path: Path, speech_cache: Path, config: str = "", microphone: bool = False,
                   speech: str = "", tee: Path | None = None, **env: str) -> Iterator[Daemon]:
    """``voiceguide daemon`` with the fake voice on the null sink (and the ``pulse`` input if ``microphone``),
    ``speech`` added to its ``[speech]`` table, ``config`` added to its config file and ``env`` to its
    environment, in user folders of its own under
    ``tmp_path``; killed at the end. With ``tee``, what the player hands each output stream is saved there when
    the daemon exits of itself (SIGTERM; see ``tee.py``)."""
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    path = home / "config" / "voiceguide" / "config.toml"
    path.parent.mkdir(parents=True)
    audio = '[audio]\noutput = "pulse"\n' + ('input = "pulse"\n' if microphone else "")
    path.write_text(f'{audio}[speech]\ntts = "fake"\ncache_dir = "{speech_cache}"\n{speech}{config}',
                    encoding="utf-8")
    full = dict(pulse.env, XDG_CONFIG_HOME=str(home / "config"), XDG_RUNTIME_DIR=str(runtime),
                XDG_CACHE_HOME=str(home / "cache"), XDG_DATA_HOME=str(home / "data"), **env)
    d = Daemon(voiceguide("daemon", env=full, tee=tee), full)
    try:
        d.wait_for("ready")
        yield d
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


@pytest.fixture
def daemon(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> Iterator[Daemon]:
    """A daemon teed into ``tmp_path / "handed.npz"`` (written when it exits of itself)."""
    with running_daemon(pulse, tmp_path, speech_cache, tee=tmp_path / "handed.npz") as d:
        yield d


def _long_line(daemon: Daemon) -> str:
    """:data:`LONG_LINE` saved among the daemon's user scripts; its id for ``ctl start``."""
    scripts = Path(daemon.env["XDG_CONFIG_HOME"]) / "voiceguide" / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / "long-line.toml").write_text(LONG_LINE, encoding="utf-8")
    return "long-line"


def _reference(tmp_path: Path, speech_cache: Path) -> np.ndarray:
    """:data:`LONG_LINE` rendered with the fake voice, as the daemon plays it."""
    script, wav = tmp_path / "long-line.toml", tmp_path / "long-line-ref.wav"
    script.write_text(LONG_LINE, encoding="utf-8")
    done = run_voiceguide("render", script, "--tts", "fake", "--cache-dir", speech_cache, "-o", wav)
    assert done.returncode == 0, done.stderr
    return read_wav(wav)


def _check_fade(daemon: Daemon, tee: Path, live: np.ndarray, reference: np.ndarray, what: str) -> float:
    """The stop's fade, judged on the tee (its shape, sample for sample) and the sink (it was heard, then
    silence): :func:`judge_fade`. The daemon must have exited (the tee is written then)."""
    rms = window_rms(live)
    assert (rms > 0.01).sum() > 100, f"{what}: less than a second of sound was recorded"
    assert tee.exists(), f"{what}: the daemon wrote no tee:\n{''.join(daemon.log)}"
    return judge_fade(tee, live, reference, what)


def _terminate(daemon: Daemon) -> int:
    """SIGTERM the daemon and wait for it (at most 10 s); its exit code."""
    daemon.proc.send_signal(signal.SIGTERM)
    try:
        return daemon.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 10 s after SIGTERM:\n{''.join(daemon.log)}")


def test_ctl_start_plays_and_ctl_stop_fades(daemon: Daemon, pulse: Pulse, tmp_path: Path,
                                            speech_cache: Path) -> None:
    recording = tmp_path / "stop.wav"
    with pulse.record(recording):
        started = daemon.ctl("start", _long_line(daemon))
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith("playing long-line"), started.stdout
        daemon.wait_for("playing on")
        time.sleep(STOP_AFTER)
        status = daemon.ctl("status")
        assert status.stdout.startswith("playing: long-line (from ctl)"), status.stdout
        stopped = daemon.ctl("stop")
        assert stopped.returncode == 0, stopped.stderr
        daemon.wait_for("stopped long-line")
        wait_until_quiet(recording)  # let the tail reach the monitor
    idle = daemon.ctl("status")
    assert idle.stdout.startswith("idle"), idle.stdout
    assert _terminate(daemon) == 0, "".join(daemon.log)
    live = read_wav(recording)
    seconds = _check_fade(daemon, tmp_path / "handed.npz", live, _reference(tmp_path, speech_cache), "ctl stop")
    assert seconds <= 0.5
    print(f"ctl stop: fade {seconds:.3f} s")


def test_sigterm_fades_and_exits_within_two_seconds(daemon: Daemon, pulse: Pulse, tmp_path: Path,
                                                    speech_cache: Path) -> None:
    recording = tmp_path / "term.wav"
    with pulse.record(recording):
        assert daemon.ctl("start", _long_line(daemon)).returncode == 0
        daemon.wait_for("playing on")
        time.sleep(STOP_AFTER)
        clock = ExitClock(daemon.proc.pid)
        daemon.proc.send_signal(signal.SIGTERM)
        code = clock.wait(daemon.proc, 10)
        wait_until_quiet(recording)
    assert code == 0, "".join(daemon.log)
    assert clock.wall - clock.waited <= 2.0, f"exited {clock.describe()} after SIGTERM"
    assert "Traceback" not in "".join(daemon.log)
    _check_fade(daemon, tmp_path / "handed.npz", read_wav(recording), _reference(tmp_path, speech_cache), "SIGTERM")
    socket = Path(daemon.env["XDG_RUNTIME_DIR"]) / "voiceguide" / "ctl.sock"
    assert not socket.exists(), "the control socket was removed"
    print(f"SIGTERM: exited after {clock.describe()}")


def test_the_idle_daemon_uses_next_to_no_cpu(daemon: Daemon) -> None:
    before, began = daemon.cpu_seconds(), time.monotonic()
    time.sleep(5.0)
    used = daemon.cpu_seconds() - before
    share = used / (time.monotonic() - began)
    assert share < 0.01, f"idle daemon used {100 * share:.2f} % CPU"
    print(f"idle CPU over 5 s: {100 * share:.3f} %")


def test_silence_before_anything_is_started(daemon: Daemon, pulse: Pulse, tmp_path: Path) -> None:
    recording = tmp_path / "idle.wav"
    with pulse.record(recording):
        time.sleep(1.0)
    rms = window_rms(read_wav(recording))
    assert len(rms) >= 50 and float(rms.max()) < SILENCE_RMS, "the idle daemon made a sound"
    assert RATE == 48000
