"""Model artefacts on disk: one folder per model, and a registry of which one is current.

``models/NAME/`` holds ``model.skops``, ``metadata.json`` (what it was trained on,
its metrics, its threshold and bands, the model file's sha256) and its reports.
``models/registry.json`` records every registered model with its hash and which
one is current; changes are written to a temporary file and renamed, so a reader
never sees half a registry.

Models are trusted by name, not by a hash beside them: a registry name is a plain
folder name inside the models folder (no separators, no ``..``), in ``promote``, in
``registry.json`` and in ``-m NAME``. The model file is read by ``artefact`` (skops
with a trust list), which runs no code from the file, and only when its sha256
matches the recorded ones and it was built with this scikit-learn. Scoring reads only the
``ScoringModel`` arrays the file holds (plain ``.npz``, no skops, no scikit-learn); the whole
pipeline is read when something asks for it (training's comparisons and reports). A pickled
``model.joblib`` of adscreen 0.1 is refused; ``convert_pickled_model`` rewrites one the
user vouches for.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from adscreen.datafiles import file_sha256
from adscreen.errors import ModelIntegrityError, RegistryError
from adscreen.paths import MODELS_DIR

if TYPE_CHECKING:
    from adscreen.model import AdModel
    from adscreen.scoring_model import ScoringModel

MODEL_FILE = "model.skops"
PICKLED_MODEL_FILE = "model.joblib"  # adscreen 0.1; refused, see convert_pickled_model
METADATA_FILE = "metadata.json"
REGISTRY_FILE = "registry.json"
MODEL_FORMAT = "skops"
# A letter, digit or underscore first (so never "." or ".."), then those, dots, dashes and plus signs.
_PLAIN_NAME = re.compile(r"\w[\w.+-]{0,127}")


def checked_name(name: object, where: str = "model name") -> str:
    """``name`` if it is a plain folder name inside the models folder, else a RegistryError saying why."""
    if isinstance(name, str) and _PLAIN_NAME.fullmatch(name):
        return name
    raise RegistryError(
        f"{where} {name!r} is not a plain model name: use the name of a folder inside the models folder"
        " (letters, digits, '_', '.', '-', '+'; no '/', no '..', not an absolute path)"
    )


@dataclass(frozen=True)
class LoadedModel:
    """A verified model and its metadata.

    ``scoring`` is what scoring reads: the arrays stored in the model file, or, for a file written
    before they were, taken from the whole pipeline. ``model`` is the whole pipeline, read from the
    file on first use and verified again. A deferred one (``load_model_dir(..., deferred=True)``)
    is verified at once and reads nothing more until used: a server whose scoring processes each
    hold the model needs only its name and metadata in the process that answers HTTP.
    """

    _model: AdModel | None
    metadata: dict
    path: Path
    expected_sha256: str | None = None  # the registry's hash, checked again when the file is read
    _scoring: ScoringModel | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False, compare=False)

    @property
    def model(self) -> AdModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    object.__setattr__(self, "_model", _read_model(self.path, self.expected_sha256)[0])
        model = self._model
        assert model is not None  # set just above, under the lock
        return model

    @property
    def scoring(self) -> ScoringModel:
        if self._scoring is None:
            from adscreen.scoring_model import ScoringModel  # here: the HTTP process of a server reads no model

            with self._lock:
                if self._scoring is None:
                    stored = None if self._model is not None else _read_scoring(self.path, self.expected_sha256)
                    object.__setattr__(self, "_scoring", stored or ScoringModel.of(self.model))
        scoring = self._scoring
        assert scoring is not None  # set just above, under the lock
        return scoring

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
    from adscreen import artefact

    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / MODEL_FILE
    artefact.dump(model, model_path)
    libraries = {**metadata.get("libraries", {}), "skops": version("skops")}
    metadata = {
        **metadata,
        "libraries": libraries,
        "model_file": MODEL_FILE,
        "model_format": MODEL_FORMAT,
        "model_sha256": file_sha256(model_path),
    }
    write_json_atomically(directory / METADATA_FILE, metadata)
    return metadata


def read_metadata(directory: Path) -> dict:
    path = directory / METADATA_FILE
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelIntegrityError(f"{directory}: not a model folder (no {METADATA_FILE})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelIntegrityError(f"{path}: unreadable metadata: {error}") from None
    if not isinstance(metadata, dict):
        raise ModelIntegrityError(f"{path}: unreadable metadata: not a JSON object")
    return metadata


def model_file_path(directory: Path, metadata: dict) -> Path:
    """The model file the metadata names: a plain file name in the folder, and the file must exist."""
    file_name = metadata.get("model_file", MODEL_FILE)
    if not isinstance(file_name, str) or not _PLAIN_NAME.fullmatch(file_name):
        raise ModelIntegrityError(f"{directory / METADATA_FILE}: model_file {file_name!r} is not a file in the folder")
    model_path = directory / file_name
    if not model_path.is_file():
        raise ModelIntegrityError(f"{model_path}: model file missing")
    return model_path


def verify_model_file(
    directory: Path, metadata: dict, expected_sha256: str | None = None, content: bytes | None = None
) -> Path:
    """The model file's path, once its hash and scikit-learn version are checked: of ``content``, the file's
    bytes as the caller read them (so that what is checked is what is used), or else of the file as it is now."""
    model_path = model_file_path(directory, metadata)
    actual = file_sha256(model_path) if content is None else hashlib.sha256(content).hexdigest()
    for recorded, where in ((metadata.get("model_sha256"), METADATA_FILE), (expected_sha256, REGISTRY_FILE)):
        if recorded is not None and actual != recorded:
            raise ModelIntegrityError(
                f"{model_path}: sha256 {actual[:12]}… does not match {where} ({str(recorded)[:12]}…);"
                " the file was changed or replaced, refusing to load it"
            )
    libraries = metadata.get("libraries")
    built_with = libraries.get("scikit-learn") if isinstance(libraries, dict) else None
    installed = version("scikit-learn")  # not sklearn.__version__: a deferred model is verified without sklearn
    if built_with != installed:
        raise ModelIntegrityError(
            f"{model_path}: built with scikit-learn {built_with}, this is {installed};"
            " retrain it with 'adscreen train' or install the matching scikit-learn"
        )
    return model_path


def load_model_dir(directory: Path, expected_sha256: str | None = None, deferred: bool = False) -> LoadedModel:
    """Load one model folder after verifying it; no code from the folder runs (see ``artefact``).

    Reads what scoring needs now (see ``LoadedModel``); ``deferred``: verify now, read on first use.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelIntegrityError(f"{directory}: no such model folder")
    if deferred:
        metadata = read_metadata(directory)
        verify_model_file(directory, metadata, expected_sha256)
        return LoadedModel(None, metadata, directory, expected_sha256)
    scoring = _read_scoring(directory, expected_sha256)
    if scoring is not None:
        return LoadedModel(None, read_metadata(directory), directory, expected_sha256, scoring)
    model, metadata = _read_model(directory, expected_sha256)
    return LoadedModel(model, metadata, directory)


