"""``render`` streams the mix to the file block by block: the same samples as the whole-array mix, flat
memory, a format chosen by extension, clear errors, and no output that replaces a script or leaves a
truncated file behind. ``run`` checks its outputs before it plays."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.helpers import HEADER, script
from voiceguide.backends.fake import FakeSpeaker, FakeTimer
from voiceguide.cli import main as cli
from voiceguide.cli import outputs
from voiceguide.engine.compile import compile_session
from voiceguide.engine.mix import Mixer
from voiceguide.script import parse
from voiceguide.script.model import Pause, Session, Step

Run = Callable[..., tuple[int, str, str]]

MIXED = script('[[step]]\nchime = "soft-bell"\nvolume = 0.7\n'
               '[[step]]\nsay = "Hello. Let the breath be easy."\nvolume = 0.6\n'
               '[[step]]\nbreathe = { inhale = 2, exhale = 3 }\ncycles = 2\ncue = "both"\n'
               '[[step]]\npause = 1.5\n'
               '[[step]]\nsay = "Thank you for this time."\n',
               header=HEADER + 'ambient = "pink"\nambient_volume = 0.4\nvolume = 0.9\n')
"""A small session with every kind of sound and gains other than 1 (ambient, cues, soft lines, master volume)."""


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def call(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err
        return code, out.out, out.err

    return call


def _old_render(path: Path, text: str, rate: int) -> None:
    """What ``render`` wrote before it streamed: the whole session mixed into one array, then written."""
    timeline = compile_session(parse.loads(text, name="mixed.toml"), FakeSpeaker(), rate)
    soundfile.write(str(path), Mixer(timeline).render(), rate, subtype="PCM_16")


@pytest.mark.parametrize("rate", [48000, 22050])
def test_streamed_render_is_bit_identical_to_the_whole_array_mix(run: Run, tmp_path: Path, rate: int) -> None:
    source = tmp_path / "mixed.toml"
    source.write_text(MIXED, encoding="utf-8")
    old, new = tmp_path / "old.wav", tmp_path / "new.wav"
    _old_render(old, MIXED, rate)
    code, _, err = run("render", str(source), "--tts", "fake", "--sample-rate", str(rate), "-o", str(new))
    assert code == 0 and err == ""
    assert new.read_bytes() == old.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mixed.toml", "new.wav", "old.wav"]  # no temporary left


def test_unprescaled_mixer_gives_the_same_samples() -> None:
    timeline = compile_session(parse.loads(MIXED, name="mixed.toml"), FakeSpeaker(), 8000)
    assert any(e.gain != 1.0 for e in timeline.audible())
    whole = Mixer(timeline).render()
    streamed = np.concatenate([block.copy() for _, block in Mixer(timeline, prescale=False).blocks(1000)])
    assert np.array_equal(whole, streamed)


def test_render_memory_does_not_grow_with_the_session(run: Run, tmp_path: Path) -> None:
    """A two-hour session at 8 kHz is 230 MB as one float32 array; streamed, the mix needs a block."""
    source = tmp_path / "long.toml"
    source.write_text(script('[[step]]\nsay = "Rest now."\n[[step]]\npause = 7200\n'), encoding="utf-8")
    out = tmp_path / "long.flac"
    tracemalloc.start()
    try:
        code, _, err = run("render", str(source), "--tts", "fake", "--sample-rate", "8000", "-o", str(out))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 0 and err == ""
    assert soundfile.info(str(out)).frames == 7200 * 8000 + compile_session(
        parse.load(source), FakeSpeaker(), 8000).step_starts[1]
    assert peak < 20_000_000


def test_a_hundred_thousand_pauses_compile_without_audio_memory() -> None:
    session = Session(id="pauses", title="pauses", steps=tuple(Step(i, Pause(1.0)) for i in range(1, 100_001)))
    tracemalloc.start()
    try:
        timeline = compile_session(session, FakeTimer(), 48000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert timeline.length == 100_000 * 48000
    assert timeline.clips == ()  # pauses are markers, not samples
    assert peak < 150_000_000  # the events themselves; 17.9 GiB if they held silence


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".oga", ".aiff"])
def test_formats_by_extension(run: Run, tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"demo{ext}"
    code, _, err = run("render", "demo", "--tts", "fake", "--sample-rate", "16000", "-o", str(out))
    assert code == 0 and err == ""
    info = soundfile.info(str(out))
    assert info.format == outputs.sound_formats()[ext].format
    assert info.samplerate == 16000 and info.frames > 16000 * 60


def test_mp3_when_libsndfile_has_it(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "demo.mp3"
    code, _, err = run("render", "demo", "--tts", "fake", "--sample-rate", "16000", "-o", str(out))
    if ".mp3" in outputs.sound_formats():
        assert code == 0 and err == ""
        assert soundfile.info(str(out)).format == "MP3"
    else:
        assert code == 1 and "'.mp3' is not a sound format voiceguide writes" in err


@pytest.mark.parametrize(("name", "message"), [
    ("noext", "cannot tell what kind of sound file {path} should be: give it an extension (.wav, .flac, .ogg"),
    ("x.xyz", "cannot write {path}: '.xyz' is not a sound format voiceguide writes (.wav, .flac, .ogg"),
    ("x.toml", "will not write {path}: .toml files are scripts and settings"),
    ("folder", "cannot write {path}: it is a folder"),
    ("folder.wav", "cannot write {path}: it is a folder"),
    ("missing/x.wav", "cannot write {path}: the folder {tmp}/missing does not exist"),
])
def test_bad_outputs_give_clear_errors(run: Run, tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder.wav").mkdir()
    path = tmp_path / name
    code, out, err = run("render", "demo", "--tts", "fake", "-o", str(path))
    assert code == 1 and out == ""
    assert err.startswith("voiceguide: " + message.format(path=path, tmp=tmp_path))
    assert ".wav" in err or "folder" in err or ".toml" in err


def test_a_device_is_not_an_output(run: Run) -> None:
    code, _, err = run("render", "demo", "--tts", "fake", "-o", "/dev/full")
    assert code == 1 and err == "voiceguide: cannot write /dev/full: it is not a regular file\n"
    with pytest.raises(outputs.OutputError, match="not a regular file"):
        outputs.check_writable("/dev/null")


def test_never_overwrites_the_script(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "session.wav"  # a script whose name looks like a sound file
    source.write_text(MIXED, encoding="utf-8")
    code, _, err = run("render", str(source), "--tts", "fake", "-o", str(source))
    assert code == 1 and "it is the script being used" in err
    assert source.read_text(encoding="utf-8") == MIXED
    toml = tmp_path / "other.toml"
    toml.write_text(MIXED, encoding="utf-8")
    code, _, err = run("render", str(source), "--tts", "fake", "-o", str(tmp_path / "x.wav"), "--timeline", str(toml))
    assert code == 1 and ".toml files are scripts" in err
    assert toml.read_text(encoding="utf-8") == MIXED
    assert not (tmp_path / "x.wav").exists()  # refused before anything was rendered


FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file may grow to 200 kB: past that, writes fail as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
from voiceguide.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_a_full_disk_leaves_the_old_file_and_no_partial_one(tmp_path: Path, ext: str) -> None:
    old = tmp_path / f"session{ext}"
    old.write_bytes(b"an older good render")
    fresh = tmp_path / f"fresh{ext}"
    for target in (old, fresh):
        done = subprocess.run([sys.executable, "-c", FULL_DISK, "render", "demo", "--tts", "fake", "-o", str(target)],
                              capture_output=True, text=True, timeout=120, env={**os.environ})
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        last = done.stderr.splitlines()[-1]  # the speech cache, also full, may have said so first
        assert last.startswith(f"voiceguide: cannot write {target}: writing stopped part-way")
        assert "is the disk full?" in last
    assert old.read_bytes() == b"an older good render"  # never removed: we did not create it
    assert sorted(p.name for p in tmp_path.iterdir()) == [old.name]  # the partial files are gone


def test_run_checks_its_timeline_before_playing(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceguide.live import runner as live_runner  # where run's play loop is called from

    played: list[object] = []
    monkeypatch.setattr(live_runner, "play", lambda *a, **k: played.append(a))
    code, _, err = run("run", "demo", "--backend", "fake", "--timeline", str(tmp_path / "no" / "t.json"))
    assert code == 1
    assert err == f"voiceguide: cannot write timeline {tmp_path / 'no' / 't.json'}: the folder {tmp_path / 'no'} " \
                  "does not exist\n"
    assert played == []
    code, _, err = run("run", "demo", "--backend", "fake", "--timeline", str(tmp_path / "t.toml"))
    assert code == 1 and ".toml files are scripts" in err and played == []
