"""A script's size with its includes spliced in is bounded, and checked while it grows: an amplifying script
(2000 steps that each include a file of 2000 steps that each include body-scan-45) is refused after a few
thousand steps, with the file and line where the bound was passed, by ``validate``, ``show`` and the upload."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from voiceguide.errors import ScriptError
from voiceguide.script import limits, parse, steps
from voiceguide.script.expansion import TooLarge, step_line

HEAD = '[session]\ntitle = "Amplifier"\n\n'


def where_it_trips() -> tuple[str, str]:
    """The line and step of ``inner.toml`` whose include of body-scan-45 passes the step bound (derived from that
    session's own size, so that rewording it moves the expectation with it): ``("inner.toml:115", "step 38")``
    when body-scan-45 has 133 steps."""
    from voiceguide.script import library
    from voiceguide.script.expansion import Budget

    budget = Budget()
    parse.load(library.find("body-scan-45"), _budget=budget)
    step = limits.MAX_EXPANDED_STEPS // budget.steps + 1
    return f"inner.toml:{4 + 3 * (step - 1)}", f"step {step}"


def amplifier(folder: Path, outer: int = 2000, inner: int = 2000) -> Path:
    """``amp.toml`` (``outer`` includes of ``inner.toml``) and ``inner.toml`` (``inner`` includes of body-scan-45)."""
    (folder / "inner.toml").write_text(HEAD + '[[step]]\ninclude = "body-scan-45"\n\n' * inner, encoding="utf-8")
    path = folder / "amp.toml"
    path.write_text(HEAD + '[[step]]\ninclude = "inner"\n\n' * outer, encoding="utf-8")
    return path


@pytest.fixture
def counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the steps read; past 20,000 the read fails (so unbounded expansion fails fast, not by timing)."""
    count = [0]
    real = steps.read_step

    def read_step(*args: object) -> object:
        count[0] += 1
        if count[0] > 20_000:
            raise AssertionError("more than 20,000 steps read: the expansion is not bounded")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(parse, "read_step", read_step)
    return count


def test_an_amplifying_script_is_refused_while_it_expands(tmp_path: Path, counted_reads: list[int]) -> None:
    with pytest.raises(TooLarge) as caught:
        parse.load(amplifier(tmp_path))
    # body-scan-45 is read once (133 steps), then taken again from what was read
    assert counted_reads[0] < 1000
    first, last = caught.value.problems[0], caught.value.problems[-1]
    line, step = where_it_trips()
    assert first.file == line and first.where == f"{step} (include)"
    assert f"more than {limits.MAX_EXPANDED_STEPS:,} steps" in first.message
    assert str(last) == "amp.toml:4: step 1 (include): while including 'inner'"


def test_the_bundled_sessions_fit_the_bounds_with_room() -> None:
    from voiceguide.script import library
    from voiceguide.script.expansion import Budget

    for entry in library.entries():
        budget = Budget()
        parse.load(entry.path, _budget=budget)
        assert budget.steps * 10 <= limits.MAX_EXPANDED_STEPS, entry.id
        assert budget.seconds * 10 <= limits.MAX_EXPANDED_SECONDS, entry.id
        assert budget.chars * 10 <= limits.MAX_EXPANDED_CHARS, entry.id


def test_includes_nested_too_deeply_are_refused(tmp_path: Path) -> None:
    for n in range(limits.MAX_INCLUDE_DEPTH + 1):
        (tmp_path / f"p{n}.toml").write_text(HEAD + f'[[step]]\ninclude = "p{n + 1}"\n', encoding="utf-8")
    (tmp_path / f"p{limits.MAX_INCLUDE_DEPTH + 1}.toml").write_text(HEAD + "[[step]]\npause = 1\n")
    with pytest.raises(TooLarge) as caught:
        parse.load(tmp_path / "p0.toml")
    assert f"more than {limits.MAX_INCLUDE_DEPTH} deep" in str(caught.value)
    assert caught.value.problems[0].file == f"p{limits.MAX_INCLUDE_DEPTH}.toml:4"
    (tmp_path / f"p{limits.MAX_INCLUDE_DEPTH}.toml").write_text(HEAD + "[[step]]\npause = 1\n")
    assert len(parse.load(tmp_path / "p0.toml").steps) == 1  # one level less is fine


def test_too_many_includes_are_refused(tmp_path: Path) -> None:
    (tmp_path / "one.toml").write_text(HEAD + "[[step]]\nchime = \"bell\"\n", encoding="utf-8")
    path = tmp_path / "many.toml"
    path.write_text(HEAD + '[[step]]\ninclude = "one"\n' * (limits.MAX_INCLUDES + 1), encoding="utf-8")
    with pytest.raises(TooLarge, match=f"more than {limits.MAX_INCLUDES} includes"):
        parse.load(path)
    path.write_text(HEAD + '[[step]]\ninclude = "one"\n' * limits.MAX_INCLUDES, encoding="utf-8")
    assert len(parse.load(path).steps) == limits.MAX_INCLUDES


@pytest.mark.parametrize(("step", "count", "bound"), [
    ("pause = 3600", 25, "lasts more than 24 hours"),
    (f'say = "{"Breathe in slowly. " * 100}"', 300, "characters to speak"),
])
def test_the_expanded_length_is_bounded(tmp_path: Path, step: str, count: int, bound: str) -> None:
    (tmp_path / "part.toml").write_text(HEAD + f"[[step]]\n{step}\n", encoding="utf-8")
    path = tmp_path / "long.toml"
    path.write_text(HEAD + '[[step]]\ninclude = "part"\n' * count, encoding="utf-8")
    with pytest.raises(TooLarge, match=bound):
        parse.load(path)


def test_a_refusal_names_the_line_of_the_step() -> None:
    text = HEAD + "# a comment\n[[step]]\npause = 1\n\n  [[ step ]]\npause = 2\n"
    assert (step_line(text, 1), step_line(text, 2), step_line(text, 9)) == (5, 8, 1)


def test_validate_and_show_refuse_the_amplifier_with_a_located_message(tmp_path: Path) -> None:
    path = amplifier(tmp_path)
    for command in ("validate", "show"):
        done = subprocess.run([sys.executable, "-m", "voiceguide", command, str(path)], capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        out = done.stdout + done.stderr
        line, step = where_it_trips()
        assert f"{line}: {step} (include): with its includes the session has more than" in out, out
        assert "amp.toml:4: step 1 (include): while including 'inner'" in out, out


def test_the_upload_refuses_the_amplifier(tmp_path: Path, counted_reads: list[int]) -> None:
    pytest.importorskip("starlette")
    from tests.remote_helpers import make_remote

    remote = make_remote(tmp_path)
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    remote.ctx.scripts_dir = scripts
    try:
        amplifier(scripts)
        (scripts / "amp.toml").unlink()  # the inner file is there; the outer one is uploaded
        remote.pair()
        text = HEAD + '[[step]]\ninclude = "inner"\n\n' * 2000
        reply = remote.post("/sessions", {"name": "amp", "text": text})
        assert reply.status_code == 400
        assert "more than 5,000 steps" in reply.text and f"({where_it_trips()[0]})" in reply.text
        assert "while including &#39;inner&#39; (amp.toml:4)" in reply.text
        assert not (scripts / "amp.toml").exists()  # (and the page's listing read fewer than 20,000 steps)
    finally:
        remote.ctx.close()


def test_uploads_are_bounded_in_number_and_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceguide.remote import catalog

    good: Callable[[str], bytes] = lambda text: f'{HEAD}[[step]]\nsay = "{text}"\n'.encode()  # noqa: E731
    folder = tmp_path / "mine"
    monkeypatch.setattr(catalog, "MAX_USER_SCRIPTS", 3)
    for n in range(3):
        assert catalog.check_and_save(good(f"Hello {n}."), f"s{n}", folder).saved is not None
    refused = catalog.check_and_save(good("One too many."), "s3", folder)
    assert refused.saved is None and "at most 3" in str(refused.problems[0])
    monkeypatch.setattr(catalog, "MAX_USER_SCRIPTS", 10)
    monkeypatch.setattr(catalog, "MAX_USER_SCRIPTS_BYTES", sum(p.stat().st_size for p in folder.glob("*.toml")) + 40)
    refused = catalog.check_and_save(good("This one is longer than forty bytes."), "s4", folder)
    assert refused.saved is None and "delete some first" in str(refused.problems[0])
    assert not (folder / "s4.toml").exists()


def test_a_script_error_is_still_a_script_error() -> None:
    assert issubclass(TooLarge, ScriptError)
