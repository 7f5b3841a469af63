"""The registry: a tampered or foreign model is refused; promote and rollback move the current model."""

import json
import shutil
from pathlib import Path

import pytest

from adscreen.errors import ModelIntegrityError, RegistryError
from adscreen.paths import MODELS_DIR
from adscreen.registry import Registry, load_model_dir


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    """A copy of the shipped models folder to change freely."""
    target = tmp_path / "models"
    shutil.copytree(MODELS_DIR, target)
    return target


def current_name(models: Path) -> str:
    return json.loads((models / "registry.json").read_text())["current"]


def test_the_shipped_model_is_registered_and_loads(models: Path) -> None:
    loaded = Registry(models).load_current()
    assert loaded.name == current_name(models)


def test_a_tampered_model_file_is_refused(models: Path) -> None:
    model_file = models / current_name(models) / "model.joblib"
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    with pytest.raises(ModelIntegrityError, match="does not match"):
        Registry(models).load_current()


def test_a_model_from_another_scikit_learn_is_refused(models: Path) -> None:
    metadata_path = models / current_name(models) / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["libraries"]["scikit-learn"] = "0.0.1"
    metadata_path.write_text(json.dumps(metadata))
    with pytest.raises(ModelIntegrityError, match=r"scikit-learn 0\.0\.1"):
        load_model_dir(metadata_path.parent)


def test_promote_and_rollback(models: Path) -> None:
    original = current_name(models)
    shutil.copytree(models / original, models / "copy")
    registry = Registry(models)
    registry.promote("copy")
    assert current_name(models) == "copy"
    assert registry.load_current().path.name == "copy"
    registry.rollback()
    assert current_name(models) == original


def test_rollback_with_no_history_is_an_error(models: Path) -> None:
    registry = Registry(models)
    state = registry.read()
    state["history"] = []
    (models / "registry.json").write_text(json.dumps(state))
    with pytest.raises(RegistryError, match="nothing to roll back"):
        registry.rollback()


def test_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match="not a model folder"):
        load_model_dir(tmp_path)
