"""Fuzz: 240 seeded malformed scripts and configs through ``main(argv)``: no traceback, no hang, no crash.

Each case runs in its own forked process with 600 MB of address space and 10 s (see fuzz_cases.py). On a
failure the message names the seed and case; ``python tests/fuzz_cases.py SEED 240 DIR`` reproduces it
and leaves the case's file in DIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import fuzz_cases

SEED = 20261201
COUNT = 240
PARTS = 2
"""The cases run in this many tests (every other case each), so that pytest-xdist spreads them over its workers.
With the driver importing what the cases use before it forks them (``fuzz_cases.WARM``), the 240 cases cost 5.6
CPU-seconds, not 29 (0.1 s of imports in each case); four parts of ~35 s each under load were four times the
driver's own start for little gain."""


@pytest.mark.parametrize("part", range(PARTS))
def test_malformed_scripts_and_configs_never_crash_or_hang(tmp_path: Path, part: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(fuzz_cases.REPO), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(Path(fuzz_cases.__file__)), str(SEED), str(COUNT), str(tmp_path),
                           str(part), str(PARTS)], capture_output=True, text=True, timeout=300, env=env)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines and lines[-1].get("summary"), done.stdout[-2000:] + done.stderr[-2000:]
    failures = lines[:-1]
    assert not failures, "\n\n".join(f"seed {f['seed']} case {f['case']}: {f['argv']}: {f['why']}\n"
                                     f"{f.get('output', '')}" for f in failures[:5])
    assert lines[-1] == {"summary": True, "cases": COUNT // PARTS, "failed": 0} and done.returncode == 0


def test_the_cases_are_varied_and_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    argvs = fuzz_cases.cases(SEED, COUNT, first)
    commands = [a[0] for a in argvs]
    assert commands.count("show") >= 60 and commands.count("validate") >= 60
    assert commands.count("show") + commands.count("validate") >= 180
    assert "doctor" in commands and commands.count("fuzz-config") >= 40
    fuzz_cases.cases(SEED, COUNT, second)
    for n in range(COUNT):
        assert (first / f"fuzz-{n}.toml").read_bytes() == (second / f"fuzz-{n}.toml").read_bytes()
    sizes = [(first / f"fuzz-{n}.toml").stat().st_size for n in range(COUNT)]
    assert max(sizes) > 10_000 and min(sizes) < 100  # huge lines and near-empty files


def test_the_driver_reports_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzz can fail: a command that raises is reported, not hidden."""
    from voiceguide.cli import commands

    def boom(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(commands, "cmd_validate", boom)
    problem = fuzz_cases.run_case(["validate", "x.toml"], tmp_path / "out.txt")
    assert problem is not None and problem["why"] == "exit code 98, traceback"
    assert "RuntimeError: boom" in str(problem["output"])
