"""faster-whisper: the filter for Whisper's inventions (fakes), and the real packaged models on real speech."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from voiceguide import backends
from voiceguide.backends import whisper_models
from voiceguide.backends.whisper_stt import FasterWhisperRecognizer, judge
from voiceguide.errors import RecognizerError


@dataclass(frozen=True)
class Segment:
    text: str
    avg_logprob: float = -0.2
    no_speech_prob: float = 0.01
    compression_ratio: float = 1.2


def test_real_words_are_kept_with_a_confidence() -> None:
    heard = judge([Segment(" I feel calmer."), Segment(" A 6.", avg_logprob=-0.4)])
    assert heard.text == "I feel calmer. A 6." and heard.confidence is not None and 0.6 < heard.confidence < 0.8


@pytest.mark.parametrize("segments", [
    [Segment(" Thank you.", avg_logprob=-0.7, no_speech_prob=0.3)],  # the stock phrase, unsure
    [Segment(" you", avg_logprob=-0.2, no_speech_prob=0.4)],  # the stock phrase, said to be silence
    [Segment(" Bedankt voor het kijken!", avg_logprob=-0.6, no_speech_prob=0.05)],
    [Segment(" The the the the the the", compression_ratio=3.1)],  # a decoding loop
    [Segment(" Okay so", avg_logprob=-1.3, no_speech_prob=0.8)],  # Whisper's own no-speech rule
    [Segment(" .", avg_logprob=-1.7, no_speech_prob=0.57)],  # seen on room noise: punctuation only
    [],
])
def test_inventions_on_silence_and_noise_are_dropped(segments: list[Segment]) -> None:
    assert judge(segments).text == ""


def test_a_confident_thank_you_is_an_answer() -> None:
    assert judge([Segment(" Thank you.", avg_logprob=-0.15, no_speech_prob=0.02)]).text == "Thank you."


def test_models_are_named_in_the_journal_and_checked_for_language() -> None:
    if not whisper_models.installed(whisper_models.TINY_EN):
        pytest.skip("tiny.en is not installed")
    assert FasterWhisperRecognizer("tiny.en").name == "faster-whisper/tiny.en"
    with pytest.raises(RecognizerError, match=r"only English.*--model base"):
        FasterWhisperRecognizer("tiny.en", language="nl")
    with pytest.raises(RecognizerError, match=r"no model\.bin"):
        FasterWhisperRecognizer("/")


def test_auto_picks_whisper_for_each_language_and_sphinx_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (whisper_models.installed(whisper_models.TINY_EN) and whisper_models.installed(whisper_models.BASE)):
        pytest.skip("the Whisper models are not installed")
    assert backends.recognizer_with_model("auto", language="en").name == "faster-whisper/tiny.en"
    assert backends.recognizer_with_model("auto", language="nl").name == "faster-whisper/base"
    monkeypatch.setattr(whisper_models, "_package_dir", lambda name: None)
    assert backends.recognizer_with_model("auto", language="en").name == "sphinx"


def test_any_ctranslate2_folder_given_as_model_is_used(tmp_path: Path) -> None:
    if not whisper_models.installed(whisper_models.TINY_EN):
        pytest.skip("tiny.en is not installed")
    source = whisper_models.folder(whisper_models.TINY_EN)
    mine = tmp_path / "my-whisper"
    mine.mkdir()
    for f in source.iterdir():
        (mine / f.name).symlink_to(f)
    rec = backends.recognizer_with_model("auto", str(mine), "en")
    assert rec.name == "faster-whisper/my-whisper"


@pytest.fixture(scope="module")
def librivox() -> list[tuple[str, object]]:
    from tests.speech_clips import load_clip
    from tests.speech_data import librivox_or_skip, whisper_or_skip

    whisper_or_skip()
    return [(c.reference, load_clip(c.path)) for c in librivox_or_skip()]


@pytest.mark.parametrize(("model", "most"), [("tiny.en", 0.06), ("base", 0.06)])
def test_the_packaged_models_get_real_speech_right(librivox: list[tuple[str, object]], model: str,
                                                   most: float) -> None:
    from tests.measure import wer

    rec = FasterWhisperRecognizer(model, "en")
    heard = [(reference, rec.transcribe(clip).text) for reference, clip in librivox]  # type: ignore[arg-type]
    assert wer(heard) <= most, heard


@pytest.mark.parametrize("model", ["tiny.en", "base"])
def test_nothing_is_invented_in_silence_or_room_noise(librivox: object, model: str) -> None:
    from tests.measure import invented_answers

    assert invented_answers(FasterWhisperRecognizer(model, "en"), tries=20) == {"silence": [], "room noise": []}
