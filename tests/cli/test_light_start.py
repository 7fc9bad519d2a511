"""Light commands start light: ``--version``, ``ctl status`` and ``journal list`` load no engine (no numpy, no
mixer, no player), and the packages' public names still resolve when they are first used."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE = {"numpy", "soundfile", "sounddevice", "rich", "voiceguide.cli.commands", "voiceguide.engine.compile",
          "voiceguide.engine.mix", "voiceguide.playback.player", "voiceguide.playback.loop", "voiceguide.cli.run",
          "voiceguide.seams", "voiceguide.script.parse", "voiceguide.daemon.core", "voiceguide.daemon.app"}
"""What a light command must not import: the engine, the audio libraries and the terminal view."""


def _imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m voiceguide ARGS``; the result and every module it imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "voiceguide", *args],
                          capture_output=True, text=True, timeout=60)
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "voiceguide.cli.main" in modules  # importtime's report was read
    return done, modules


def test_version_imports_only_the_parser() -> None:
    done, modules = _imported("--version")
    assert done.returncode == 0 and done.stdout.startswith("voiceguide ")
    parser_only = ENGINE | {"sqlite3", "platformdirs", "voiceguide.journal.db", "voiceguide.daemon.ctl_socket"}
    assert modules & parser_only == set()


def test_ctl_status_without_a_daemon_imports_no_engine(runtime: Path) -> None:
    done, modules = _imported("ctl", "status")
    assert done.returncode == 1 and "the daemon is not running" in done.stderr
    assert str(runtime) in done.stderr  # it asked the private runtime folder, no real daemon
    assert "voiceguide.daemon.ctl_socket" in modules
    assert modules & ENGINE == set()


def test_journal_list_imports_no_engine(tmp_path: Path) -> None:
    done, modules = _imported("journal", "list", "--journal", str(tmp_path / "journal.db"))
    assert done.returncode == 0 and "Your journal is empty." in done.stdout
    assert "voiceguide.journal.db" in modules
    assert modules & ENGINE == set()


def test_the_playback_vocabulary_imports_nothing_heavy() -> None:
    code = ("import sys, voiceguide.playback.control\n"
            "print(sorted(m for m in sys.modules if m.startswith(('numpy', 'voiceguide'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == "['voiceguide', 'voiceguide.playback', 'voiceguide.playback.control']"


@pytest.mark.parametrize(("package", "names"), [
    ("voiceguide", {"Command": "playback.control", "Mixer": "engine.mix", "Player": "playback.player",
                    "Session": "script.model", "Timeline": "engine.timeline", "VoiceguideError": "errors",
                    "compile_session": "engine.compile", "load": "script.parse", "loads": "script.parse"}),
    ("voiceguide.daemon", {"Daemon": "core", "DaemonConfig": "config", "load_config": "config_read",
                           "loads_config": "config_read"}),
    ("voiceguide.journal", {"Entry": "db", "Journal": "db", "default_path": "db"}),
])
def test_public_names_resolve_on_first_use(package: str, names: dict[str, str]) -> None:
    module = importlib.import_module(package)
    assert sorted(n for n in module.__all__ if n != "__version__") == sorted(names)
    for name, where in names.items():
        assert getattr(module, name) is getattr(importlib.import_module(f"{package}.{where}"), name)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018
