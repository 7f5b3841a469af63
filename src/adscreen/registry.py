"""Model artefacts on disk: one folder per model, and a registry of which one is current.

``models/NAME/`` holds ``model.joblib``, ``metadata.json`` (what it was trained on,
its metrics, its threshold and bands, the model file's sha256) and its reports.
``models/registry.json`` records every registered model with its hash and which
one is current; changes are written to a temporary file and renamed, so a reader
never sees half a registry.

A joblib file is a pickle and can run code when loaded, so a model is loaded only
when its sha256 matches the recorded one and it was built with this scikit-learn.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib
import sklearn

from adscreen.corpus import file_sha256
from adscreen.errors import ModelIntegrityError, RegistryError
from adscreen.model import AdModel
from adscreen.paths import MODELS_DIR

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
REGISTRY_FILE = "registry.json"


@dataclass(frozen=True)
class LoadedModel:
    """A verified model and its metadata."""

    model: AdModel
    metadata: dict
    path: Path

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", self.path.name))

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unknown"))


def write_json_atomically(path: Path, content: dict) -> None:
    """Write then rename, so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(content, stream, ensure_ascii=False, indent=2, sort_keys=False)
        stream.write("\n")
    os.replace(temporary, path)


def save_model(model: AdModel, directory: Path, metadata: dict) -> dict:
    """Write the model and its metadata (completed with the model file's sha256)."""
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / MODEL_FILE
    joblib.dump(model, model_path, compress=3)
    metadata = {**metadata, "model_file": MODEL_FILE, "model_sha256": file_sha256(model_path)}
    write_json_atomically(directory / METADATA_FILE, metadata)
    return metadata


def read_metadata(directory: Path) -> dict:
    path = directory / METADATA_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelIntegrityError(f"{directory}: not a model folder (no {METADATA_FILE})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelIntegrityError(f"{path}: unreadable metadata: {error}") from None


def verify_model_file(directory: Path, metadata: dict, expected_sha256: str | None = None) -> Path:
    """The model file's path, once its hash and scikit-learn version are checked."""
    model_path = directory / str(metadata.get("model_file", MODEL_FILE))
    if not model_path.is_file():
        raise ModelIntegrityError(f"{model_path}: model file missing")
    actual = file_sha256(model_path)
    for recorded, where in ((metadata.get("model_sha256"), METADATA_FILE), (expected_sha256, REGISTRY_FILE)):
        if recorded is not None and actual != recorded:
            raise ModelIntegrityError(
                f"{model_path}: sha256 {actual[:12]}… does not match {where} ({str(recorded)[:12]}…);"
                " the file was changed or replaced, refusing to load it"
            )
    built_with = metadata.get("libraries", {}).get("scikit-learn")
    if built_with != sklearn.__version__:
        raise ModelIntegrityError(
            f"{model_path}: built with scikit-learn {built_with}, this is {sklearn.__version__};"
            " retrain it with 'adscreen train' or install the matching scikit-learn"
        )
    return model_path


def load_model_dir(directory: Path, expected_sha256: str | None = None) -> LoadedModel:
    """Load one model folder after verifying it."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelIntegrityError(f"{directory}: no such model folder")
    metadata = read_metadata(directory)
    model_path = verify_model_file(directory, metadata, expected_sha256)
    model = joblib.load(model_path)
    if not isinstance(model, AdModel):
        raise ModelIntegrityError(f"{model_path}: not an adscreen model")
    return LoadedModel(model, metadata, directory)


class Registry:
    """The registry file of a models folder: which models exist, which is current, what came before."""

    def __init__(self, root: Path = MODELS_DIR) -> None:
        self.root = Path(root)
        self.path = self.root / REGISTRY_FILE

    def read(self) -> dict:
        if not self.path.exists():
            return {"current": None, "history": [], "models": {}}
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise RegistryError(f"{self.path}: unreadable registry: {error}") from None

    def register(self, name: str) -> dict:
        """Record a model folder under root with its hash (not yet current)."""
        directory = self.root / name
        metadata = read_metadata(directory)
        verify_model_file(directory, metadata)
        registry = self.read()
        registry["models"][name] = {
            "sha256": metadata["model_sha256"],
            "version": metadata.get("version"),
            "trained_at": metadata.get("trained_at"),
            "registered_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_json_atomically(self.path, registry)
        return registry

    def promote(self, name: str) -> dict:
        """Make a registered model current; the previous one goes on the history for rollback."""
        registry = self.read()
        if name not in registry["models"]:
            self.register(name)
            registry = self.read()
        load_model_dir(self.root / name, registry["models"][name]["sha256"])
        if registry.get("current") and registry["current"] != name:
            registry["history"].append(registry["current"])
        registry["current"] = name
        write_json_atomically(self.path, registry)
        return registry

    def rollback(self) -> dict:
        """Make the previously current model current again."""
        registry = self.read()
        if not registry["history"]:
            raise RegistryError(f"{self.path}: nothing to roll back to (no earlier current model)")
        registry["current"] = registry["history"].pop()
        write_json_atomically(self.path, registry)
        return registry

    def current_path(self) -> tuple[Path, str | None]:
        registry = self.read()
        name = registry.get("current")
        if not name:
            raise RegistryError(f"{self.path}: no current model; train one and 'adscreen models promote NAME'")
        return self.root / name, registry["models"].get(name, {}).get("sha256")

    def load_current(self) -> LoadedModel:
        directory, sha256 = self.current_path()
        return load_model_dir(directory, sha256)
