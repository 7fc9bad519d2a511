"""The typed session options and the session builder: ranges checked once, one speaker per backend for life."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide import backends
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.engine.builder import SessionBuilder
from voiceguide.engine.options import ShapingOptions, SpeechOptions
from voiceguide.errors import SpeechError, VoiceguideError
from voiceguide.script import parse
from voiceguide.seams import SpeechParams


class Counted(FakeSpeaker):
    def __init__(self, made: list[Counted]) -> None:
        super().__init__()
        self.closed = 0
        made.append(self)

    def close(self) -> None:
        self.closed += 1


class NoDutch(Counted):
    name = "no-dutch"

    def resolve_voice(self, params: SpeechParams) -> str:
        if params.language == "nl":
            raise SpeechError("no Dutch voice")
        return super().resolve_voice(params)


@pytest.mark.parametrize(("options", "message"), [
    (lambda: SpeechOptions(rate=20), "--rate must be from 60 to 300"),
    (lambda: SpeechOptions(volume=1.5), "--volume must be from 0 to 1"),
    (lambda: SpeechOptions(pitch=101), "--pitch must be from 0 to 100"),
    (lambda: SpeechOptions(sentence_gap=-1.0), "--sentence-gap must be from 0 to 10 seconds"),
    (lambda: ShapingOptions(sample_rate=4000), "--sample-rate must be from 8000 to 192000"),
    (lambda: ShapingOptions(minutes=0), "--minutes must be more than 0 and at most 1440"),
])
def test_options_out_of_range_say_which_option(options: object, message: str) -> None:
    with pytest.raises(VoiceguideError, match=message.replace("-", r"\-")):
        options()  # type: ignore[operator]


def test_speech_options_change_only_what_they_name() -> None:
    assert SpeechOptions().session_changes() == {}
    assert SpeechOptions(rate=100, voice="", soften=True).session_changes() == {"rate": 100, "soften": True}


def test_one_speaker_per_backend_for_the_builders_life(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Counted] = []
    monkeypatch.setitem(backends.TTS, "fake", lambda: Counted(made))
    monkeypatch.setitem(backends.TTS, "no-dutch", lambda: NoDutch(made))
    monkeypatch.setattr(backends, "default_tts", lambda language=None: "fake")
    notes: list[str] = []
    english = parse.loads('[session]\ntitle = "EN"\n[[step]]\nsay = "Hello."\n', name="en.toml")
    dutch = parse.loads('[session]\ntitle = "NL"\nlanguage = "nl"\n[[step]]\nsay = "Hallo."\n', name="nl.toml")
    with SessionBuilder(SpeechOptions(tts="no-dutch", cache_dir=tmp_path), 8000, notify=notes.append) as build:
        for _ in range(3):
            build.build(english)
            build.build(dutch)  # falls back to the default backend, which is kept as well
        assert [type(s) for s in made] == [NoDutch, Counted]
        assert build.open_speakers == 2 and all(s.closed == 0 for s in made)
        assert notes == ["no-dutch has no voice for language 'nl'; using fake for this session"] * 3
    assert [s.closed for s in made] == [1, 1]
    assert build.open_speakers == 0
