"""The docs' examples never put a device token on a command line, where every user of the device can read it
(``ps``, ``/proc/*/cmdline``): only shell builtins (``printf``, ``echo``) may handle it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILTINS = ("printf", "echo", "read")
TOKEN = re.compile(r"vg_remote=|\$\{?TOKEN\b|remote token")


def _shell_lines(text: str) -> list[str]:
    """Every command in the fenced shell blocks of ``text``, continuation lines joined."""
    lines: list[str] = []
    for block in re.findall(r"```(?:sh|bash|shell|console)?\n(.*?)```", text, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line)
    return lines


def _external_with_token(line: str) -> bool:
    """Whether ``line`` hands the token to a program (not a builtin) as an argument."""
    for part in re.split(r"\||;|&&|\$\(|\(|\)", line):
        words = part.split()
        if words and TOKEN.search(part) and words[0] not in BUILTINS and not words[0].endswith("="):
            return not (words[0] == "voiceguide" and "remote token" in part)  # the command that prints it
    return False


def test_no_example_puts_the_token_on_a_command_line() -> None:
    offenders = [f"{path.name}: {line.strip()}" for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
                 for line in _shell_lines(path.read_text(encoding="utf-8")) if _external_with_token(line)]
    assert offenders == []


def test_the_check_catches_a_token_in_curl_arguments() -> None:
    assert _external_with_token('curl -s --cookie "vg_remote=$TOKEN" http://127.0.0.1:8470/api/status')
    assert _external_with_token('curl -H "Cookie: vg_remote=abc" http://127.0.0.1:8470/')
    assert not _external_with_token("""printf 'cookie = "vg_remote=%s"\\n' "$(voiceguide remote token ha)" > f""")
