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


MEASURED_IN_REAL_TIME = {"test_chime_timing.py::test_live_chimes_do_not_drift",
                         "test_faults_live.py::test_an_underrun_is_made_up_in_the_next_pause",
                         "test_slower_live.py::test_slower_switches_seamlessly_through_the_sink",
                         "test_record_pack_live.py::test_a_half_recorded_pack_plays_live_on_time",
                         "test_taught_mic.py::test_pauze_and_verder_said_into_the_microphone_pause_and_resume_within_a_second"}
"""Tests (file::function) that measure live playback sample for sample: they run one at a time (the remote's load
test left the group: it compares two daemons playing side by side, so a load falls on both). The fades, the sound
server's death, the idle daemon's CPU, the microphone, the voice's yield (its bound, 1.5 s, is about three times
the 0.47-0.61 s measured) and MQTT tests run beside them, as every test did while the group was lost (see
:func:`_name_the_group`). With 6 workers one of the fades (Ctrl-C) failed in 1 of 3 quiet fresh-clone runs of one
commit, a gap in the sink's recording mid-fade (docs/benchmarks.md, "Fresh-clone runs"): ``tools/test`` runs 4. The
fades are now judged on the tee for their shape and in the sink only for sound, no jump, a soft end and silence
(``audio_helpers.judge_fade``), which such a gap does not upset."""
GROUP = "real-time"
"""The pytest-xdist group (``--dist loadgroup``) of the real-time measurements."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the real-time measurements one after another, on one pytest-xdist worker (``--dist loadgroup``),
    so that two of them never compete for the CPU and the sound server; everything else runs beside them."""
    for item in items:
        if f"{item.path.name}::{getattr(item, 'originalname', item.name)}" in MEASURED_IN_REAL_TIME:
            item.add_marker(pytest.mark.xdist_group(GROUP))
            if config.getoption("loadgroup", default=False):  # only on a pytest-xdist worker
                _name_the_group(item)


def _name_the_group(item: pytest.Item) -> None:
    """Put the group in the test's node id (``...@real-time``), which is all the scheduler sees.

    pytest-xdist 3.8 does this in its own hook by setting ``item._nodeid``, but pytest 9 keeps the node id in
    ``item._id``: the renaming was lost, and with it the group (seen: the real-time tests of one file on
    different workers at once). Where pytest still reads ``_nodeid``, xdist's own renaming works and this does
    nothing."""
    suffix = f"@{GROUP}"
    if item.nodeid.endswith(suffix) or not hasattr(item, "_id"):
        return
    from _pytest.nodeid import coerce_node_id

    item._id = coerce_node_id(item.nodeid + suffix)
