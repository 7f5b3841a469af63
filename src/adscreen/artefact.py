"""The model file format: skops, loaded with a trust list, never a pickle.

A pickle (``joblib``) runs whatever code its author put in it the moment it is loaded,
and a sha256 written beside it proves nothing: whoever can write the one can write the
other. A skops file is a zip of JSON and ``.npy`` arrays; skops builds the object graph
node by node and refuses, *before* constructing anything, every type it is not told to
trust. What adscreen trusts is said once, here, as a rule rather than a list of fields,
so that new fields of ``AdModel`` load without touching this module:

- what skops trusts by default: builtins, NumPy arrays and SciPy sparse matrices (its list of
  every scikit-learn estimator is left out, see ``_import_skops_io``);
- classes *defined* in adscreen, scikit-learn, NumPy or SciPy (by the class's own
  ``__module__``, so an alias such as ``adscreen.cli.main.Path`` is refused) that hold data and
  nothing else: dataclasses, scikit-learn estimators, NumPy scalar and dtype types, SciPy
  sparse containers. Building one stores values; it opens no file and starts nothing.

Only classes from modules already imported are considered, so checking a file imports
nothing: a file holding a scikit-learn estimator of a module adscreen never imports (a tree, a
clustering) is refused, where skops' own list would have let it through. Functions, modules
and any other class are refused with the names skops found: give a new artefact class a
``@dataclass`` (or make it an estimator) to have it trusted.

TF-IDF vocabularies are never written as dicts: skops writes a dict entry by entry (with a
NumPy integer value, one zip member each), which made the shipped model a 190 MB file that
took 8 minutes to write and 27 s to load. An adscreen model's vocabularies are stored once, in
its scoring arrays (``scoring_model``), which the file also holds; the skops part names them
(``VocabularyInScoringArrays``). Any other vocabulary is written as three arrays
(``PackedVocabulary``), as model files written before the scoring arrays hold theirs.
"""

from __future__ import annotations

import dataclasses
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import sklearn.utils
from scipy import sparse
from sklearn.base import BaseEstimator

from adscreen.errors import ModelIntegrityError
from adscreen.feature_layout import TextBlock
from adscreen.scoring_model import (
    SCORING_MEMBER,
    ScoringModel,
    member_of,
    pack_terms,
    terms_by_column,
    unpack_terms,
)


def _import_skops_io() -> ModuleType:
    """``skops.io``, imported without the list of every scikit-learn estimator it builds as it is imported.

    Building that list (``sklearn.utils.all_estimators``) imports all of scikit-learn: 0.45 s and
    20 MiB in every process that reads a model, for trees, clusterings and manifolds adscreen never
    loads. adscreen does not use the list: ``load`` decides what it trusts by its own rule
    (``trusted_type``) and hands skops every type it found. Without the list, skops reports the
    estimators of a file as untrusted types too, and that rule accepts them (they hold only data).
    """
    every_estimator = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = lambda *args, **kwargs: []
    try:
        import skops.io
    finally:
        sklearn.utils.all_estimators = every_estimator
    return skops.io


skops_io = _import_skops_io()

TRUSTED_PACKAGES = ("adscreen", "sklearn", "numpy", "scipy")
COMPRESSION = zipfile.ZIP_DEFLATED
_PICKLE_HINT = (
    "adscreen no longer loads pickles (model.joblib), which can run code when loaded;"
    " retrain it with 'adscreen train', or convert a model you built yourself with"
    " 'adscreen models convert NAME --trust-pickle'"
)


@dataclasses.dataclass
class PackedVocabulary:
    """A ``{term: column}`` dict as arrays: the terms' UTF-8 bytes end to end, where each ends, and the columns."""

    blob: np.ndarray
    ends: np.ndarray
    columns: np.ndarray

    @classmethod
    def of(cls, vocabulary: dict) -> PackedVocabulary:
        return cls(*pack_terms(list(vocabulary)), np.asarray(list(vocabulary.values())))

    def unpacked(self) -> dict:
        return dict(zip(unpack_terms(self.blob, self.ends), self.columns, strict=True))


@dataclasses.dataclass
class VocabularyInScoringArrays:
    """Stands in the skops part of a model file for the vocabulary of the feature block ``block``, which the
    file's scoring arrays hold: the vocabularies are the largest part of a model, and stored once."""

    block: str


def _package(module_name: str) -> str:
    return module_name.partition(".")[0]


def _holds_only_data(cls: type) -> bool:
    return dataclasses.is_dataclass(cls) or issubclass(
        cls, (BaseEstimator, np.generic, np.dtype, sparse.spmatrix, sparse.sparray)
    )


def trusted_type(name: str) -> bool:
    """Whether a type skops found in a file (``module.Class``) is one adscreen trusts (see the module docstring)."""
    module_name, _, attribute = name.rpartition(".")
    module = sys.modules.get(module_name) if _package(module_name) in TRUSTED_PACKAGES else None
    candidate = getattr(module, attribute, None)
    return (
        isinstance(candidate, type)
        and candidate.__name__ == attribute
        and _package(getattr(candidate, "__module__", "")) in TRUSTED_PACKAGES
        and _holds_only_data(candidate)
    )


