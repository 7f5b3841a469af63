"""The shipped model: rebuilt from its documented command, it gives the same metrics (needs the shared EMSCAD data)."""

import json
from pathlib import Path

import pytest

from adscreen.paths import MODELS_DIR, SAMPLE_ADS_DIR
from adscreen.training import train_to_folder

SHIPPED = MODELS_DIR / "adscreen-v1"


def test_shipped_model_records_what_it_was_trained_on() -> None:
    metadata = json.loads((SHIPPED / "metadata.json").read_text())
    sources = {Path(entry["path"]).name for entry in metadata["data"]["files"]}
    assert "emscad_train.csv" in sources
    assert {path.name for path in SAMPLE_ADS_DIR.glob("*.jsonl")} <= sources
    assert (SHIPPED / "model.skops").stat().st_size < 20 * 1024 * 1024


@pytest.mark.slow
def test_training_command_reproduces_the_shipped_metrics(emscad_path: Path, tmp_path: Path) -> None:
    data = [*sorted(SAMPLE_ADS_DIR.glob("*.jsonl")), emscad_path]
    rebuilt = train_to_folder(data, tmp_path / "adscreen-v1", say=lambda line: None)
    shipped = json.loads((SHIPPED / "metadata.json").read_text())
    assert rebuilt["metrics"] == shipped["metrics"]
    assert rebuilt["threshold"] == shipped["threshold"]
    assert rebuilt["bands"] == shipped["bands"]
    assert {entry["sha256"] for entry in rebuilt["data"]["files"]} == {
        entry["sha256"] for entry in shipped["data"]["files"]
    }
