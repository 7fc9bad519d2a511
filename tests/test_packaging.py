"""The wheel holds the program only: the benchmarks and the tests stay at the top of the repository, and
nothing in the package imports them."""

from __future__ import annotations

import ast
import tomllib

from tests.helpers import REPO


def test_the_wheel_is_built_from_the_package_alone() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["voiceguide"]
    assert (REPO / "benchmarks" / "__init__.py").is_file()
    assert not list((REPO / "voiceguide").rglob("bench*.py")), "a benchmark inside the package"


def test_no_module_of_the_package_imports_the_benchmarks_or_the_tests() -> None:
    offenders = []
    for path in sorted((REPO / "voiceguide").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in ("benchmarks", "tests")]
    assert offenders == []
