"""Only regular files of bounded size are read: FIFOs, devices and folders are refused at once, never read."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voiceguide import safe_read
from voiceguide.daemon.config_read import load_config
from voiceguide.engine import affirmations, lint
from voiceguide.errors import AudioError, ConfigError, InputFileError, ScriptError
from voiceguide.script import parse
from voiceguide.sound import sounds

GOOD = '[session]\ntitle = "T"\n[[step]]\nsay = "Hello."\n'


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO with no writer; a test that opens it blocking fails after 20 s instead of hanging the suite."""
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)

    def hung(signum: int, frame: object) -> None:
        pytest.fail("blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield path
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def zero_link(tmp_path: Path) -> Path:
    path = tmp_path / "zero.toml"
    path.symlink_to("/dev/zero")
    return path


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # old code read /dev/zero to 9.4 GB


def _voiceguide(*args: str) -> subprocess.CompletedProcess[str]:
    """The command in a child with 1 GB of address space and 60 s: a hang or a runaway read fails the test."""
    return subprocess.run([sys.executable, "-m", "voiceguide", *args], capture_output=True, text=True, timeout=60,
                          preexec_fn=_limited, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})


def test_reading_a_fifo_a_device_or_a_folder_is_refused_without_blocking(tmp_path: Path, fifo: Path,
                                                                        zero_link: Path) -> None:
    for path, kind in ((fifo, "a named pipe (FIFO)"), (zero_link, "a device"), (Path("/dev/zero"), "a device"),
                       (tmp_path, "a folder")):
        with pytest.raises(InputFileError) as info:
            safe_read.read_text(path, 1000)
        assert info.value.reason == f"{kind}, not a regular file (voiceguide reads only files)"
        assert not info.value.missing


def test_the_size_bound_reads_at_most_limit_bytes(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"#" * 1001)
    with pytest.raises(InputFileError, match="larger than 1 kB"):
        safe_read.read_bytes(path, 1000)
    assert safe_read.read_bytes(path, 1001) == b"#" * 1001
    with pytest.raises(InputFileError) as info:
        safe_read.read_text(tmp_path / "gone.toml", 1000)
    assert info.value.missing and info.value.reason == "cannot read: No such file or directory"


def test_bad_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("first line\nna\xefve".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"not UTF-8 text \(bad byte at line 2, column 3, offset 13\)"):
        safe_read.read_text(path, 1000)


