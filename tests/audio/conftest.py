"""The real audio path: voiceguide plays through PortAudio and ALSA's ``pulse`` device into a PulseAudio
null sink, and ``parec`` records the sink's monitor.

Each test run loads its own null sink into the server (and unloads it afterwards), so nothing else
playing on the machine ends up in the recordings. Without a server (``pactl info`` fails) these tests
are skipped, except under ``CI=true``, where they fail: CI must really exercise them.
Start a server with ``tools/pulse-null`` (``tools/test`` does).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .audio_helpers import RATE, Pulse


def _pactl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=False)


def _no_server_reason() -> str | None:
    if not all(shutil.which(tool) for tool in ("pactl", "parec", "pacat")):
        return "pactl/parec/pacat not installed (apt-get install pulseaudio-utils; tools/test does it)"
    info = _pactl("info")
    if info.returncode != 0:
        why = " ".join(info.stderr.split())
        return f"no PulseAudio server answers 'pactl info' ({why}); start one with tools/pulse-null"
    return None


@pytest.fixture(scope="session")
def pulse() -> Iterator[Pulse]:
    """A null sink of our own on the running PulseAudio server (skip or, under CI, fail without one)."""
    reason = _no_server_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true, so the real-audio tests must run, but: {reason}")
        pytest.skip(reason)
    info = _pactl("info").stdout
    server = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Server String:"))
    if server.startswith("/"):
        server = f"unix:{server}"
    sink = f"vg_test_{os.getpid()}"
    loaded = _pactl("load-module", "module-null-sink", f"sink_name={sink}", f"rate={RATE}")
    assert loaded.returncode == 0, f"cannot load a null sink: {loaded.stderr}"
    env = dict(os.environ, PULSE_SERVER=server, PULSE_SINK=sink)
    try:
        # The first stream into a freshly loaded null sink loses its first ~0.2 s (seen with pacat and
        # PortAudio alike; later streams arrive whole): play 0.3 s of silence into it first.
        warm = subprocess.run(["pacat", "--playback", "--raw", f"--rate={RATE}", "--channels=1", "--format=s16le",
                               f"--device={sink}"], input=bytes(2 * RATE * 3 // 10), env=env, capture_output=True,
                              timeout=10, check=False)
        assert warm.returncode == 0, f"pacat could not play into {sink}: {warm.stderr!r}"
        yield Pulse(sink, env)
    finally:
        _pactl("unload-module", loaded.stdout.strip())


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One speech cache for the whole run, so a live run and its render use identical clips."""
    return tmp_path_factory.mktemp("speech-cache")


MEASURED_IN_REAL_TIME = {"test_chime_timing.py", "test_daemon_live.py", "test_slower_live.py",
                         "test_stop_and_no_device.py", "test_faults_live.py", "test_remote_load.py",
                         "test_record_pack_live.py", "test_yield_live.py"}
"""Files whose tests measure sample-exact timing, fades or underruns of live playback through the sink."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the real-time measurements one after another, on one pytest-xdist worker (``--dist loadgroup``),
    so that two of them never compete for the CPU and the sound server; everything else runs beside them."""
    for item in items:
        if item.path.name in MEASURED_IN_REAL_TIME:
            item.add_marker(pytest.mark.xdist_group("real-time"))
