"""The practice library: pattern timing and tone direction measured from renders, every bundled session,
composition, affirmations, ambient beds and the sleep timer."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.measure import find_onsets
from voiceguide.backends.fake import FakeSpeaker, FakeTimer
from voiceguide.cli.main import main
from voiceguide.engine import affirmations
from voiceguide.engine.compile import compile_session
from voiceguide.engine.mix import Mixer
from voiceguide.script import adjust, library, parse
from voiceguide.script.model import Breathe
from voiceguide.script.patterns import PATTERNS
from voiceguide.sound import ambient, sounds

REPO = Path(__file__).resolve().parents[2]
BUNDLED = sorted((REPO / "scripts").glob("*.toml"))
RATE = 16000


def render(text: str, rate: int = RATE, script_dir: Path | None = None) -> tuple[np.ndarray, object]:
    session = parse.loads(text, script_dir=script_dir)
    timeline = compile_session(session, FakeSpeaker(), rate, day=dt.date(2026, 11, 29))
    return Mixer(timeline).render(), timeline


def inhale_onsets(audio: np.ndarray, inhale_seconds: float, expected: list[float]) -> np.ndarray:
    """Inhale-tone onsets (in seconds) found by cross-correlation near each expected time."""
    template = sounds.pacing_tone("inhale", inhale_seconds, RATE)
    found = find_onsets(audio, template, [round(t * RATE) for t in expected], search=int(0.3 * RATE))
    return np.array(found, dtype=np.float64) / RATE


def test_coherent_breath_period_is_exact_over_the_whole_session() -> None:
    audio, _ = render('[session]\ntitle = "c"\n[[step]]\npause = 1.3\n'
                      '[[step]]\nbreathe = "coherent"\ncycles = 30\ncue = "tone"\n')
    period = 60 / 5.5
    onsets = inhale_onsets(audio, period / 2, [1.3 + k * period for k in range(30)])
    gaps = np.diff(onsets)
    assert np.all(np.abs(gaps - period) <= 0.001), gaps
    assert abs((onsets[-1] - onsets[0]) - 29 * period) <= 0.001  # no drift across five minutes


def test_four_seven_eight_cycles_measure_nineteen_seconds() -> None:
    audio, timeline = render('[session]\ntitle = "x"\n[[step]]\nbreathe = "4-7-8"\ncue = "tone"\n')
    # the first breath follows the engine's one-time light-headedness notice
    first = next(e.start for e in timeline.events if e.kind == "phase") / RATE  # type: ignore[attr-defined]
    onsets = inhale_onsets(audio, 4.0, [first + k * 19.0 for k in range(4)])
    assert np.allclose(np.diff(onsets), 19.0, atol=0.001)
    assert len(PATTERNS["4-7-8"].phases) == 3 and PATTERNS["4-7-8"].default_cycles == 4


def test_cycle_by_cycle_change_lands_where_the_script_says() -> None:
    audio, _ = render('[session]\ntitle = "p"\n[[step]]\nbreathe = { inhale = 4, exhale = 4 }\ncycles = 8\n'
                      'cue = "tone"\nprogress = { phase = "exhale", by = 1, every = 2, limit = 6 }\n')
    exhales = [4, 4, 5, 5, 6, 6, 6, 6]
    expected = np.concatenate(([0.0], np.cumsum([4 + e for e in exhales])[:-1]))
    onsets = inhale_onsets(audio, 4.0, list(expected))
    assert np.allclose(np.diff(onsets), [4 + e for e in exhales[:-1]], atol=0.001)


def zero_crossing_hz(x: np.ndarray) -> float:
    crossings = np.flatnonzero(np.signbit(x[:-1]) != np.signbit(x[1:]))
    return (len(crossings) / 2) / (len(x) / RATE)


@pytest.mark.parametrize(("phase", "rising"), [("inhale", True), ("exhale", False)])
def test_tone_pitch_rises_on_the_inhale_and_falls_on_the_exhale(phase: str, rising: bool) -> None:
    audio, timeline = render('[session]\ntitle = "t"\n[[step]]\nbreathe = { inhale = 5, exhale = 5 }\n'
                             'cue = "tone"\n')
    tone = next(e for e in timeline.events if e.kind == "tone" and e.phase == phase)  # type: ignore[attr-defined]
    clip = audio[tone.start:tone.end]
    early = zero_crossing_hz(clip[int(0.8 * RATE):int(1.8 * RATE)])
    late = zero_crossing_hz(clip[-int(1.8 * RATE):-int(0.8 * RATE)])
    assert (late > early * 1.2) if rising else (early > late * 1.2), (early, late)


def test_hold_tone_is_steady_and_softer() -> None:
    hold = sounds.pacing_tone("hold", 4.0, RATE)
    inhale = sounds.pacing_tone("inhale", 4.0, RATE)
    middle = slice(RATE, 3 * RATE)
    assert abs(zero_crossing_hz(hold[RATE:2 * RATE]) - zero_crossing_hz(hold[2 * RATE:3 * RATE])) < 3
    assert np.sqrt(np.mean(hold[middle] ** 2)) < np.sqrt(np.mean(inhale[middle] ** 2))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_bundled_session_validates_and_renders_softly(path: Path) -> None:
    session = parse.load(path)
    assert session.title and session.description, "every bundled session says what it is"
    timeline = compile_session(session, FakeSpeaker(), 8000)
    audio = Mixer(timeline).render()
    assert len(audio) == timeline.length and timeline.seconds > 60
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
    assert abs(audio[0]) < 0.01 and np.abs(audio[:int(0.002 * 8000)]).max() < 0.1, "no click at the start"
    assert np.abs(audio[-int(0.01 * 8000):]).max() < 0.05, "no abrupt end"


def test_bundled_lengths_match_their_descriptions() -> None:
    """Each description states an honest length; check the number against the fake-voice estimate."""
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "forty-five": 45,
             "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8, "negen": 9, "tien": 10,
             "twintig": 20}
    checked = 0
    for path in BUNDLED:
        session = parse.load(path)
        tokens = session.description.lower().replace(".", " ").replace(",", " ").split()
        for i, tok in enumerate(tokens[:-1]):
            if tokens[i + 1] in ("minutes", "minute", "minuten", "minuut") and (tok in words or tok.isdigit()):
                stated = words.get(tok) or int(tok)
                minutes = compile_session(session, FakeTimer(), 8000).seconds / 60  # the fake voice's lengths
                sleep_minutes = sum(s.action.seconds for s in session.steps  # type: ignore[union-attr]
                                    if type(s.action).__name__ == "Sleep") / 60
                assert min(abs(minutes - stated), abs(minutes - sleep_minutes - stated)) <= max(1.5, 0.2 * stated), \
                    f"{path.name}: says {stated} min, is {minutes:.1f}"
                checked += 1
                break
    assert checked >= 5


def test_one_bundled_session_renders_with_the_real_voice(tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (tools/test installs it)")
    out = tmp_path / "demo.wav"
    assert main(["render", "demo", "--tts", "espeak", "-o", str(out), "--cache-dir", str(tmp_path / "cache")]) == 0
    import soundfile

    info = soundfile.info(str(out))
    assert 50 < info.duration < 80


def test_list_json_has_the_fields_and_filters_by_language(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"id", "title", "language", "minutes", "description"} <= set(rows[0])
    assert main(["list", "--json", "--language", "nl"]) == 0
    dutch = json.loads(capsys.readouterr().out)
    assert dutch and all(r["language"] == "nl" for r in dutch) and len(dutch) < len(rows)


def test_a_user_session_with_a_bundled_id_replaces_it(capsys: pytest.CaptureFixture[str]) -> None:
    folder = library.user_scripts_dir()
    folder.mkdir(parents=True)
    (folder / "box.toml").write_text('[session]\ntitle = "My own box"\n[[step]]\nbreathe = "box"\n')
    assert library.find("box") == folder / "box.toml"
    assert main(["list", "--json"]) == 0
    boxes = [r for r in json.loads(capsys.readouterr().out) if r["id"] == "box"]
    assert [b["title"] for b in boxes] == ["My own box"]


def test_include_splices_steps_and_reports_loops(tmp_path: Path) -> None:
    (tmp_path / "part.toml").write_text('[session]\ntitle = "part"\n[[step]]\nsay = "two"\n[[step]]\npause = 2\n')
    (tmp_path / "main.toml").write_text('[session]\ntitle = "m"\n[[step]]\nsay = "one"\n'
                                        '[[step]]\ninclude = "part"\n[[step]]\nsay = "three"\n')
    session = parse.load(tmp_path / "main.toml")
    assert [s.index for s in session.steps] == [1, 2, 3, 4]
    assert [getattr(s.action, "text", None) for s in session.steps] == ["one", "two", None, "three"]
    (tmp_path / "loop.toml").write_text('[session]\ntitle = "l"\n[[step]]\ninclude = "loop"\n')
    with pytest.raises(parse.ScriptError, match=r"include loop: loop\.toml -> loop\.toml"):
        parse.load(tmp_path / "loop.toml")


def test_bedtime_is_assembled_from_parts() -> None:
    text = (REPO / "scripts" / "bedtime.toml").read_text()
    if "include" not in text:
        pytest.skip("bedtime does not use parts yet")
    session = parse.load(REPO / "scripts" / "bedtime.toml")
    assert len(session.steps) > text.count("[[step]]")


def test_affirmations_are_stable_for_a_day_and_change_across_days() -> None:
    day = dt.date(2026, 11, 29)
    first = affirmations.choose(5, "en", "s", day)
    assert first == affirmations.choose(5, "en", "s", day) and len(set(first)) == 5
    later = [affirmations.choose(5, "en", "s", day + dt.timedelta(days=n)) for n in range(1, 6)]
    assert any(other != first for other in later)
    assert set(affirmations.choose(4, "nl", "s", day)) <= set(affirmations.bundled("nl"))


def test_personal_affirmations_are_mixed_in_up_to_half() -> None:
    own = ["I water my plants.", "I keep my promises to myself.", "I am allowed to be slow.",
           "My home is mine.", "I can breathe here."]
    affirmations.personal_file().parent.mkdir(parents=True, exist_ok=True)
    affirmations.personal_file().write_text("# mine\n" + "\n".join(own) + "\n\n")
    chosen = affirmations.choose(6, "en", "s", dt.date(2026, 1, 1))
    assert len(chosen) == 6 and sum(line in own for line in chosen) == 3
    assert not set(affirmations.choose(6, "en", "s", dt.date(2026, 1, 1), personal=False)) & set(own)


def test_ambient_loops_are_seamless_and_the_layout_covers_the_bed_exactly() -> None:
    for name in ambient.BEDS:
        loop = ambient.loop(name, 8000)
        steps = np.abs(np.diff(loop))
        assert abs(float(loop[0] - loop[-1])) <= steps.max(), name  # the wrap is like any other step
    loop = ambient.loop("pink", 1000)
    pieces = ambient.layout(loop, 75_500, 6000, 30_000)
    assert pieces[0][0] == 0 and sum(len(c) for _, c in pieces) == 75_500
    assert all(a + len(c) == b for (a, c), (b, _) in itertools.pairwise(pieces))
    assert any(c is loop for _, c in pieces), "the middle shares one loop array"
    assert abs(pieces[0][1][0]) < 1e-6 and abs(pieces[-1][1][-1]) < 1e-3


def test_sleep_timer_fades_the_bed_out_at_the_end() -> None:
    audio, timeline = render('[session]\ntitle = "b"\nambient = "brown"\nambient_volume = 0.5\n'
                             '[[step]]\nsay = "Good night."\n[[step]]\nsleep = 60\nfade = 20\n', rate=8000)
    def rms(a: float, b: float) -> float:
        seg = audio[int(a * 8000):int(b * 8000)]
        return float(np.sqrt(np.mean(seg**2)))
    end = timeline.seconds  # type: ignore[attr-defined]
    assert rms(end - 25, end - 21) > 0.02          # the bed plays before the fade
    assert rms(end - 11, end - 9) < rms(end - 25, end - 21)  # halfway down
    assert rms(end - 0.2, end) < 1e-3              # and gone at the end


def test_command_line_overrides_change_the_breathing(capsys: pytest.CaptureFixture[str]) -> None:
    session = parse.loads('[session]\ntitle = "o"\n[[step]]\nsay = "hi"\n[[step]]\nbreathe = "box"\ncycles = 2\n')
    held = adjust.without_holds(session)
    breathe = held.steps[1].action
    assert isinstance(breathe, Breathe) and [p.kind for p in breathe.pattern.phases] == ["inhale", "exhale", "rest"]
    faster = adjust.with_bpm(session, 6.0).steps[1].action
    assert isinstance(faster, Breathe) and abs(faster.pattern.cycle_seconds - 10.0) < 1e-9
    length = compile_session(session, FakeSpeaker(), 8000).seconds
    longer = adjust.with_minutes(session, 5, length)
    assert abs(compile_session(longer, FakeSpeaker(), 8000).seconds - 300) <= 8
    assert main(["show", "box", "--tts", "fake", "--no-holds", "--cycles", "2"]) == 0
    out = capsys.readouterr().out
    breathing = [line for line in out.splitlines() if "  breathe box" in line]
    assert breathing and all("hold" not in line and "x 2" in line for line in breathing)
    assert main(["show", "box", "--tts", "fake", "--bpm", "50"]) == 1
    assert "--bpm must be" in capsys.readouterr().err