def test_a_script_over_1_mb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(GOOD + "#" * safe_read.SCRIPT_LIMIT, encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        parse.load(path)
    assert str(info.value) == ("huge.toml: file: larger than 1 MB, the most voiceguide reads from a file of this "
                               "kind")


def test_validate_show_on_a_fifo_and_dev_zero_answer_at_once(fifo: Path, zero_link: Path) -> None:
    done = _voiceguide("validate", str(fifo), str(zero_link))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.splitlines() == [
        "pipe.toml: file: a named pipe (FIFO), not a regular file (voiceguide reads only files)",
        "zero.toml: file: a device, not a regular file (voiceguide reads only files)"]
    done = _voiceguide("show", str(zero_link), "--backend", "fake")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr


def test_doctor_and_daemon_with_a_fifo_or_dev_zero_config_answer_at_once(fifo: Path) -> None:
    for config in (str(fifo), "/dev/zero"):
        for command in ("doctor", "daemon"):
            done = _voiceguide(command, "--config", config)
            assert done.returncode == 1, (command, config, done.stdout, done.stderr)
            assert "Traceback" not in done.stderr and "not a regular file" in done.stdout + done.stderr


def test_load_config_refuses_special_files_and_keeps_defaults_for_a_missing_default(fifo: Path,
                                                                                    tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"pipe.toml: file: a named pipe \(FIFO\), not a regular file"):
        load_config(fifo)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")
    assert load_config().path is None  # no config file in the isolated user folder: the defaults


def test_an_included_part_that_is_a_fifo_is_not_read(tmp_path: Path, fifo: Path) -> None:
    main_script = tmp_path / "main.toml"
    main_script.write_text(GOOD + '[[step]]\ninclude = "pipe"\n', encoding="utf-8")
    with pytest.raises(ScriptError, match="no session or part called 'pipe'"):
        parse.load(main_script)


def test_affirmations_from_a_fifo_or_a_huge_file_are_skipped(tmp_path: Path, fifo: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    assert affirmations.read_lines(fifo) == []
    huge = tmp_path / "affirmations.txt"
    huge.write_text("I am here.\n" * 100_000, encoding="utf-8")
    assert affirmations.read_lines(huge) == []
    assert "larger than 1 MB" in caplog.text
    assert affirmations.read_lines(tmp_path / "none.txt") == []


def test_sound_files_must_be_regular_and_bounded(tmp_path: Path, fifo: Path) -> None:
    with pytest.raises(AudioError, match="not a regular file"):
        sounds.load(fifo, 8000)
    big = tmp_path / "big.wav"
    soundfile.write(big, np.zeros(800, dtype=np.float32), 8000, subtype="PCM_16")
    with open(big, "r+b") as handle:  # a sparse file over the bound: refused before it is decoded
        handle.truncate(safe_read.SOUND_LIMIT + 1)
    with pytest.raises(AudioError, match="larger than 64 MB"):
        sounds.load(big, 8000)
    assert sounds.file_problem(big) == "larger than 64 MB, the most voiceguide reads from a file of this kind"
    assert "not a regular file" in (sounds.file_problem(fifo) or "")
    small = tmp_path / "small.wav"
    soundfile.write(small, np.full(800, 0.25, dtype=np.float32), 8000, subtype="PCM_16")
    assert sounds.file_problem(small) is None and len(sounds.load(small, 8000)) == 800


def test_a_sound_file_with_too_many_samples_is_not_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "long.wav"
    soundfile.write(path, np.zeros((1000, 2), dtype=np.float32), 8000, subtype="PCM_16")
    monkeypatch.setattr(sounds, "MAX_FILE_SAMPLES", 1999)
    with pytest.raises(AudioError, match="too long"):
        sounds.load(path, 8000)
    assert (sounds.file_problem(path) or "").startswith("too long")


def test_names_the_system_cannot_look_up_are_problems_not_crashes(tmp_path: Path) -> None:
    """Found by the fuzz: is_file() raised OSError for a too-long name and ValueError for a NUL byte."""
    for name, where in (("a" * 300, "step 1 (chime)"), ("x\\u0000y", "step 1 (chime)"),
                        ("a" * 300, "step 1 (include)"), ("~no-such-user-here/x", "step 1 (include)")):
        key = "include" if "include" in where else "chime"
        with pytest.raises(ScriptError) as info:
            parse.loads(f'[session]\ntitle = "T"\n[[step]]\n{key} = "{name}"\n', name="box.toml",
                        script_dir=tmp_path)
        assert str(info.value.problems[0]).startswith(f"box.toml: {where}: "), info.value
    session = parse.loads('[session]\ntitle = "T"\n[[step]]\nsay = "Hi."\naudio = "' + "b" * 300 + '.wav"\n',
                          script_dir=tmp_path)
    assert "not found" in " ".join(lint.warnings(session))
    with pytest.raises(InputFileError, match="NUL character"):
        safe_read.read_bytes("a\0b", 10)


def test_a_proc_file_is_refused_as_audio_without_noise(capfd: pytest.CaptureFixture[str]) -> None:
    """/proc files say they are regular and empty; soundfile reads them by descriptor, not through Python."""
    assert sounds.file_problem(Path("/proc/self/status")) == "cannot be read as audio (Format not recognised.)"
    with pytest.raises(AudioError, match="Format not recognised"):
        sounds.load(Path("/proc/self/status"), 8000)
    assert "Exception ignored" not in capfd.readouterr().err


def test_a_piper_voice_whose_config_is_a_fifo_is_ignored(tmp_path: Path, fifo: Path) -> None:
    from voiceguide.backends import piper_tts

    model = tmp_path / "xx_YY-test-low.onnx"
    model.write_bytes(b"onnx")
    os.mkfifo(tmp_path / "xx_YY-test-low.onnx.json")
    assert piper_tts.read_voice(model) is None
    deep = tmp_path / "deep.onnx"
    deep.write_bytes(b"onnx")
    (tmp_path / "deep.onnx.json").write_text("[" * 100_000, encoding="utf-8")
    assert piper_tts.read_voice(deep) is None
