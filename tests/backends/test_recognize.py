"""Recognition: real LibriVox speech through the persistent pocketsphinx decoder, the other recognizers'
setup errors, the fake, WER itself, and ``voiceguide transcribe``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soxr

from tests.measure import wer, word_errors
from tests.speech_clips import LabeledClip, load_clip
from tests.speech_data import librivox_or_skip
from voiceguide import backends
from voiceguide.backends import sphinx
from voiceguide.cli.main import main
from voiceguide.errors import BackendError, RecognizerError
from voiceguide.seams import Clip, Transcript

WER_LIMIT = 0.20


@pytest.fixture(scope="session")
def librivox() -> list[LabeledClip]:
    return librivox_or_skip()


@pytest.fixture(scope="session")
def short_clip(librivox: list[LabeledClip]) -> LabeledClip:
    return next(c for c in librivox if c.reference == "he was not an ill disposed young man")


def test_word_errors_counts_substitutions_insertions_and_deletions() -> None:
    assert word_errors("the cat sat", "the cat sat") == (0, 3)
    assert word_errors("the cat sat", "The cat, sat!") == (0, 3)
    assert word_errors("the cat sat", "a cat sat down") == (2, 3)
    assert word_errors("the cat sat", "cat") == (2, 3)
    assert wer([("a b", "a c"), ("c d e f", "c d e f")]) == pytest.approx(1 / 6)


def test_persistent_decoder_on_real_speech(librivox: list[LabeledClip]) -> None:
    rec = backends.recognizer("sphinx")
    results = [rec.transcribe(load_clip(c.path)) for c in librivox]
    score = wer([(c.reference, r.text) for c, r in zip(librivox, results, strict=True)])
    assert score <= WER_LIMIT, [r.text for r in results]
    assert all(r.confidence is not None and 0.0 < r.confidence <= 1.0 for r in results)


def test_second_call_and_second_recognizer_reuse_the_decoder(short_clip: LabeledClip) -> None:
    clip = load_clip(short_clip.path)
    first = sphinx.SphinxRecognizer()
    first.transcribe(clip)
    loads, decoder = sphinx.load_count(), first.decoder
    again = first.transcribe(clip)
    other = backends.recognizer("sphinx")
    assert isinstance(other, sphinx.SphinxRecognizer)
    assert other.transcribe(clip) == again
    assert sphinx.load_count() == loads
    assert first.decoder is decoder and other.decoder is decoder


def test_other_sample_rates_are_resampled(short_clip: LabeledClip) -> None:
    clip = load_clip(short_clip.path)
    at_44k = Clip(np.asarray(soxr.resample(clip.samples, clip.sample_rate, 44100), dtype=np.float32), 44100)
    heard = backends.recognizer("sphinx").transcribe(at_44k)
    assert word_errors(short_clip.reference, heard.text)[0] <= 1, heard.text


@pytest.mark.parametrize("samples", [np.zeros(16000, dtype=np.float32), np.zeros(0, dtype=np.float32),
                                     np.full(800, 0.2, dtype=np.float32)])
def test_silence_and_tiny_clips_give_an_empty_transcript(samples: np.ndarray) -> None:
    assert backends.recognizer("sphinx").transcribe(Clip(samples, 16000)) == Transcript("", None)


def test_speech_recognition_path_matches_the_reference(short_clip: LabeledClip) -> None:
    heard = backends.recognizer("sphinx-sr").transcribe(load_clip(short_clip.path))
    assert word_errors(short_clip.reference, heard.text)[0] <= 1, heard.text


def test_pcm16_scales_and_resamples() -> None:
    raw = sphinx.pcm16(Clip(np.full(4800, 0.5, dtype=np.float32), 48000))
    values = np.frombuffer(raw, dtype="<i2")
    assert len(values) == 1600
    assert abs(int(values[800]) - 16384) <= 20
    assert np.frombuffer(sphinx.pcm16(Clip(np.array([2.0, -2.0], dtype=np.float32), 16000)), "<i2").tolist() \
        == [32767, -32768]


def test_pcm16_gives_back_the_samples_a_kept_answer_holds(tmp_path: Path) -> None:
    # the journal keeps answers as 16-bit FLAC (libsndfile scales by 32768): reading one back must hand a
    # recognizer exactly the samples the live clip gave it, or retranscribing changes the words
    from voiceguide.journal import audio as answer_audio

    live = Clip(np.random.default_rng(7).uniform(-1.0, 1.0, 16000).astype(np.float32), 16000)
    kept = answer_audio.load(answer_audio.save_flac(tmp_path, live))
    assert sphinx.pcm16(kept) == sphinx.pcm16(live)


def test_transcribe_cli_prints_the_words(short_clip: LabeledClip, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", str(short_clip.path), "--recognizer", "sphinx"]) == 0
    out = capsys.readouterr().out.strip()
    assert word_errors(short_clip.reference, out)[0] <= 1, out


def test_transcribe_cli_missing_file_is_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", str(tmp_path / "nope.wav")]) == 1
    err = capsys.readouterr().err
    assert "no such audio file" in err and "Traceback" not in err


def test_transcribe_cli_unreadable_file_is_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    assert main(["transcribe", str(bad), "--recognizer", "fake"]) == 1
    assert "cannot read audio" in capsys.readouterr().err


def test_fake_recognizer_returns_what_it_is_given() -> None:
    rec = backends.recognizer("fake", text="I feel calmer", texts=["seven"])
    clip = Clip(np.zeros(10, dtype=np.float32), 16000)
    assert rec.transcribe(clip) == Transcript("seven", 1.0)
    assert rec.transcribe(clip) == Transcript("I feel calmer", 1.0)


def test_unknown_recognizer_names_the_known_ones() -> None:
    with pytest.raises(BackendError, match="sphinx, sphinx-sr, vosk"):
        backends.recognizer("nope")
    with pytest.raises(BackendError, match="bad settings"):
        backends.recognizer("fake", colour="blue")


def test_missing_models_are_clear_errors(tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    with pytest.raises(RecognizerError, match=str(missing)):
        backends.recognizer("sphinx", model_dir=missing)
    with pytest.raises(RecognizerError, match=f"no Vosk model in {missing}.*download"):
        backends.recognizer("vosk", model_dir=missing)
    with pytest.raises(RecognizerError, match="needs model_dir"):
        backends.recognizer("vosk")


@pytest.mark.parametrize(("name", "package"), [("whisper", "openai-whisper"), ("faster-whisper", "faster-whisper")])
def test_whisper_without_its_library_says_what_to_install(name: str, package: str) -> None:
    pytest.importorskip("speech_recognition")
    module = "whisper" if name == "whisper" else "faster_whisper"
    try:
        __import__(module)
    except ImportError:
        with pytest.raises(BackendError, match=f"pip install {package}"):
            backends.recognizer(name, model=str(Path("/nonexistent/model")))
    else:
        with pytest.raises(RecognizerError, match="/nonexistent/model"):
            backends.recognizer(name, model="/nonexistent/model")


def test_retranscribe_fills_in_a_kept_answer(short_clip: LabeledClip, tmp_path: Path) -> None:
    from voiceguide.journal import Journal

    path = tmp_path / "j.sqlite3"
    with Journal(path) as j:
        entry_id = j.add("What did he say?", audio=load_clip(short_clip.path))
    assert main(["journal", "retranscribe", str(entry_id), "--journal", str(path), "--recognizer", "sphinx"]) == 0
    with Journal(path) as j:
        entry = j.require(entry_id)
    assert entry.recognizer == "sphinx" and entry.transcript is not None
    assert word_errors(short_clip.reference, entry.transcript)[0] <= 1, entry.transcript


def test_model_option_goes_to_each_recognizers_own_setting(tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    with pytest.raises(RecognizerError, match=f"no Vosk model in {missing}"):
        backends.recognizer_with_model("vosk", str(missing))
    with pytest.raises(RecognizerError, match=str(missing)):
        backends.recognizer_with_model("sphinx", str(missing))
    with pytest.raises(BackendError, match="takes no model"):
        backends.recognizer_with_model("fake", "anything")
    assert backends.recognizer_with_model("fake").name == "fake"  # no model: the recognizer's own default


def test_run_takes_a_recognizer_model(tmp_path: Path) -> None:
    from voiceguide.cli.main import build_parser

    args = build_parser().parse_args(["run", "grounding", "--recognizer", "vosk", "--model", str(tmp_path)])
    assert (args.recognizer, args.model) == ("vosk", str(tmp_path))
