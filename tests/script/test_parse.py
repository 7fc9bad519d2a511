"""The script parser: valid scripts become exact data; every kind of bad input becomes located messages."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import HEADER, SCRIPTS, script, session_of
from voiceguide.cli import main as cli
from voiceguide.errors import ScriptError
from voiceguide.script import library, parse
from voiceguide.script.model import Breathe, Chime, Listen, Pause, Phase, Say
from voiceguide.script.patterns import PATTERNS

KNOWN = ", ".join(PATTERNS)
"""The bundled pattern names as the parser lists them."""
ACTIONS = ", ".join(parse.ACTIONS)
SESSION_KEYS = ", ".join(sorted(parse.SESSION_KEYS))

def problems(text: str | bytes, name: str = "box.toml") -> list[str]:
    """The messages ``parse.loads`` reports for ``text`` (fails the test if it parses)."""
    with pytest.raises(ScriptError) as info:
        parse.loads(text, name=name)
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return [str(p) for p in info.value.problems]


# --- valid scripts ------------------------------------------------------------------------------

def test_minimal_script_defaults() -> None:
    s = parse.loads(script('[[step]]\nsay = "  Hello.  "\n'), name="hello.toml", session_id="hello")
    assert s.id == "hello"
    assert s.title == "Test"
    assert s.language == "en"
    assert s.rate is None
    assert s.volume == 1.0
    assert s.voice is None
    assert s.speech_gap == 0.6
    assert len(s.steps) == 1
    assert s.steps[0].index == 1
    assert s.steps[0].name == "say"
    assert s.steps[0].action == Say("Hello.")


def test_session_settings_are_read() -> None:
    header = ('[session]\ntitle = "Calm"\nlanguage = "nl"\nrate = 120\nvolume = 0.5\nvoice = "anna"\n'
              'description = "For evenings."\nspeech_gap = 1.25\n')
    s = session_of('[[step]]\npause = 1\n', header=header)
    assert (s.title, s.language, s.rate, s.volume, s.voice, s.description, s.speech_gap) == (
        "Calm", "nl", 120, 0.5, "anna", "For evenings.", 1.25)


def test_every_action_is_read() -> None:
    body = (
        '[[step]]\nsay = "Welcome."\nrate = 100\nvolume = 0.5\n'
        '[[step]]\npause = 2.5\n'
        '[[step]]\nchime = "bell"\nvolume = 0.25\n'
        '[[step]]\nbreathe = "4-7-8"\ncycles = 4\ncue = "tone"\n'
        '[[step]]\nbreathe = { inhale = 4.5, hold = 0, exhale = 6, rest = 1 }\n'
        '[[step]]\nlisten = "How do you feel, 0 to 10?"\ntimeout = 5\nlimit = 20\nkind = "rating"\n'
    )
    steps = session_of(body).steps
    assert [s.index for s in steps] == [1, 2, 3, 4, 5, 6]
    assert [s.name for s in steps] == ["say", "pause", "chime", "breathe", "breathe", "listen"]
    assert steps[0].action == Say("Welcome.", 100, 0.5)
    assert steps[1].action == Pause(2.5)
    chime = steps[2].action
    assert isinstance(chime, Chime)
    assert chime.sound == "bell"
    assert chime.path == library.data_dir("audio") / "bell.wav"
    assert chime.volume == 0.25
    assert steps[3].action == Breathe(PATTERNS["4-7-8"], 4, "tone")
    inline = steps[4].action
    assert isinstance(inline, Breathe)
    assert inline.cycles == 1 and inline.cue == "both"
    assert inline.pattern.name == "custom"
    assert inline.pattern.phases == (Phase("inhale", 4.5), Phase("exhale", 6.0), Phase("rest", 1.0))
    assert inline.pattern.cycle_seconds == 11.5
    assert steps[5].action == Listen("How do you feel, 0 to 10?", 5.0, 20.0, "rating")


def test_chime_path_is_relative_to_the_script(tmp_path: Path) -> None:
    (tmp_path / "sounds").mkdir()
    wav = tmp_path / "sounds" / "gong.wav"
    import soundfile

    soundfile.write(str(wav), np.zeros(800, dtype=np.float32), 8000)  # the parser opens it as audio
    path = tmp_path / "mine.toml"
    path.write_text(script('[[step]]\nchime = "sounds/gong.wav"\n'), encoding="utf-8")
    s = parse.load(path)
    assert s.id == "mine"
    assert s.source == path
    action = s.steps[0].action
    assert isinstance(action, Chime)
    assert action.path == wav


def test_longest_allowed_pause_is_24_hours() -> None:
    assert session_of("[[step]]\npause = 86400\n").steps[0].action == Pause(86400.0)


def test_bundled_patterns() -> None:
    assert list(PATTERNS)[:2] == ["box", "4-7-8"]
    assert all(p.name == name and p.phases and p.description for name, p in PATTERNS.items())
    assert PATTERNS["box"].cycle_seconds == 16
    assert [p.kind for p in PATTERNS["4-7-8"].phases] == ["inhale", "hold", "exhale"]


# --- invalid scripts: one exact, located message per problem ------------------------------------

BAD: list[tuple[str, str, list[str]]] = [
    ("unknown pattern",
     '[[step]]\nsay = "a"\n[[step]]\npause = 1\n[[step]]\nbreathe = "boxx"\n',
     [f"box.toml: step 3 (breathe): unknown pattern 'boxx'; known: {KNOWN}"]),
    ("unknown step key",
     '[[step]]\nsay = "a"\nspeed = 3\n',
     ["box.toml: step 1 (say): unknown key 'speed'; allowed here: after, audio, mark, pitch, rate, sentence_gap, "
      "volume"]),
    ("unknown key on a pause",
     '[[step]]\npause = 1\nvolume = 1\n',
     ["box.toml: step 1 (pause): unknown key 'volume'; allowed here: "]),
    ("unknown top-level key",
     '[[step]]\npause = 1\n[extra]\na = 1\n',
     ["box.toml: file: unknown key 'extra'; allowed here: session, step"]),
    ("two actions in one step",
     '[[step]]\npause = 1\n[[step]]\nsay = "hi"\npause = 2\n',
     ["box.toml: step 2: has 2 actions (say, pause); use exactly one per step"]),
    ("no action",
     '[[step]]\ncycles = 3\n',
     [f"box.toml: step 1: no action; use exactly one of {ACTIONS} (found: cycles)"]),
    ("pause as text",
     '[[step]]\npause = "5"\n',
     ["box.toml: step 1 (pause): pause must be a number, not '5'"]),
    ("say as a number",
     '[[step]]\nsay = 5\n',
     ["box.toml: step 1 (say): say must be text in quotes, not 5"]),
    ("empty say",
     '[[step]]\nsay = "   "\n',
     ["box.toml: step 1 (say): say must not be empty"]),
    ("cycles fractional",
     '[[step]]\nbreathe = "box"\ncycles = 2.5\n',
     ["box.toml: step 1 (breathe): cycles must be a whole number, not 2.5"]),
    ("cycles as a boolean",
     '[[step]]\nbreathe = "box"\ncycles = true\n',
     ["box.toml: step 1 (breathe): cycles must be a whole number, not true/false"]),
    ("cycles zero",
     '[[step]]\nbreathe = "box"\ncycles = 0\n',
     ["box.toml: step 1 (breathe): cycles must be from 1 to 10000, not 0"]),
    ("unknown cue",
     '[[step]]\nbreathe = "box"\ncue = "hum"\n',
     ["box.toml: step 1 (breathe): cue must be one of 'voice', 'tone', 'both', not 'hum'"]),
    ("breathe as a list",
     '[[step]]\nbreathe = [4, 4]\n',
     ["box.toml: step 1 (breathe): breathe must be a pattern name or a table of phases, not a list"]),
    ("inline phase as text",
     '[[step]]\nbreathe = { inhale = "4", exhale = 4 }\n',
     ["box.toml: step 1 (breathe): breathe.inhale must be a number, not '4'"]),
    ("inline phase unknown",
     '[[step]]\nbreathe = { inhale = 4, exhale = 4, hodl = 2 }\n',
     ["box.toml: step 1 (breathe): unknown key 'hodl'; allowed here: exhale, hold, inhale, rest"]),
    ("inline without exhale",
     '[[step]]\nbreathe = { inhale = 4 }\n',
     ["box.toml: step 1 (breathe): an inline pattern needs inhale and exhale longer than 0 seconds"]),
    ("negative pause",
     '[[step]]\npause = -1\n',
     ["box.toml: step 1 (pause): pause must be more than 0 and at most 86400, not -1"]),
    ("zero pause",
     '[[step]]\npause = 0\n',
     ["box.toml: step 1 (pause): pause must be more than 0 and at most 86400, not 0"]),
    ("pause over 24 hours",
     '[[step]]\npause = 86401\n',
     ["box.toml: step 1 (pause): pause must be more than 0 and at most 86400, not 86401"]),
    ("infinite pause",
     '[[step]]\npause = inf\n',
     ["box.toml: step 1 (pause): pause must be more than 0 and at most 86400, not inf"]),
    ("nan pause",
     '[[step]]\npause = nan\n',
     ["box.toml: step 1 (pause): pause must be more than 0 and at most 86400, not nan"]),
    ("negative inline phase",
     '[[step]]\nbreathe = { inhale = 4, exhale = -2 }\n',
     ["box.toml: step 1 (breathe): breathe.exhale must be from 0 to 3600, not -2"]),
    ("breathing longer than 24 hours",
     '[[step]]\nbreathe = "box"\ncycles = 6000\n',
     ["box.toml: step 1 (breathe): 6000 cycles of 16 s is longer than 24 hours"]),
    ("listen without timeout",
     '[[step]]\nlisten = "How are you?"\ntimeout = 0\n',
     ["box.toml: step 1 (listen): timeout must be more than 0 and at most 3600, not 0"]),
    ("listen kind",
     '[[step]]\nlisten = "How are you?"\nkind = "essay"\n',
     ["box.toml: step 1 (listen): kind must be 'reflection' or 'rating', not 'essay'"]),
    ("say rate out of range",
     '[[step]]\nsay = "a"\nrate = 1000\n',
     ["box.toml: step 1 (say): rate must be from 60 to 300, not 1000"]),
    ("say volume out of range",
     '[[step]]\nsay = "a"\nvolume = 1.5\n',
     ["box.toml: step 1 (say): volume must be from 0 to 1, not 1.5"]),
    ("missing sound",
     '[[step]]\nchime = "gong"\n',
     ["box.toml: step 1 (chime): sound 'gong' not found; bundled sounds: bell, soft-bell; "
      "or a WAV path relative to the script"]),
    ("missing sound file path",
     '[[step]]\nchime = "sounds/nowhere.wav"\n',
     ["box.toml: step 1 (chime): sound 'sounds/nowhere.wav' not found; bundled sounds: bell, soft-bell; "
      "or a WAV path relative to the script"]),
    ("no steps",
     '',
     ["box.toml: file: no steps: add at least one [[step]]"]),
]


@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in BAD], ids=[i for i, _, _ in BAD])
def test_bad_step_is_reported_with_file_step_and_action(body: str, expected: list[str]) -> None:
    got = problems(script(body))
    assert len(got) == len(expected)
    for message, want in zip(got, expected, strict=True):
        if want.endswith(": "):  # the allowed list is empty; only the start is fixed
            assert message.startswith(want)
        else:
            assert message == want


BAD_HEADERS: list[tuple[str, str, list[str]]] = [
    ("missing title", '[session]\nlanguage = "en"\n', ["box.toml: [session]: title is required"]),
    ("empty title", '[session]\ntitle = ""\n', ["box.toml: [session]: title must not be empty"]),
    ("title not text", '[session]\ntitle = 3\n', ["box.toml: [session]: title must be text in quotes, not 3"]),
    ("missing session", '', ["box.toml: [session]: missing [session] table with at least a title",
                             "box.toml: [session]: title is required"]),
    ("unknown session key", '[session]\ntitle = "a"\nspeed = 1\n',
     [f"box.toml: [session]: unknown key 'speed'; allowed here: {SESSION_KEYS}"]),
    ("session rate fractional", '[session]\ntitle = "a"\nrate = 130.5\n',
     ["box.toml: [session]: rate must be a whole number, not 130.5"]),
    ("session volume", '[session]\ntitle = "a"\nvolume = -0.1\n',
     ["box.toml: [session]: volume must be from 0 to 1, not -0.1"]),
    ("speech gap", '[session]\ntitle = "a"\nspeech_gap = 61\n',
     ["box.toml: [session]: speech_gap must be from 0 to 60, not 61"]),
]


@pytest.mark.parametrize(("header", "expected"), [(h, e) for _, h, e in BAD_HEADERS],
                         ids=[i for i, _, _ in BAD_HEADERS])
def test_bad_header_is_reported(header: str, expected: list[str]) -> None:
    assert problems(header + '[[step]]\npause = 1\n') == expected


def test_every_problem_is_reported_in_order() -> None:
    text = ('[session]\nrate = 5\n'
            '[[step]]\nsay = "ok"\n'
            '[[step]]\npause = -3\n'
            '[[step]]\nbreathe = "boxx"\ncue = "hum"\n'
            '[[step]]\nchime = "gong"\n')
    assert problems(text) == [
        "box.toml: [session]: title is required",
        "box.toml: [session]: rate must be from 60 to 300, not 5",
        "box.toml: step 2 (pause): pause must be more than 0 and at most 86400, not -3",
        f"box.toml: step 3 (breathe): unknown pattern 'boxx'; known: {KNOWN}",
        "box.toml: step 3 (breathe): cue must be one of 'voice', 'tone', 'both', not 'hum'",
        "box.toml: step 4 (chime): sound 'gong' not found; bundled sounds: bell, soft-bell; "
        "or a WAV path relative to the script",
    ]


@pytest.mark.parametrize(("top", "expected"), [
    ('step = [1]\n', "box.toml: step 1: must be a [[step]] table"),
    ('step = "breathe"\n', "box.toml: file: step must be written as [[step]] tables"),
    ('step = []\n', "box.toml: file: no steps: add at least one [[step]]"),
], ids=["step not a table", "step not a list", "empty step list"])
def test_malformed_step_list(top: str, expected: str) -> None:
    assert problems(top + HEADER) == [expected]


def test_broken_toml_names_the_line() -> None:
    (message,) = problems(HEADER + '[[step]]\nsay = "unterminated\n')
    assert message.startswith("box.toml: file: invalid TOML: ")
    assert "line 4" in message


def test_binary_junk() -> None:
    assert problems(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") == [
        "box.toml: file: not a text file (it contains binary data)"]


def test_not_utf8() -> None:
    raw = b'[session]\ntitle = "caf\xe9"\n'
    assert problems(raw) == [f"box.toml: file: not UTF-8 text (bad byte at offset {raw.index(0xE9)})"]


def test_deeply_nested_toml_is_a_problem_not_a_crash() -> None:
    assert problems("a = " + "[" * 5000 + "]" * 5000) == ["box.toml: file: invalid TOML: nested too deeply"]


def test_missing_file() -> None:
    with pytest.raises(ScriptError) as info:
        parse.load(Path("/nonexistent/calm.toml"))
    assert str(info.value) == "calm.toml: file: cannot read: No such file or directory"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    with pytest.raises(ScriptError) as info:
        parse.load(folder)
    assert str(info.value) == "dir.toml: file: a folder, not a regular file (voiceguide reads only files)"


def test_random_bytes_and_mangled_scripts_never_crash() -> None:
    rng = random.Random(1234)
    good = (SCRIPTS / "demo.toml").read_bytes()
    inputs: list[bytes] = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(200)]
    inputs += [good[:cut] for cut in range(0, len(good), 7)]
    for _ in range(300):
        mangled = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        inputs.append(bytes(mangled))
    parsed = failed = 0
    for raw in inputs:
        try:
            parse.loads(raw, name="x.toml")
            parsed += 1
        except ScriptError as exc:
            assert exc.problems
            assert all(str(p).startswith("x.toml: ") for p in exc.problems)
            failed += 1
    assert parsed + failed == len(inputs)
    assert failed > 200 and parsed > 0


# --- bundled scripts ------------------------------------------------------------------------------

BUNDLED = sorted(SCRIPTS.glob("*.toml"))


def test_there_are_bundled_scripts() -> None:
    assert {p.stem for p in BUNDLED} >= {"box", "demo"}


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_bundled_script_is_valid(path: Path) -> None:
    session = parse.load(path)
    assert session.id == path.stem
    assert session.title
    assert session.steps


def test_validate_accepts_every_bundled_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", *map(str, BUNDLED)]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == [f"{p.name}: ok" for p in BUNDLED]
    assert out.err == ""


# --- the same problems through `voiceguide validate` ----------------------------------------------

@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in BAD], ids=[i for i, _, _ in BAD])
def test_validate_prints_located_problems(body: str, expected: list[str], write_script: Callable[[str, str], Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = write_script("box.toml", script(body))
    assert cli.main(["validate", str(path)]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected, strict=True):
        assert line.startswith(want) if want.endswith(": ") else line == want
    assert out.err == ""


@pytest.mark.parametrize(("header", "expected"), [(h, e) for _, h, e in BAD_HEADERS],
                         ids=[i for i, _, _ in BAD_HEADERS])
def test_validate_prints_header_problems(header: str, expected: list[str], write_script: Callable[[str, str], Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write_script("box.toml", header + '[[step]]\npause = 1\n')
    assert cli.main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == expected


@pytest.mark.parametrize(("content", "expected_start"), [
    (b'[session]\ntitle = "x"\n[[step]]\nsay = "oops\n', "box.toml: file: invalid TOML: "),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00", "box.toml: file: not a text file (it contains binary data)"),
    (b"\xff\xfe\xfa", "box.toml: file: not UTF-8 text (bad byte at offset 0)"),
    (b"a = " + b"{b = " * 3000 + b"1" + b"}" * 3000, "box.toml: file: invalid TOML: "),
    (b"", "box.toml: [session]: missing [session] table with at least a title"),
], ids=["broken toml", "binary", "not utf8", "deep nesting", "empty file"])
def test_validate_junk_files(content: bytes, expected_start: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "box.toml"
    path.write_bytes(content)
    assert cli.main(["validate", str(path)]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines()[0].startswith(expected_start)
    assert out.err == ""


def test_validate_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["validate", str(tmp_path / "gone.toml")]) == 1
    assert capsys.readouterr().out == "gone.toml: file: cannot read: No such file or directory\n"


def test_validate_mixed_good_and_bad(write_script: Callable[[str, str], Path],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    good = write_script("good.toml", script('[[step]]\npause = 1\n'))
    bad = write_script("bad.toml", script('[[step]]\npause = 1\n[[step]]\nbreathe = "boxx"\n'))
    assert cli.main(["validate", str(good), str(bad), str(good)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "good.toml: ok",
        f"bad.toml: step 2 (breathe): unknown pattern 'boxx'; known: {KNOWN}",
        "good.toml: ok",
    ]


def test_validate_all_good_exits_0(write_script: Callable[[str, str], Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    a = write_script("a.toml", script('[[step]]\nsay = "one"\n'))
    b = write_script("b.toml", script('[[step]]\nchime = "bell"\n'))
    assert cli.main(["validate", str(a), str(b)]) == 0
    assert capsys.readouterr().out == "a.toml: ok\nb.toml: ok\n"


def test_a_listen_step_can_wait_longer_before_an_answer_ends() -> None:
    s = parse.loads('[session]\ntitle = "d"\n[[step]]\nlisten = "What is on your mind?"\nquiet = 4\nlimit = 300\n')
    (step,) = s.steps
    assert step.action.quiet == 4.0 and step.action.limit == 300.0  # type: ignore[union-attr]
    with pytest.raises(parse.ScriptError, match=r"quiet must be from 0\.5 to 30"):
        parse.loads('[session]\ntitle = "d"\n[[step]]\nlisten = "Hm?"\nquiet = 90\n')


def test_a_chime_that_is_no_audio_parses_but_validate_refuses_it(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "gong.wav").write_bytes(b"not a sound at all")
    path = tmp_path / "box.toml"
    path.write_text(script('[[step]]\nchime = "gong.wav"\n'), encoding="utf-8")
    session = parse.load(path)  # reading a script checks only that the file is there and bounded (no numpy)
    assert isinstance(session.steps[0].action, Chime)
    assert cli.main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["box.toml: step 1 (chime): sound file 'gong.wav': cannot be read as audio (Format not recognised.)"]


def test_a_chime_file_too_large_to_read_is_a_parse_problem(tmp_path: Path) -> None:
    with (tmp_path / "gong.wav").open("wb") as sparse:
        sparse.truncate(64_000_001)  # one byte over safe_read.SOUND_LIMIT, without writing 64 MB
    path = tmp_path / "box.toml"
    path.write_text(script('[[step]]\nchime = "gong.wav"\n'), encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        parse.load(path)
    assert [p.message for p in info.value.problems] == [
        "sound file 'gong.wav': larger than 64 MB, the most voiceguide reads from a file of this kind"]


def test_the_bed_names_a_script_may_use_are_the_beds_the_engine_makes() -> None:
    from voiceguide.sound import ambient, names

    assert tuple(ambient.BEDS) == names.BEDS
