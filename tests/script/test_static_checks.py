"""What can be known from a script alone is checked by validate: the language, spoken text, line length."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import HEADER
from voiceguide.cli.main import main
from voiceguide.engine import affirmations
from voiceguide.errors import ScriptError
from voiceguide.script import languages, parse
from voiceguide.script.steps import MAX_SPOKEN_CHARS


def problems(text: str) -> list[str]:
    with pytest.raises(ScriptError) as info:
        parse.loads(text, name="box.toml")
    return [str(p) for p in info.value.problems]


def test_a_language_no_backend_could_speak_is_an_error() -> None:
    header = '[session]\ntitle = "T"\nlanguage = "xx"\n'
    assert problems(header + '[[step]]\nsay = "Hello."\n') == [
        "box.toml: [session]: no voice exists for language 'xx' in any speech backend voiceguide uses; "
        "'voiceguide voices' lists the languages installed here"]
    assert problems('[session]\ntitle = "T"\nlanguage = "en GB"\n[[step]]\nsay = "Hi."\n') == [
        "box.toml: [session]: language must be a language code like 'en', 'nl' or 'en-GB', not 'en GB'"]
    for fine in ("en", "en-GB", "nl", "pt_BR", "cmn", "de-CH"):
        assert parse.loads(f'[session]\ntitle = "T"\nlanguage = "{fine}"\n[[step]]\nsay = "Hi."\n').language == fine


def test_spoken_text_needs_letters() -> None:
    marks = "\u200f\u200f\u200f"
    assert problems(HEADER + f'[[step]]\nsay = "{marks}"\n[[step]]\nlisten = "... ?"\n') == [
        "box.toml: step 1 (say): say has no letters or digits to speak (only spaces, marks or punctuation)",
        "box.toml: step 2 (listen): listen has no letters or digits to speak (only spaces, marks or punctuation)"]
    assert parse.loads(HEADER + '[[step]]\nsay = "4, 3, 2, 1."\n[[step]]\nsay = "שלום"\n').steps


def test_a_say_line_may_be_at_most_2000_characters() -> None:
    longest = "a" * (MAX_SPOKEN_CHARS - 1) + "."
    assert parse.loads(HEADER + f'[[step]]\nsay = "{longest}"\n').steps
    assert problems(HEADER + f'[[step]]\nsay = "{longest}x"\n') == [
        "box.toml: step 1 (say): say is 2,001 characters long; at most 2,000 fit one step "
        "(split it over several steps)"]
    assert problems(HEADER + f'[[step]]\nlisten = "{"word " * 2000}"\n')[0].startswith(
        "box.toml: step 1 (listen): listen is 9,999 characters long")


def test_validate_warns_when_this_machine_has_no_voice_for_the_language(
        write_script: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(languages, "installed", lambda: frozenset({"en"}))
    dutch = write_script("nl.toml", '[session]\ntitle = "T"\nlanguage = "nl"\n[[step]]\nsay = "Hallo."\n')
    english = write_script("en.toml", '[session]\ntitle = "T"\nlanguage = "en-GB"\n[[step]]\nsay = "Hello."\n')
    assert main(["validate", str(dutch), str(english)]) == 0  # a warning, not an error: it can be installed
    assert capsys.readouterr().out.splitlines() == [
        "nl.toml: ok",
        "nl.toml: [session]: warning: no voice for language 'nl' is installed here (on Linux: sudo apt install "
        "espeak-ng-data; 'voiceguide voices' lists what is here)",
        "en.toml: ok"]


def test_no_claim_about_the_machine_when_no_backend_can_be_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(languages, "installed", lambda: None)
    assert languages.warning("nl") is None


def test_the_installed_languages_come_from_the_default_backends() -> None:
    languages.installed.cache_clear()
    here = languages.installed()
    assert here is None or here <= languages.ESPEAK_LANGUAGES  # never more than could exist
    assert {"en", "nl", "de", "fr"} <= languages.ESPEAK_LANGUAGES


def test_every_bundled_script_still_validates(capsys: pytest.CaptureFixture[str]) -> None:
    scripts = sorted(str(p) for p in (Path(__file__).parents[2] / "scripts").rglob("*.toml"))
    assert main(["validate", *scripts]) == 0
    assert "warning" not in capsys.readouterr().out


def test_affirmation_lines_with_nothing_to_say_or_too_long_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "affirmations.txt"
    path.write_text(f"# mine\nI am safe here.\n\u200f\u200f\n...\n{'a' * (MAX_SPOKEN_CHARS + 1)}\nI can rest.\n",
                    encoding="utf-8")
    assert affirmations.read_lines(path) == ["I am safe here.", "I can rest."]
