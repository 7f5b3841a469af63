"""ruff's lint rules and its formatting hold for the whole tree, so the README's one test command checks them
(and CI with it): style drift fails like any other test, with ruff's own message."""

from __future__ import annotations

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
