"""The retraining walk-through (notebooks/retraining.ipynb) runs top to bottom, changes nothing in models/,
and is stored without outputs."""

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import adscreen
from adscreen.paths import MODELS_DIR

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "retraining.ipynb"
KERNEL = "adscreen-under-test"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_notebook_is_stored_without_outputs() -> None:
    """Outputs hold one run's numbers and temporary paths; clear them: jupyter nbconvert --clear-output --inplace."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert [(cell.id, cell.outputs, cell.execution_count) for cell in code] == [(cell.id, [], None) for cell in code]


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom_without_touching_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel is this interpreter, importing the adscreen under test (a kernel spec written here, found first)."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    package_root = Path(adscreen.__file__).resolve().parents[1]
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "adscreen under test",
                "language": "python",
                "env": {"PYTHONPATH": str(package_root)},
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    models_before = snapshot(MODELS_DIR)
    notebook = nbformat.read(NOTEBOOK, as_version=4)

    NotebookClient(notebook, kernel_name=KERNEL, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()

    assert snapshot(MODELS_DIR) == models_before
    printed = "".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    for command in ("validate", "train", "compare", "models promote", "models rollback", "feedback add"):
        assert f"$ adscreen {command}" in printed
    assert "current model: compound-v2" in printed
    assert "lure_compound_corporate" in printed
