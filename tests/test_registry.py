"""The registry: a tampered or foreign model is refused; promote and rollback move the current model;
models are named by plain names inside the models folder, never by a path out of it."""

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adscreen import load_model
from adscreen.cli import app
from adscreen.config import Settings
from adscreen.errors import ModelIntegrityError, RegistryError
from adscreen.paths import MODELS_DIR
from adscreen.registry import MODEL_FILE, Registry, load_model_dir
from adscreen.serve.app import create_app

runner = CliRunner()


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
    model_file = models / current_name(models) / MODEL_FILE
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


OUTSIDE_NAMES = ["../outside", "..", ".", "/tmp/outside", "sub/dir", "a\\b", "", ".hidden", "name\n"]


@pytest.fixture()
def outside(models: Path) -> Path:
    """A valid model folder beside (not inside) the models folder."""
    target = models.parent / "outside"
    shutil.copytree(models / current_name(models), target)
    return target


@pytest.mark.parametrize("name", OUTSIDE_NAMES)
def test_promote_takes_only_plain_names_inside_the_models_folder(models: Path, outside: Path, name: str) -> None:
    name = str(outside) if name == "/tmp/outside" else name
    before = (models / "registry.json").read_bytes()
    with pytest.raises(RegistryError, match="not a plain model name"):
        Registry(models).promote(name)
    assert (models / "registry.json").read_bytes() == before


@pytest.mark.parametrize("field", ["current", "history", "models"])
def test_a_registry_naming_a_folder_outside_is_refused(models: Path, outside: Path, field: str) -> None:
    state = json.loads((models / "registry.json").read_text())
    entry = state["models"][current_name(models)]
    if field == "current":
        state["current"] = "../outside"
        state["models"]["../outside"] = entry
    elif field == "history":
        state["history"] = ["../outside"]
    else:
        state["models"][str(outside)] = entry
    (models / "registry.json").write_text(json.dumps(state))
    with pytest.raises(RegistryError, match=r"registered name .* is not a plain model name"):
        Registry(models).load_current()


def test_a_registry_that_is_not_the_layout_is_refused(models: Path) -> None:
    (models / "registry.json").write_text('["adscreen-v1"]')
    with pytest.raises(RegistryError, match="not the registry's JSON layout"):
        Registry(models).read()


def test_model_file_in_metadata_is_a_file_of_the_folder(models: Path) -> None:
    metadata_path = models / current_name(models) / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["model_file"] = "../../elsewhere/model.skops"
    metadata_path.write_text(json.dumps(metadata))
    with pytest.raises(ModelIntegrityError, match="is not a file in the folder"):
        load_model_dir(metadata_path.parent)


def test_a_model_option_without_separator_is_a_name_in_the_models_folder(
    models: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(models.parent)  # "outside" is a folder of the working directory, not of the models folder
    with pytest.raises(ModelIntegrityError, match="no such model folder"):
        load_model("outside", models_dir=models)  # a name means the models folder
    assert load_model("./outside", models_dir=models).loaded.path == Path("outside")  # a path is that folder
    assert load_model(current_name(models), models_dir=models).loaded.path == models / current_name(models)


def test_cli_refuses_paths_as_model_names_with_one_line(models: Path, outside: Path, monkeypatch) -> None:
    monkeypatch.setenv("ADSCREEN_MODELS_DIR", str(models))
    for name in ("../outside", str(outside)):
        result = runner.invoke(app, ["models", "promote", name])
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1 and "not a plain model name" in result.output
    state = json.loads((models / "registry.json").read_text())
    state["current"] = "../outside"
    (models / "registry.json").write_text(json.dumps(state))
    result = runner.invoke(app, ["score", "Work in Dubai"])
    assert result.exit_code == 2 and "not a plain model name" in result.output


def test_a_server_refuses_to_reload_a_registry_pointing_outside(
    models: Path, outside: Path, wait_for_reload_error
) -> None:
    settings = Settings(models_dir=models, reload_interval=0.05, workers=0)
    with TestClient(create_app(settings)) as client:
        state = json.loads((models / "registry.json").read_text())
        state["current"] = "../outside"
        state["models"]["../outside"] = state["models"][current_name(models)]
        (models / "registry.json").write_text(json.dumps(state))
        health = wait_for_reload_error(client)
        assert health.status_code == 200
        assert "not a plain model name" in health.json()["reload_error"]
        assert client.post("/v1/score", json={"text": "Work in Dubai"}).status_code == 200
