"""Voice shaping: sentences with pauses between them, the softening shelf, pitch, and one loudness for every line."""

from __future__ import annotations

import cmath
import math
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import compiled, session_of
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.backends.speech_cache import CachedSpeaker
from voiceguide.cli import main as cli
from voiceguide.engine.compile import compile_session
from voiceguide.errors import ScriptError
from voiceguide.script import parse
from voiceguide.seams import Clip, Samples, SpeechParams
from voiceguide.sound import voice_shaping


def rms(x: Samples) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def sine(hz: float, rate: int, seconds: float = 1.0) -> Samples:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def response(b: tuple[float, ...], a: tuple[float, ...], hz: float, rate: int) -> float:
    """|H| of a biquad at ``hz``, from its coefficients."""
    z = cmath.exp(-1j * 2 * math.pi * hz / rate)
    return abs((b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z))


def db(ratio: float) -> float:
    return 20 * math.log10(ratio)


# --- sentences -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "want"), [
    ("Welcome back. Let your breath settle.", ["Welcome back.", "Let your breath settle."]),
    ("Notice the floor!  Is it warm?\nRest here.", ["Notice the floor!", "Is it warm?", "Rest here."]),
    ("Breathe in for 3.5 seconds. Then out", ["Breathe in for 3.5 seconds.", "Then out"]),
    ("She said “rest now.” Then quiet.", ["She said “rest now.”", "Then quiet."]),
    ("Slowly... and gently.", ["Slowly...", "and gently."]),
    ("One line without an end", ["One line without an end"]),
    ("Rest. ...", ["Rest. ..."]),
])
def test_split_sentences(text: str, want: list[str]) -> None:
    assert voice_shaping.split_sentences(text) == want


def test_join_puts_exact_silence_between_parts() -> None:
    a, b = np.ones(5, dtype=np.float32), np.full(3, 0.5, dtype=np.float32)
    out = voice_shaping.join([a, b, a], gap=4)
    assert len(out) == 5 + 4 + 3 + 4 + 5
    assert np.all(out[5:9] == 0) and np.all(out[12:16] == 0)
    assert np.all(out[9:12] == 0.5)
    assert len(voice_shaping.join([], gap=4)) == 0


