"""The Health page's findings, from ``voiceguide doctor`` run in a child process.

The doctor builds a real speech engine and a recognizer to check them; done in the remote's own process
it would leave that memory (and any crash of native code) behind. A child that exits returns it all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from voiceguide.daemon.finding import Finding
from voiceguide.errors import VoiceguideError

TIMEOUT = 120.0
"""Seconds the doctor may take (building a speech engine on a Pi takes a while)."""
LEVELS = ("ok", "warn", "fail")


def command(config: Path) -> list[str]:
    """How the doctor is run: isolated, never opening the output the daemon plays on."""
    return [sys.executable, "-I", "-m", "voiceguide", "doctor", "--config", str(config), "--json", "--no-open"]


def findings(config: Path, timeout: float = TIMEOUT) -> list[Finding]:
    """What ``voiceguide doctor`` finds for ``config``; VoiceguideError when it cannot say."""
    try:
        done = subprocess.run(command(config), capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL, cwd="/")
    except subprocess.TimeoutExpired as exc:
        raise VoiceguideError(f"the health check took more than {timeout:g} s") from exc
    except OSError as exc:
        raise VoiceguideError(f"the health check could not start: {exc}") from exc
    try:
        rows = json.loads(done.stdout)
    except ValueError as exc:
        last = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise VoiceguideError(f"the health check failed: {last[0][:300]}") from exc
    if not isinstance(rows, list):
        raise VoiceguideError("the health check gave an unexpected answer")
    out = []
    for row in rows:
        if isinstance(row, dict) and row.get("level") in LEVELS and all(
                isinstance(row.get(key), str) for key in ("name", "detail", "fix")):
            out.append(Finding(row["name"], row["level"], row["detail"], row["fix"]))
    return out