def _read_scoring(directory: Path, expected_sha256: str | None) -> ScoringModel | None:
    """The scoring arrays of a verified model file, or None when the file has none (written before them).

    The file is read once and its bytes are both verified and used: a file replaced in between is never read
    unverified. The member's size is bounded before it is inflated.
    """
    from adscreen.scoring_model import ScoringModel, member_of

    metadata = read_metadata(directory)
    content = model_file_path(directory, metadata).read_bytes()
    model_path = verify_model_file(directory, metadata, expected_sha256, content)
    try:
        data = member_of(content)  # None for a pickle too: reading the whole model says why it is refused
        return None if data is None else ScoringModel.from_bytes(data).compiled()
    except ModelIntegrityError as error:
        raise ModelIntegrityError(f"{model_path}: {error}") from None


def _read_model(directory: Path, expected_sha256: str | None) -> tuple[AdModel, dict]:
    # Here, not at the top: a process that only scores reads no pipeline, nor scikit-learn.
    from adscreen import artefact
    from adscreen.model import AdModel

    metadata = read_metadata(directory)
    model_path = verify_model_file(directory, metadata, expected_sha256)
    model = artefact.load(model_path)
    if not isinstance(model, AdModel):
        raise ModelIntegrityError(f"{model_path}: not an adscreen model")
    return model, metadata


