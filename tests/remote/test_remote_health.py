"""The Health page gets its findings from ``voiceguide doctor`` in a child process: no speech engine or
recognizer is built in the remote's (or the daemon's) own process."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("starlette")

from tests.remote_helpers import make_remote
from voiceguide import backends
from voiceguide.remote import health


def test_health_builds_no_engine_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_engine(*args: object, **kwargs: object) -> object:
        raise AssertionError("a speech engine or recognizer was built in the remote's process")

    for name in ("speaker", "recognizer", "recognizer_with_model"):
        monkeypatch.setattr(backends, name, no_engine)
    remote = make_remote(tmp_path)
    remote.ctx.doctor = None  # the real one
    remote.config.write_text(remote.config.read_text() + '[speech]\ntts = "fake"\n', encoding="utf-8")
    try:
        remote.pair()
        page = remote.client.get("/health")
    finally:
        remote.ctx.close()
    assert page.status_code == 200
    assert "speech (fake)" in page.text and "config" in page.text, page.text[-2000:]


def test_the_doctor_runs_isolated_and_never_opens_the_output(tmp_path: Path) -> None:
    argv = health.command(tmp_path / "config.toml")
    assert argv[1:5] == ["-I", "-m", "voiceguide", "doctor"] and argv[-2:] == ["--json", "--no-open"]
