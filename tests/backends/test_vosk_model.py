"""The Vosk recognizer with a real model: the Korean one, the only Vosk model on the package index.

No English Vosk model can be had here, so these tests speak Korean (espeak-ng's Korean voice) to the
Korean model. They check the real path: the model folder is loaded once by the vosk library, audio at
another rate is brought to 16 kHz, words and their confidences come back, silence gives no words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.speech_data import KOREAN_ANSWER, korean_speech, syllables_in_common, vosk_model_or_skip
from voiceguide import backends
from voiceguide.backends import sr_recognizers
from voiceguide.cli.main import main
from voiceguide.journal.audio import load
from voiceguide.seams import Clip


@pytest.fixture(scope="module")
def model() -> Path:
    return vosk_model_or_skip()


@pytest.fixture(scope="module")
def spoken(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return korean_speech(tmp_path_factory.mktemp("ko") / "answer.wav")


def test_vosk_hears_korean_speech_with_a_real_model(model: Path, spoken: Path) -> None:
    rec = backends.recognizer_with_model("vosk", str(model))
    clip = load(spoken)
    assert clip.sample_rate != 16000  # espeak-ng speaks at 22.05 kHz: the recognizer must resample
    result = rec.transcribe(clip)
    assert syllables_in_common(result.text) >= 3, f"heard {result.text!r} for {KOREAN_ANSWER!r}"
    assert result.confidence is not None and 0.0 < result.confidence <= 1.0
    # a second answer reuses the loaded model (loading it takes seconds)
    loaded = sr_recognizers._MODELS[("vosk", str(model))]
    again = backends.recognizer_with_model("vosk", str(model)).transcribe(clip)
    assert again.text == result.text and sr_recognizers._MODELS[("vosk", str(model))] is loaded


def test_vosk_hears_nothing_in_silence(model: Path) -> None:
    rec = backends.recognizer_with_model("vosk", str(model))
    result = rec.transcribe(Clip(np.zeros(32000, dtype=np.float32), 16000))
    assert result.text == "" and result.confidence is None


def test_transcribe_command_uses_the_vosk_model(model: Path, spoken: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", str(spoken), "--recognizer", "vosk", "--model", str(model)]) == 0
    printed = capsys.readouterr().out
    assert syllables_in_common(printed) >= 3, printed
