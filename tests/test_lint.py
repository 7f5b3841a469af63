"""ruff's lint rules and its formatting hold for the whole tree, and mypy's type check for the package
([tool.mypy] in pyproject.toml), so the README's one test command checks them (and CI with it): style drift
or a type error fails like any other test, with the tool's own message."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff(command: list[str]) -> None:
    assert RUFF, "ruff is a test dependency (pip install -e '.[test]')"
    result = subprocess.run(
        [RUFF, *command, "src", "tests", "benchmarks", "scripts"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    assert importlib.util.find_spec("mypy"), "mypy is a test dependency (pip install -e '.[test]')"
    # The files to check and the settings come from [tool.mypy].
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