def test_spoken_with_a_sentence_gap_synthesises_each_sentence(speaker: FakeSpeaker) -> None:
    text = "Welcome back. Let your breath settle. Nothing to do."
    rate = 8000
    whole = voice_shaping.spoken(speaker, text, SpeechParams(), rate, 0.0, False)
    assert [call[0] for call in speaker.calls] == [text]
    speaker.calls.clear()
    parts = voice_shaping.spoken(speaker, text, SpeechParams(), rate, 0.75, False)
    assert [call[0] for call in speaker.calls] == ["Welcome back.", "Let your breath settle.", "Nothing to do."]
    pieces = [FakeSpeaker.seconds(t, SpeechParams()) for t, _ in speaker.calls]
    expected = sum(int(p * FakeSpeaker.sample_rate) * rate // FakeSpeaker.sample_rate for p in pieces) + 2 * 6000
    assert abs(len(parts) - expected) <= 3
    assert len(parts) > len(whole)


def test_sentence_gap_in_a_script_is_real_silence_of_that_length() -> None:
    rate = 8000
    body = '[[step]]\nsay = "Welcome back. Let your breath settle."\nsentence_gap = 1.5\n'
    timeline = compiled(body, rate=rate)
    clip = timeline.clips[timeline.events[0].clip or 0]
    silent = np.flatnonzero(np.abs(clip) < 1e-7)
    runs = np.split(silent, np.flatnonzero(np.diff(silent) != 1) + 1)
    longest = max(len(r) for r in runs)
    assert int(1.5 * rate) <= longest <= int(1.5 * rate) + int(0.01 * rate)
    plain = compiled('[[step]]\nsay = "Welcome back. Let your breath settle."\n', rate=rate)
    assert timeline.length > plain.length + int(1.4 * rate)


def test_session_sentence_gap_applies_and_a_step_overrides_it(speaker: FakeSpeaker) -> None:
    header = '[session]\ntitle = "T"\nsentence_gap = 0.5\n'
    body = '[[step]]\nsay = "One. Two."\n[[step]]\nsay = "Three. Four."\nsentence_gap = 0\n'
    compile_session(session_of(body, header), speaker, 8000)
    assert [c[0] for c in speaker.calls] == ["One.", "Two.", "Three. Four."]


# --- the softening shelf ---------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [22050, 48000])
def test_high_shelf_keeps_lows_and_lowers_highs(rate: int) -> None:
    b, a = voice_shaping.high_shelf(rate)
    assert db(response(b, a, 50.0, rate)) == pytest.approx(0.0, abs=0.1)
    assert db(response(b, a, 0.49 * rate, rate)) == pytest.approx(voice_shaping.SOFTEN_DB, abs=0.3)
    # the corner: half the cut, as the cookbook's shelf defines it
    assert db(response(b, a, voice_shaping.SOFTEN_HZ, rate)) == pytest.approx(voice_shaping.SOFTEN_DB / 2, abs=0.3)


def test_fft_filter_matches_the_recursive_biquad() -> None:
    rate = 22050
    b, a = voice_shaping.high_shelf(rate)
    x = np.random.default_rng(7).standard_normal(3000).astype(np.float32) * 0.3
    y = np.zeros(len(x))
    for n in range(len(x)):  # the direct form, sample by sample: the definition of the filter
        y[n] = (b[0] * x[n] + (b[1] * x[n - 1] if n >= 1 else 0) + (b[2] * x[n - 2] if n >= 2 else 0)
                - (a[1] * y[n - 1] if n >= 1 else 0) - (a[2] * y[n - 2] if n >= 2 else 0))
    got = voice_shaping.soften(x, rate)
    assert got.dtype == np.float32 and len(got) == len(x)
    assert np.max(np.abs(got - y)) < 1e-5


def test_impulse_response_dies_away() -> None:
    h = voice_shaping.impulse_response(*voice_shaping.high_shelf(48000))
    assert 10 < len(h) < 2000
    assert np.all(np.abs(h[-10:]) < 1e-9)


def test_soften_measured_on_sines() -> None:
    rate = 48000
    low, high = sine(200.0, rate), sine(9000.0, rate)
    assert db(rms(voice_shaping.soften(low, rate)) / rms(low)) == pytest.approx(0.0, abs=0.2)
    assert db(rms(voice_shaping.soften(high, rate)) / rms(high)) == pytest.approx(-5.5, abs=0.6)
    assert len(voice_shaping.soften(np.zeros(0, dtype=np.float32), rate)) == 0


def high_share(x: Samples, rate: int, above: float = 3000.0) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return float(spectrum[freqs > above].sum() / spectrum.sum())


class HissySpeaker(FakeSpeaker):
    """A 'voice' of white noise: energy at every frequency, so the shelf has something to cut."""

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        n = int(self.seconds(text, params) * self.sample_rate)
        return Clip(np.random.default_rng(1).uniform(-0.5, 0.5, n).astype(np.float32), self.sample_rate)


def test_soften_in_a_session_dulls_the_voice_but_keeps_its_loudness() -> None:
    rate = 16000
    body = '[[step]]\nsay = "Let your shoulders soften."\n'
    plain = compiled(body, rate=rate, speaker=HissySpeaker())
    soft = compiled(body, rate=rate, header='[session]\ntitle = "T"\nsoften = true\n', speaker=HissySpeaker())
    a, b = plain.clips[0], soft.clips[0]
    assert len(a) == len(b)
    assert high_share(b, rate) < 0.6 * high_share(a, rate)
    assert rms(b) == pytest.approx(rms(a), rel=0.02)


def test_finish_normalises_every_line_to_one_loudness() -> None:
    rate = 16000
    loud = Clip(sine(300.0, 22050) * 1.6, 22050)
    quiet = Clip(sine(300.0, 22050) * 0.02, 22050)
    a = voice_shaping.finish(loud, rate, softened=True)
    b = voice_shaping.finish(quiet, rate, softened=False)
    assert rms(a) == pytest.approx(0.1, rel=0.02) and rms(b) == pytest.approx(0.1, rel=0.02)
    assert len(a) == len(b) == rate


def test_soften_on_the_command_line(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    assert cli.main(["render", "demo", "-o", str(wav), "--tts", "fake", "--soften", "--pitch", "40",
                     "--sentence-gap", "0.4"]) == 0
    assert wav.stat().st_size > 0
    assert cli.main(["show", "demo", "--tts", "fake", "--pitch", "101"]) == 1
    assert cli.main(["show", "demo", "--tts", "fake", "--sentence-gap", "-1"]) == 1


# --- pitch -----------------------------------------------------------------------------------------

def test_pitch_reaches_the_speaker_from_session_and_step(speaker: FakeSpeaker) -> None:
    header = '[session]\ntitle = "T"\npitch = 40\n'
    body = '[[step]]\nsay = "Low."\n[[step]]\nsay = "High."\npitch = 70\n'
    compile_session(session_of(body, header), speaker, 8000)
    assert {text: params.pitch for text, params in speaker.calls} == {"Low.": 40, "High.": 70}


def test_pitch_is_part_of_the_cache_key_only_when_set(tmp_path: Path) -> None:
    cached = CachedSpeaker(FakeSpeaker(), tmp_path)
    plain = cached.key("Hello.", SpeechParams())
    assert cached.key("Hello.", SpeechParams(pitch=40)) != plain
    assert cached.key("Hello.", SpeechParams(pitch=60)) != cached.key("Hello.", SpeechParams(pitch=40))
    assert cached.key("Hello.", SpeechParams(pitch=None)) == plain


def fundamental(x: Samples, rate: int) -> float:
    """Median F0 of voiced 40 ms frames by autocorrelation (70-400 Hz)."""
    frame = int(0.04 * rate)
    found = []
    for start in range(0, len(x) - frame, frame):
        f = x[start:start + frame].astype(np.float64)
        if rms(f) < 0.3 * rms(x):
            continue
        f -= f.mean()
        ac = np.correlate(f, f, "full")[frame - 1:]
        lo, hi = int(rate / 400), int(rate / 70)
        lag = lo + int(np.argmax(ac[lo:hi]))
        found.append(rate / lag)
    return float(np.median(found))


@pytest.mark.parametrize("backend", ["espeak", "pyttsx3"])
def test_espeak_pitch_changes_the_voice(backend: str) -> None:
    from voiceguide import backends
    from voiceguide.errors import SpeechError, VoiceguideError

    try:
        speaker = backends.speaker(backend)
    except VoiceguideError as exc:
        pytest.skip(f"{backend} cannot load here: {exc}")
    try:
        text = "Let your breath settle, slowly and gently."
        low = speaker.synthesize(text, SpeechParams(rate=130, pitch=15))
        high = speaker.synthesize(text, SpeechParams(rate=130, pitch=85))
        normal = speaker.synthesize(text, SpeechParams(rate=130))
    except SpeechError as exc:
        pytest.skip(f"no working espeak-ng voice here: {exc}")
    f_low, f_high = fundamental(low.samples, low.sample_rate), fundamental(high.samples, high.sample_rate)
    f_normal = fundamental(normal.samples, normal.sample_rate)
    assert f_low * 1.2 < f_normal < f_high / 1.2
    assert abs(low.seconds - high.seconds) < 0.15 * normal.seconds  # pitch, not timing


# --- script keys -----------------------------------------------------------------------------------

def test_shaping_keys_are_read() -> None:
    header = '[session]\ntitle = "T"\nsentence_gap = 0.8\npitch = 45\nsoften = true\n'
    session = session_of('[[step]]\nsay = "Hi."\npitch = 60\nsentence_gap = 0.2\n', header)
    assert (session.sentence_gap, session.pitch, session.soften) == (0.8, 45, True)
    say = session.steps[0].action
    assert (getattr(say, "pitch", None), getattr(say, "sentence_gap", None)) == (60, 0.2)


@pytest.mark.parametrize(("header", "body", "message"), [
    ('pitch = 120\n', "", "[session]: pitch must be from 0 to 100, not 120"),
    ('pitch = 4.5\n', "", "[session]: pitch must be a whole number, not 4.5"),
    ('soften = "yes"\n', "", "[session]: soften must be true or false, not 'yes'"),
    ('sentence_gap = 30\n', "", "[session]: sentence_gap must be from 0 to 10, not 30"),
    ("", 'pitch = -1\n', "step 1 (say): pitch must be from 0 to 100, not -1"),
    ("", 'sentence_gap = "long"\n', "step 1 (say): sentence_gap must be a number, not 'long'"),
    ("", 'audio = 3\n', "step 1 (say): audio must be text in quotes, not 3"),
])
def test_bad_shaping_values_are_located(header: str, body: str, message: str) -> None:
    with pytest.raises(ScriptError) as err:
        parse.loads(f'[session]\ntitle = "T"\n{header}[[step]]\nsay = "Hi."\n{body}', name="s.toml")
    assert [str(p) for p in err.value.problems] == [f"s.toml: {message}"]
