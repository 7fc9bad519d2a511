"""The daemon's master volume: ctl volume sets it, status reports it, and the output glides to it."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from tests.daemon.test_daemon_core import NOON, RecordingWorker
from voiceguide.daemon.clock import FakeWallClock
from voiceguide.daemon.config import DaemonConfig
from voiceguide.daemon.control import to_event
from voiceguide.daemon.daemon import Daemon
from voiceguide.daemon.events import Reply, SetVolume, Status
from voiceguide.daemon.volume import GLIDE_SECONDS, Volume, VolumeOutput
from voiceguide.seams import FillCallback

RATE = 8000


class Capture:
    """An output that hands back its fill callback instead of opening a stream."""

    fill: FillCallback | None = None

    @contextmanager
    def open(self, sample_rate: int, fill: FillCallback) -> Iterator[object]:
        self.fill = fill
        yield self


def _blocks(volume: Volume, count: int, n: int = 400) -> np.ndarray:
    inner = Capture()
    with VolumeOutput(inner, volume).open(RATE, lambda out: out.fill(1.0)):
        assert inner.fill is not None
        out = []
        for _ in range(count):
            block = np.zeros(n, dtype=np.float32)
            inner.fill(block)
            out.append(block.copy())
            if len(out) == 2:
                volume.set(0.25)
        return np.concatenate(out)


def test_a_change_glides_without_a_jump() -> None:
    samples = _blocks(Volume(1.0), 20)
    assert np.all(samples[:800] == 1.0), "full volume until the change"
    glide = int(0.75 * GLIDE_SECONDS * RATE)
    assert abs(samples[800 + glide - 1] - 0.25) < 1e-3 and samples[800] < 1.0
    assert np.max(np.abs(np.diff(samples))) <= 1.0 / (GLIDE_SECONDS * RATE) + 1e-6, "no step bigger than the glide"
    assert np.allclose(samples[-400:], 0.25)


def test_levels_are_clamped() -> None:
    volume = Volume()
    assert volume.set(3) == 1.0 and volume.set(-1) == 0.0


def test_ctl_volume_sets_it_and_status_reports_it() -> None:
    replies: list[Reply] = []
    event = to_event({"command": "volume", "level": 0.4}, replies.append)
    assert isinstance(event, SetVolume)
    assert to_event({"command": "volume", "level": 2}, replies.append) == "volume needs a level from 0 to 1"
    assert to_event({"command": "volume"}, replies.append) == "volume needs a level from 0 to 1"
    daemon = Daemon(DaemonConfig(), queue.SimpleQueue(), RecordingWorker(), FakeWallClock(NOON))
    daemon.handle(event)
    assert replies == [{"ok": False, "error": "this daemon has no volume control"}]
    daemon.volume = Volume()
    daemon.handle(SetVolume(0.4, replies.append))
    assert replies[-1] == {"ok": True, "volume": 0.4}
    daemon.handle(Status(replies.append))
    assert replies[-1]["volume"] == 0.4
