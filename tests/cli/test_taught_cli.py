"""``voiceguide commands``: teach with a fake microphone and clock, list, forget, and a bad ``--word``."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest

from tests.listen.test_taught import room, word
from voiceguide import backends
from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.cli.main import main
from voiceguide.listen import taught_store
from voiceguide.playback.control import Command


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    return tmp_path / "voiceguide"


def test_teach_keeps_the_words_privately_then_list_and_forget(data: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock()
    takes = [room(2.0)] + [part for name in ("pauze", "verder") for i in range(3)
                           for part in (word(name, 0.9 + 0.1 * i, seed=i), room(1.5))]
    monkeypatch.setattr(backends, "audio_input", lambda name, device: FakeInput(clock, np.concatenate(takes)))
    monkeypatch.setattr(backends, "system_clock", lambda: clock)
    assert main(["commands", "teach", "--language", "nl", "--word", "pause=Pauze", "--word", "resume=verder"]) == 0
    out = capsys.readouterr().out
    assert "Say 'pauze' when you are ready." in out and "Say 'verder' once more when you are ready." in out
    path = data / "commands" / "nl.npz"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    taught = taught_store.load("nl", data)
    assert taught is not None and taught.words == {"pauze": Command.PAUSE, "verder": Command.RESUME}
    assert main(["commands", "list"]) == 0
    assert "nl: pauze (pause, 3 takes), verder (resume, 3 takes)" in capsys.readouterr().out
    assert main(["commands", "forget", "--language", "nl"]) == 0 and not path.exists()
    assert main(["commands", "forget", "--language", "nl"]) == 0
    assert "No voice commands were taught" in capsys.readouterr().out


def test_a_word_for_an_unknown_command_is_a_usage_error(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["commands", "teach", "--word", "jump=spring"])
    assert exit_info.value.code == 2 and "COMMAND=WORD" in capsys.readouterr().err


def test_list_with_nothing_taught_says_how_to_teach(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["commands", "list"]) == 0
    assert "voiceguide commands teach --language nl" in capsys.readouterr().out


def test_a_dutch_session_without_taught_words_says_how_to_teach_them_and_keeps_the_keys() -> None:
    import io
    import queue

    from rich.console import Console

    from voiceguide.cli.run import _voice_commands
    from voiceguide.engine.options import ListeningOptions
    from voiceguide.listen import command_choice
    from voiceguide.listen.gate import SpeakingGate

    out = io.StringIO()
    clock = FakeClock()
    with _voice_commands(ListeningOptions(), object(), queue.SimpleQueue(),  # type: ignore[arg-type]
                         SpeakingGate(), Console(file=out), FakeInput(clock), command_choice.Choice(None, "nl")):
        pass
    assert "voiceguide commands teach --language nl" in out.getvalue() and "the keys still work" in out.getvalue()