def _objects(root: object) -> Iterator[Any]:
    """Every object of adscreen, scikit-learn, NumPy or SciPy reachable from ``root`` through attributes and containers.

    Of any class, hence ``Any``: callers read and set their attributes by name.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (str, bytes, int, float, np.ndarray, type)):
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif _package(type(item).__module__) in TRUSTED_PACKAGES and hasattr(item, "__dict__"):
            yield item
            stack.extend(vars(item).values())


def _swap_vocabularies(root: object, swap: Callable[[Any, object], object | None]) -> list[tuple[Any, object]]:
    """Replace each ``vocabulary_`` that ``swap`` (of its owner and it) maps to something; returns (owner, old
    value) to undo."""
    swapped = []
    for item in list(_objects(root)):
        replacement = swap(item, vars(item).get("vocabulary_"))
        if replacement is not None:
            swapped.append((item, item.vocabulary_))
            item.vocabulary_ = replacement
    return swapped


@contextmanager
def _packed(model: object, in_scoring_arrays: dict[int, str] | None = None) -> Iterator[None]:
    """Within the block, ``model``'s vocabularies are what the file stores: the name of their block where the
    scoring arrays hold them (``in_scoring_arrays``: id of the vectorizer -> block), else packed arrays."""
    named = in_scoring_arrays or {}

    def pack(owner: object, value: object) -> object | None:
        if not isinstance(value, dict):
            return None
        return VocabularyInScoringArrays(named[id(owner)]) if id(owner) in named else PackedVocabulary.of(value)

    swapped = _swap_vocabularies(model, pack)
    try:
        yield
    finally:
        for item, vocabulary in swapped:
            item.vocabulary_ = vocabulary


def dump(model: object, path: Path) -> None:
    """Write ``model`` as a skops file (the caller's object is left as it was); an adscreen model's file also
    holds its ``ScoringModel`` arrays, which scoring reads without skops or scikit-learn."""
    from adscreen.model import AdModel

    scoring = ScoringModel.of(model).to_bytes() if isinstance(model, AdModel) else None  # before writing anything
    blocks = _vectorizer_blocks(model) if isinstance(model, AdModel) else {}
    with _packed(model, blocks):
        skops_io.dump(model, path, compression=COMPRESSION)
    if scoring is not None:
        with zipfile.ZipFile(path, "a", compression=COMPRESSION) as archive:
            archive.writestr(SCORING_MEMBER, scoring)


def load(path: Path) -> object:
    """The object in a skops file, built only from trusted types; anything else is a ModelIntegrityError.

    Nothing in the file is run: an untrusted type is refused before any object is built.
    """
    if not zipfile.is_zipfile(path):
        raise ModelIntegrityError(f"{path}: not a skops model file; {_PICKLE_HINT}")
    try:
        found = skops_io.get_untrusted_types(file=path)
        refused = sorted(name for name in found if not trusted_type(name))
        if refused:
            raise ModelIntegrityError(
                f"{path}: refused before loading: it holds {', '.join(refused[:5])}"
                f"{' and more' if len(refused) > 5 else ''}, which adscreen does not trust"
                " (only data classes of adscreen, scikit-learn, NumPy and SciPy)"
            )
        model = skops_io.load(path, trusted=found)
        stored = _stored_vocabularies(path) if _names_stored_vocabularies(model) else {}

        def unpack(owner: object, value: object) -> object | None:
            if isinstance(value, VocabularyInScoringArrays):
                return stored[value.block]
            return value.unpacked() if isinstance(value, PackedVocabulary) else None

        _swap_vocabularies(model, unpack)
    except ModelIntegrityError:
        raise
    except Exception as error:  # a damaged or crafted file fails in many ways; none of them runs its code
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelIntegrityError(f"{path}: cannot read the model file: {reason}") from None
    return model


def _vectorizer_blocks(model: Any) -> dict[int, str]:  # an AdModel
    """Each TF-IDF vectorizer of the model's feature union (by id) -> its block's name in the scoring arrays."""
    features = model.pipeline.named_steps["features"]
    return {id(transformer): name for name, transformer, _ in features.transformers_ if hasattr(transformer, "idf_")}


def _names_stored_vocabularies(model: object) -> bool:
    return any(isinstance(vars(item).get("vocabulary_"), VocabularyInScoringArrays) for item in _objects(model))


def _stored_vocabularies(path: Path) -> dict[str, dict]:
    """The vocabularies a model file's scoring arrays hold, by block, as the fitted vectorizers hold them
    (block-local columns as NumPy integers)."""
    data = member_of(path.read_bytes())
    if data is None:
        raise ModelIntegrityError(f"{path}: its vocabularies are in scoring arrays it does not have")
    scoring = ScoringModel.from_bytes(data)
    return {
        block.name: dict(zip(terms_by_column(block), np.arange(block.stop - block.start), strict=True))
        for block in scoring.layout.blocks
        if isinstance(block, TextBlock)
    }
