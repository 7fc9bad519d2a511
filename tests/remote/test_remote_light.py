"""The phone remote's process loads no sound code: importing it, reading every bundled session (as its session
list does) and checking an uploaded script import no numpy, soundfile or engine, so the process costs what a
small web server costs (docs/benchmarks.md, "the remote in its own process")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("numpy", "soundfile", "soxr", "sounddevice", "voiceguide.seams", "voiceguide.sound.sounds",
         "voiceguide.sound.ambient", "voiceguide.engine")
"""Module names (and their submodules) the remote's process must not load."""


def test_the_remote_process_modules_import_no_numpy() -> None:
    done = subprocess.run([sys.executable, "-I", "-X", "importtime", "-m", "voiceguide.remote.process", "--help"],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and "--socket" in done.stdout
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"voiceguide.remote.server", "voiceguide.daemon.config_read", "voiceguide.script.parse"} <= modules
    assert sorted(m for m in modules if m.startswith(HEAVY)) == []


def test_reading_sessions_and_checking_an_upload_import_no_numpy(tmp_path: Path) -> None:
    code = f"""
import sys
import voiceguide.remote.process
from voiceguide.remote import catalog
from voiceguide.script import library, parse
loaded = [parse.load(entry.path) for entry in library.entries() if entry.bundled]
assert any(s.ambient for s in loaded) and any(type(step.action).__name__ == "Chime" for s in loaded for step in s.steps)
items = catalog.items()
raw = open(library.find("box"), "rb").read()
checked = catalog.check_and_save(raw, "my-box", folder=__import__("pathlib").Path({str(tmp_path)!r}))
print(len(loaded), len(items), checked.problems == () and checked.saved is not None)
print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    counts, heavy = done.stdout.splitlines()
    sessions, items, saved = counts.split()
    assert int(sessions) >= 50 and int(items) >= 50 and saved == "True"
    assert heavy == "[]"
