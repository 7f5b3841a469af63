"""The model file format: a crafted file never runs its code, it is refused with one clear line.

Every crafted artefact here writes ``marker`` when it is loaded the unsafe way; the tests
give it a metadata.json whose sha256 matches (whoever writes one writes both) and check
that the marker never appears and the user gets ``ModelIntegrityError`` (CLI: exit 2).
"""

from __future__ import annotations

import io
import json
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adscreen import artefact, load_model
from adscreen.cli import app
from adscreen.config import Settings
from adscreen.datafiles import file_sha256
from adscreen.errors import ModelIntegrityError
from adscreen.paths import MODELS_DIR
from adscreen.registry import Registry, load_model_dir
from adscreen.serve.app import create_app

SHIPPED = Registry(MODELS_DIR).current_path()[0]
runner = CliRunner()


class OpensAFile:
    """Unpickling this calls ``open(marker, "w")``: a pickle runs what its author chose."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return open, (str(self.marker), "w")


class WritesWhenBuilt:
    """Building this (as skops' ConstructorFromReduceNode would, with these arguments) writes ``marker``."""

    def __init__(self, marker: str, *rest: object) -> None:
        Path(marker).write_text("ran")
        self.arguments = (marker, *rest)

    def __reduce__(self) -> tuple:
        return type(self), self.arguments


def model_folder(tmp_path: Path, model_file: str, content: bytes) -> Path:
    """A copy of the shipped model's folder whose model file is ``content``, with matching sha256 in metadata."""
    models = tmp_path / "models"
    folder = models / "crafted"
    folder.mkdir(parents=True)
    (folder / model_file).write_bytes(content)
    metadata = json.loads((SHIPPED / "metadata.json").read_text(encoding="utf-8"))
    metadata.update(model_file=model_file, model_sha256=file_sha256(folder / model_file))
    (folder / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return folder


def crafted_skops(marker: Path, module: str | None = None, name: str | None = None) -> bytes:
    """A skops file whose one object writes ``marker`` when built; optionally claiming to be ``module.name``."""
    crafted = WritesWhenBuilt.__new__(WritesWhenBuilt)  # without running __init__: nothing written yet
    crafted.arguments = (str(marker), "uint8", "w+", 0, (1,))  # numpy.memmap's arguments to create a file
    data = skops.io.dumps(crafted)
    if module is None:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer := io.BytesIO(), "w") as target:
        for item in source.namelist():
            content = source.read(item)
            if item == "schema.json":
                content = json.dumps({**json.loads(content), "__module__": module, "__class__": name}).encode()
            target.writestr(item, content)
    return buffer.getvalue()


def test_the_crafted_skops_file_does_write_when_trusted_blindly(tmp_path: Path) -> None:
    """The fixture is a real attack: loaded with what it asks to be trusted, it writes the marker."""
    marker = tmp_path / "ran"
    data = crafted_skops(marker, "numpy", "memmap")
    skops.io.loads(data, trusted=skops.io.get_untrusted_types(data=data))
    assert marker.exists()


@pytest.mark.parametrize("model_file", ["model.joblib", "model.skops"])
def test_a_pickle_with_a_matching_sha256_is_refused_unrun(tmp_path: Path, model_file: str) -> None:
    marker = tmp_path / "ran"
    folder = model_folder(tmp_path, model_file, pickle.dumps(OpensAFile(marker)))
    with pytest.raises(ModelIntegrityError, match=r"not a skops model file.*models convert"):
        load_model_dir(folder)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (None, None),  # a class of the attacker's own module
        ("numpy", "memmap"),  # a class of a trusted package that is not plain data: it creates the file
    ],
)
def test_a_crafted_skops_file_is_refused_before_anything_is_built(
    tmp_path: Path, module: str | None, name: str | None
) -> None:
    marker = tmp_path / "ran"
    folder = model_folder(tmp_path, "model.skops", crafted_skops(marker, module, name))
    with pytest.raises(ModelIntegrityError, match=r"refused before loading.*does not trust"):
        load_model_dir(folder)
    assert not marker.exists()


