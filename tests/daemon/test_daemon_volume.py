"""The daemon's master volume: ctl volume sets it, status reports it, and the output glides to it."""

from __future__ import annotations

import os
import queue
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tests.daemon.test_daemon_core import NOON, RecordingWorker
from voiceguide.daemon.clock import FakeWallClock
from voiceguide.daemon.config import DaemonConfig
from voiceguide.daemon.core import Daemon
from voiceguide.daemon.ctl_socket import to_event
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


def test_the_level_is_kept_for_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "data" / "voiceguide" / "volume"
    assert Volume.kept(path).level == 1.0, "nothing kept yet: full volume"
    first = Volume.kept(path)
    first.set(0.35)
    assert path.read_text(encoding="utf-8") == "0.350\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["volume"], "no temporary file is left beside it"
    assert Volume.kept(path).level == 0.35  # the daemon started again


@pytest.mark.parametrize("content", [b"loud\n", b"2.5\n", b"-1\n", b"nan\n", b"\xff\xfe", b"0.5" * 100])
def test_a_damaged_kept_level_starts_at_full_volume(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "volume"
    path.write_bytes(content)
    volume = Volume.kept(path)
    assert volume.level == 1.0
    volume.set(0.6)  # and the next change mends the file
    assert Volume.kept(path).level == 0.6


def test_a_kept_level_that_is_not_a_file_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "volume"
    os.mkfifo(fifo)
    assert Volume.kept(fifo).level == 1.0  # returns at once: a FIFO is never opened for reading to the end


def test_a_level_that_cannot_be_kept_still_applies(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    volume = Volume(1.0, blocked / "volume")  # its folder would have to be inside a file
    assert volume.set(0.2) == 0.2 and volume.level == 0.2


def test_the_daemon_starts_where_the_knob_was_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceguide import backends
    from voiceguide.backends import rig
    from voiceguide.backends.fake import FakeClock
    from voiceguide.backends.fake_input import FakeInput
    from voiceguide.daemon import app
    from voiceguide.daemon.config_read import loads_config
    from voiceguide.daemon.volume import VOLUME_FILE

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setitem(rig.RIGS, "sounddevice", rig.RIGS["fake"])
    monkeypatch.setitem(backends.INPUTS, "sounddevice", lambda device: FakeInput(FakeClock()))
    config = loads_config(f'[speech]\ntts = "fake"\ncache_dir = "{tmp_path / "cache"}"\n')
    first = app.build(config)
    assert first.volume is not None and first.volume.level == 1.0
    replies: list[Reply] = []
    first.handle(SetVolume(0.45, replies.append))
    assert replies == [{"ok": True, "volume": 0.45}]
    assert (tmp_path / "data" / "voiceguide" / VOLUME_FILE).read_text(encoding="utf-8") == "0.450\n"
    again = app.build(config)  # after a restart
    assert again.volume is not None and again.volume.level == 0.45
