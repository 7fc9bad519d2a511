"""Shared fixtures: isolated user folders, the fake speaker, and small helpers for scripts and timelines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from voiceguide import parse
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.compile import compile_session
from voiceguide.model import Session
from voiceguide.seams import Samples
from voiceguide.timeline import Event, Timeline

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
AUDIO = REPO / "audio"

HEADER = '[session]\ntitle = "Test"\n'

TWENTY_MINUTES = ('[[step]]\nsay = "Welcome."\n'
                  '[[step]]\nbreathe = "box"\ncycles = 40\n'
                  '[[step]]\npause = 30\n'
                  '[[step]]\nbreathe = "coherent"\ncycles = 50\ncue = "tone"\n'
                  '[[step]]\nchime = "bell"\n')
"""Steps of a session a little over 20 minutes long (use a low sample rate with it)."""


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every XDG folder at a fresh temporary directory so no test touches the real user's files."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"),
                     ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state")):
        folder = home / sub
        folder.mkdir()
        monkeypatch.setenv(var, str(folder))
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps plain output at the terminal width
    yield home


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private runtime folder (0700) as XDG_RUNTIME_DIR, where the daemon puts its control socket."""
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    return folder


@pytest.fixture
def speaker() -> FakeSpeaker:
    """A fresh fake speaker (records its calls)."""
    return FakeSpeaker()


def script(body: str, header: str = HEADER) -> str:
    """A script with a valid ``[session]`` header and ``body``."""
    return header + body


def session_of(body: str, header: str = HEADER, name: str = "test.toml", script_dir: Path | None = None) -> Session:
    """Parse ``body`` (steps) under a valid header."""
    return parse.loads(script(body, header), name=name, script_dir=script_dir)


def beyond_validation(session: Session, texts: dict[str, str]) -> Session:
    """``session`` with each spoken text that equals a key of ``texts`` replaced by its value, past the
    validation limits (for engine tests of text that a script could not carry, e.g. 22,000 characters)."""
    import dataclasses

    from voiceguide.model import Say

    steps = tuple(dataclasses.replace(st, action=dataclasses.replace(st.action, text=texts[st.action.text]))
                  if isinstance(st.action, Say) and st.action.text in texts else st for st in session.steps)
    return dataclasses.replace(session, steps=steps)


def compiled(body: str, rate: int = 8000, header: str = HEADER, speaker: FakeSpeaker | None = None) -> Timeline:
    """Parse and compile ``body`` with the fake speaker."""
    return compile_session(session_of(body, header), speaker or FakeSpeaker(), rate)


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` to ``tmp_path/name`` and return the path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def position_ramp(length: int) -> Samples:
    """A clip whose value encodes its own index (0.05 .. 0.95), so output reveals what was played."""
    return (0.05 + 0.9 * np.arange(length, dtype=np.float64) / length).astype(np.float32)


def one_clip_timeline(clip: Samples, step_starts: tuple[int, ...] = (0,), rate: int = 8000) -> Timeline:
    """A timeline that is one audible clip from sample 0, divided into steps at ``step_starts``."""
    n = len(clip)
    event = Event("speech", 0, n, 1, 0, 1.0, "all")
    return Timeline(rate, (event,), (clip,), step_starts, n, "one clip")


def max_jump(audio: Samples) -> float:
    """The largest sample-to-sample change (a click shows up as a big jump)."""
    return float(np.abs(np.diff(audio.astype(np.float64))).max()) if len(audio) > 1 else 0.0