def convert_pickled_model(directory: Path, expected_sha256: str | None = None) -> dict:
    """Rewrite a pickled ``model.joblib`` (adscreen 0.1) as ``model.skops``; returns the new metadata.

    This unpickles the file, which runs any code in it: only for a model the user built
    themselves, after its sha256 and scikit-learn version are checked as before.
    """
    import joblib  # only here: nothing else in adscreen reads a pickle

    from adscreen.model import AdModel

    metadata = read_metadata(directory)
    if metadata.get("model_file", PICKLED_MODEL_FILE) != PICKLED_MODEL_FILE:
        raise ModelIntegrityError(f"{directory}: its model file is {metadata.get('model_file')!r}, not a pickle")
    pickled = verify_model_file(directory, {**metadata, "model_file": PICKLED_MODEL_FILE}, expected_sha256)
    model = joblib.load(pickled)
    if not isinstance(model, AdModel):
        raise ModelIntegrityError(f"{pickled}: not an adscreen model")
    converted = save_model(model, directory, metadata)
    pickled.unlink()
    return converted


def is_model_name(path: str | Path) -> bool:
    """Whether a ``-m`` value names a model (no path separator) rather than a folder; ``.`` and ``..`` are paths."""
    text = str(path)
    separators = {os.sep, "/", *([os.altsep] if os.altsep else [])}
    return not any(separator in text for separator in separators) and text not in (".", "..")


class Registry:
    """The registry file of a models folder: which models exist, which is current, what came before."""

    def __init__(self, root: Path = MODELS_DIR) -> None:
        self.root = Path(root)
        self.path = self.root / REGISTRY_FILE

    def read(self) -> dict:
        """The registry, checked: every name in it is a plain name inside the models folder."""
        if not self.path.exists():
            return {"current": None, "history": [], "models": {}}
        try:
            registry = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise RegistryError(f"{self.path}: unreadable registry: {error}") from None
        if not (
            isinstance(registry, dict)
            and isinstance(registry.get("history", []), list)
            and isinstance(registry.get("models", {}), dict)
            and all(isinstance(entry, dict) for entry in registry.get("models", {}).values())
        ):
            raise RegistryError(f"{self.path}: unreadable registry: not the registry's JSON layout")
        registry.setdefault("history", [])
        registry.setdefault("models", {})
        current = [] if registry.get("current") is None else [registry["current"]]
        for name in [*current, *registry["models"], *registry["history"]]:
            checked_name(name, f"{self.path}: registered name")
        return registry

    def folder(self, name: str) -> Path:
        """The folder of a model name (a plain name inside the models folder, else a RegistryError)."""
        return self.root / checked_name(name)

    def register(self, name: str) -> dict:
        """Record a model folder under root with its hash (not yet current)."""
        metadata = load_model_dir(self.folder(name)).metadata  # verified and loadable, or not registered
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
        directory = self.folder(name)
        registry = self.read()
        if name not in registry["models"]:
            self.register(name)
            registry = self.read()
        load_model_dir(directory, registry["models"][name].get("sha256"))
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
        return self.folder(name), registry["models"].get(name, {}).get("sha256")

    def recorded_sha256(self, name: str) -> str | None:
        return self.read()["models"].get(checked_name(name), {}).get("sha256")

    def convert(self, name: str) -> dict:
        """Rewrite a registered or unregistered pickled model as skops, and its registry entry's hash with it."""
        directory = self.folder(name)
        metadata = convert_pickled_model(directory, self.recorded_sha256(name))
        registry = self.read()
        if name in registry["models"]:
            registry["models"][name]["sha256"] = metadata["model_sha256"]
            write_json_atomically(self.path, registry)
        return metadata

    def load_current(self, deferred: bool = False) -> LoadedModel:
        directory, sha256 = self.current_path()
        return load_model_dir(directory, sha256, deferred)