def test_score_with_a_crafted_model_exits_2_with_one_line(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    folder = model_folder(tmp_path, "model.joblib", pickle.dumps(OpensAFile(marker)))
    result = runner.invoke(app, ["score", "-m", str(folder), "Work in Dubai"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "not a skops model file" in result.output
    assert not marker.exists()


def test_promote_of_a_crafted_model_exits_2_and_leaves_the_registry(tmp_path: Path, monkeypatch) -> None:
    marker = tmp_path / "ran"
    folder = model_folder(tmp_path, "model.joblib", pickle.dumps(OpensAFile(marker)))
    shutil.copytree(SHIPPED, folder.parent / SHIPPED.name)
    shutil.copy(MODELS_DIR / "registry.json", folder.parent / "registry.json")
    before = (folder.parent / "registry.json").read_bytes()
    monkeypatch.setenv("ADSCREEN_MODELS_DIR", str(folder.parent))
    result = runner.invoke(app, ["models", "promote", "crafted"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert not marker.exists()
    assert (folder.parent / "registry.json").read_bytes() == before


def test_the_trust_rule() -> None:
    assert artefact.trusted_type("adscreen.model.AdModel")
    assert artefact.trusted_type("adscreen.features.AdPreprocessor")
    assert artefact.trusted_type("sklearn.linear_model._logistic.LogisticRegression")
    assert artefact.trusted_type("numpy.float32")
    assert not artefact.trusted_type("numpy.memmap")  # creates files
    assert not artefact.trusted_type("adscreen.registry.Registry")  # adscreen, but not a data class
    assert not artefact.trusted_type("adscreen.cli.app.Path")  # an alias of pathlib.Path
    assert not artefact.trusted_type("os.system")
    assert not artefact.trusted_type("adscreen.not_a_module.Thing")


FRESH_PROCESS = """
import sys
from pathlib import Path

import sklearn.utils
from sklearn.utils.discovery import all_estimators

from adscreen import artefact
from adscreen.errors import ModelIntegrityError
from adscreen.model import AdModel

assert sklearn.utils.all_estimators is all_estimators, "the patch outlived skops' import"
brought_by_the_list = [name for name in ("sklearn.gaussian_process", "sklearn.neural_network",
                       "sklearn.semi_supervised") if name in sys.modules]
assert not brought_by_the_list, brought_by_the_list
assert isinstance(artefact.load(Path(sys.argv[1])), AdModel)
try:
    artefact.load(Path(sys.argv[2]))
except ModelIntegrityError as error:
    assert "does not trust" in str(error), error
else:
    raise AssertionError("the crafted file loaded")
"""


def test_a_fresh_process_reads_models_without_importing_all_of_sklearn(tmp_path: Path) -> None:
    """skops is imported without its list of every estimator (``artefact._import_skops_io``): the shipped
    model still loads, a crafted file is still refused unrun, and the rest of scikit-learn stays unimported."""
    marker = tmp_path / "ran"
    crafted = tmp_path / "crafted.skops"
    crafted.write_bytes(crafted_skops(marker, "numpy", "memmap"))
    shipped = SHIPPED / json.loads((SHIPPED / "metadata.json").read_text(encoding="utf-8"))["model_file"]
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(shipped), str(crafted)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert not marker.exists()


def test_a_model_round_trips_with_new_fields(tmp_path: Path) -> None:
    """Fields added to AdModel (per-language calibrators, arrays) load without touching the trust rule."""
    model = load_model().loaded.model
    model.per_language = {"ru": model.calibrator, "weights": np.arange(3.0)}  # type: ignore[attr-defined]
    artefact.dump(model, tmp_path / "model.skops")
    loaded = artefact.load(tmp_path / "model.skops")
    assert loaded.per_language["weights"].tolist() == [0.0, 1.0, 2.0]  # type: ignore[attr-defined]
    texts = ["Работа в Дубае, билеты за наш счёт, пиши в Telegram", "Senior accountant, Warsaw office"]
    assert loaded.risk(texts).tolist() == model.risk(texts).tolist()
    features = model.pipeline.named_steps["features"]
    assert isinstance(features.transformers_[0][1].vocabulary_, dict)  # the caller's model is left as it was


def test_an_old_pickled_model_says_how_to_convert_and_convert_works(tmp_path: Path, monkeypatch) -> None:
    import joblib

    models = tmp_path / "models"
    folder = models / "old"
    shutil.copytree(SHIPPED, folder)
    (folder / "model.skops").unlink()
    joblib.dump(load_model().loaded.model, folder / "model.joblib")
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata.update(model_file="model.joblib", model_sha256=file_sha256(folder / "model.joblib"))
    (folder / "metadata.json").write_text(json.dumps(metadata))
    monkeypatch.setenv("ADSCREEN_MODELS_DIR", str(models))

    refused = runner.invoke(app, ["score", "-m", "old", "Work in Dubai"])
    assert refused.exit_code == 2 and "adscreen models convert NAME --trust-pickle" in refused.output
    unconfirmed = runner.invoke(app, ["models", "convert", "old"])
    assert unconfirmed.exit_code == 2 and (folder / "model.joblib").exists()
    converted = runner.invoke(app, ["models", "convert", "old", "--trust-pickle"])
    assert converted.exit_code == 0, converted.output
    assert not (folder / "model.joblib").exists()
    assert runner.invoke(app, ["score", "-m", "old", "Work in Dubai"]).exit_code == 0


def test_a_server_refuses_a_crafted_model_named_in_the_registry(tmp_path: Path, wait_for_reload_error) -> None:
    """A hand-edited registry.json makes a crafted model current: the reload fails, the old model serves, no 500."""
    marker = tmp_path / "ran"
    folder = model_folder(tmp_path, "model.joblib", pickle.dumps(OpensAFile(marker)))
    models = folder.parent
    shutil.copytree(SHIPPED, models / SHIPPED.name)
    shutil.copy(MODELS_DIR / "registry.json", models / "registry.json")
    with TestClient(create_app(Settings(models_dir=models, reload_interval=0.05, workers=0))) as client:
        state = json.loads((models / "registry.json").read_text())
        state["models"]["crafted"] = {"sha256": file_sha256(folder / "model.joblib")}
        state["current"] = "crafted"
        (models / "registry.json").write_text(json.dumps(state))
        health = wait_for_reload_error(client)
        assert health.status_code == 200 and "not a skops model file" in health.json()["reload_error"]
        scored = client.post("/v1/score", json={"text": "Work in Dubai, flights paid"})
        assert scored.status_code == 200 and scored.json()["model"]["name"] == SHIPPED.name
    assert not marker.exists()


@pytest.mark.parametrize(
    "vocabulary", [{}, {"a": np.int64(0)}, {" 🌴": np.int64(2), "жыллё": np.int64(0), "\udcff": np.int64(1)}]
)
def test_a_packed_vocabulary_unpacks_to_the_same_dict(vocabulary: dict) -> None:
    unpacked = artefact.PackedVocabulary.of(vocabulary).unpacked()
    assert unpacked == vocabulary and list(unpacked) == list(vocabulary)


def test_a_damaged_vocabulary_is_a_clear_error(tmp_path: Path) -> None:
    """Arrays that do not make a vocabulary (bytes that are not UTF-8, ends past the columns) fail as the file's fault."""
    model = load_model().loaded.model
    vectorizer = model.pipeline.named_steps["features"].transformers_[0][1]
    original = vectorizer.vocabulary_
    vectorizer.vocabulary_ = {"a": np.int64(0)}
    try:
        with artefact._packed(model):
            vectorizer.vocabulary_.blob = np.array([0xFF], dtype=np.uint8)  # not UTF-8
            skops.io.dump(model, tmp_path / "model.skops")
    finally:
        vectorizer.vocabulary_ = original
    with pytest.raises(ModelIntegrityError, match="cannot read the model file"):
        artefact.load(tmp_path / "model.skops")
