"""What scoring needs of a fitted model, as arrays and plain data: no scikit-learn, no skops.

An ``AdModel`` is a scikit-learn pipeline; reading one means importing scikit-learn and skops
(1.5 s and 170 MiB) and building every estimator, in every process that scores. Scoring uses only its
vocabularies, idf weights, coefficients, calibration, threshold, bands, language offsets and
flag specs. ``ScoringModel.of`` takes those out of a fitted model; ``to_bytes`` writes them as
an ``.npz`` of plain arrays (no pickles) with a JSON header, which ``artefact.dump`` stores
inside the model file, so the file's sha256 covers it. ``from_bytes`` reads it back with numpy
alone. Decision values and risks are computed with the same operations as the pipeline's
(tests compare them to 1e-12 on every sample ad).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy import special

from adscreen.errors import ModelIntegrityError
from adscreen.feature_layout import Block, FeatureLayout, FlagBlock, TextBlock
from adscreen.rules.redflags import FlagSet, FlagSpec, build_flag
from adscreen.text import folded_and_normalised, script_language

if TYPE_CHECKING:
    from adscreen.model import AdModel

Band = Literal["low", "medium", "high"]
FORMAT = 1
# The largest scoring member read (inflated): the shipped model's is 7 MB; a crafted one must not exhaust memory.
MAX_SCORING_BYTES = 256 * 2**20
# The member of a model file (a skops zip) that holds ``to_bytes``: skops reads only the members it wrote.
SCORING_MEMBER = "adscreen-scoring.npz"
_HEADER = "header"  # the npz member that holds the JSON header, as UTF-8 bytes
FLAG_PREFIX = "flag:"
# Spec fields a model file may hold that adscreen no longer reads, with the value that did nothing.
_RETIRED_SPEC_FIELDS: dict[str, object] = {"also_when_none_of": []}


@dataclass(frozen=True)
class Bands:
    """Risk band edges: low below ``low``, high from ``high`` on, medium between."""

    low: float
    high: float

    def of(self, risk: float) -> Band:
        return "high" if risk >= self.high else ("low" if risk < self.low else "medium")


def current_spec(spec: dict) -> dict:
    """A flag spec stored in a model file, in today's schema: a retired field is dropped when it did nothing,
    so older model files keep loading; one that did something cannot be honoured and fails validation."""
    return {
        key: value
        for key, value in spec.items()
        if not (key in _RETIRED_SPEC_FIELDS and value == _RETIRED_SPEC_FIELDS[key])
    }


def flags_of(specs: Iterable[dict]) -> FlagSet:
    """The red flags a model was trained with, compiled from the specs it stores."""
    return FlagSet(tuple(build_flag(FlagSpec.model_validate(current_spec(spec)), "model") for spec in specs))


def language_offsets(texts: Iterable[str], offsets: dict[str, float]) -> np.ndarray:
    """Each ad's language offset (0 for a language the model has none for)."""
    return np.array([offsets.get(script_language(text), 0.0) for text in texts], dtype=float)


def calibrated(
    decisions: np.ndarray, offsets: np.ndarray | float, coef: np.ndarray, intercept: np.ndarray
) -> np.ndarray:
    """The calibrator's ``predict_proba(...)[:, 1]`` of the shifted decisions, computed with the same
    operations minus sklearn's input checks, which cost more than the arithmetic when scoring one ad."""
    column = (np.asarray(decisions, dtype=float).reshape(-1) + offsets).reshape(-1, 1)
    return special.expit((column @ coef.T + intercept).reshape(-1))


def label_of(risk: float, threshold: float) -> str:
    return "suspicious" if risk >= threshold else "looks_ok"


def prepare(texts: Iterable[str], flags: FlagSet) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Each ad's normalised text, its red-flag indicators (0/1, one row per ad, in the flags' order: the model's
    features) and which flags it shows (the same, plus those only a shown pattern found; see ``rules.redflags``)."""
    normalised_texts, indicators, shown = [], [], []
    for text in texts:
        folded, normalised = folded_and_normalised(str(text))
        normalised_texts.append(normalised)
        fired, visible = flags.indicators(folded)
        indicators.append(fired)
        shown.append(visible)
    width = len(flags.flags)
    return (
        normalised_texts,
        np.array(indicators, dtype=np.float64).reshape(-1, width),
        np.array(shown, dtype=bool).reshape(-1, width),
    )


@dataclass(frozen=True)
class ScoringModel:
    """A fitted model's feature layout, linear weights, calibration and decision rules (see the module docstring)."""

    layout: FeatureLayout
    coef: np.ndarray  # the classifier's ``coef_``, shape (1, features)
    intercept: np.ndarray  # its ``intercept_``, shape (1,)
    calibrator_coef: np.ndarray  # the calibrator's ``coef_``, shape (1, 1)
    calibrator_intercept: np.ndarray
    threshold: float
    bands: Bands
    language_offsets: dict[str, float]
    flag_specs: tuple[dict, ...]

    @cached_property
    def flags(self) -> FlagSet:
        return flags_of(self.flag_specs)

    def decisions(self, matrix: object) -> np.ndarray:
        """The classifier's decision values of feature rows: ``LogisticRegression.decision_function``'s arithmetic."""
        return np.asarray(matrix @ self.coef.T + self.intercept).reshape(-1)

    def offsets_of(self, texts: Iterable[str]) -> np.ndarray:
        return language_offsets(texts, self.language_offsets)

    def calibrate(self, decisions: np.ndarray, offsets: np.ndarray | float = 0.0) -> np.ndarray:
        return calibrated(decisions, offsets, self.calibrator_coef, self.calibrator_intercept)

    def label(self, risk: float) -> str:
        return label_of(risk, self.threshold)

    @classmethod
    def of(cls, model: AdModel) -> ScoringModel:
        """What scoring needs of a fitted ``AdModel`` (its union must be one ``build_features`` makes)."""
        pipeline = model.pipeline
        prepare_step = pipeline.named_steps["prepare"]
        classifier = pipeline.named_steps["classifier"]
        return cls(
            FeatureLayout.of(pipeline.named_steps["features"], prepare_step.flag_columns()),
            classifier.coef_,
            classifier.intercept_,
            model.calibrator.coef_,
            model.calibrator.intercept_,
            float(model.threshold),
            Bands(float(model.bands.low), float(model.bands.high)),
            {language: float(offset) for language, offset in model.language_offsets.items()},
            tuple(prepare_step.flag_specs),
        ).checked()

    def to_bytes(self) -> bytes:
        """The model as an ``.npz`` of plain arrays: a JSON header and each block's vocabulary and idf weights."""
        arrays: dict[str, np.ndarray] = {
            "coef": self.coef,
            "intercept": self.intercept,
            "calibrator_coef": self.calibrator_coef,
            "calibrator_intercept": self.calibrator_intercept,
        }
        blocks = []
        for block in self.layout.blocks:
            if isinstance(block, FlagBlock):
                blocks.append({"kind": "flags", **_fields(block)})
                continue
            blob, ends = pack_terms(terms_by_column(block))
            arrays |= {f"{block.name}.terms": blob, f"{block.name}.ends": ends, f"{block.name}.idf": block.idf}
            blocks.append({"kind": "text", **_fields(block, skip=("vocabulary", "idf"))})
        header = {
            "format": FORMAT,
            "blocks": blocks,
            "flag_columns": list(self.layout.flag_columns),
            "threshold": self.threshold,
            "bands": [self.bands.low, self.bands.high],
            "language_offsets": self.language_offsets,
            "flag_specs": list(self.flag_specs),
        }
        arrays[_HEADER] = np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ScoringModel:
        """A model written by ``to_bytes``, checked (``checked``); anything else is a ModelIntegrityError.
        Reads no pickle; a value that is not a finite number where one belongs is refused."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
            header = json.loads(arrays.pop(_HEADER).tobytes().decode("utf-8"), parse_constant=_refuse_constant)
            if header.get("format") != FORMAT:
                raise ModelIntegrityError(f"scoring arrays of format {header.get('format')!r}, not {FORMAT}")
            blocks = tuple(_block(fields, arrays) for fields in header["blocks"])
            model = cls(
                FeatureLayout.checked(blocks, tuple(map(str, header["flag_columns"]))),
                _floats(arrays["coef"]),
                _floats(arrays["intercept"]),
                _floats(arrays["calibrator_coef"]),
                _floats(arrays["calibrator_intercept"]),
                float(header["threshold"]),
                Bands(*map(float, header["bands"])),
                {str(language): float(offset) for language, offset in header["language_offsets"].items()},
                tuple(dict(spec) for spec in header["flag_specs"]),
            ).checked()
        except ModelIntegrityError:
            raise
        except Exception as error:  # a damaged or crafted member fails in many ways; none of them runs code
            raise _unreadable(error) from None
        return model

    def compiled(self) -> ScoringModel:
        """This model with its flags compiled: what scoring reads is refused now, not on its first ad, when a
        flag spec does not validate or compile."""
        try:
            self.flags  # noqa: B018 (a cached property: reading it compiles the flags)
        except Exception as error:
            raise _unreadable(error) from None
        return self

    def checked(self) -> ScoringModel:
        """This model, if its weights fit its feature row, its numbers are finite and in range, and its flag
        columns are its flags'; else a ModelIntegrityError."""
        shapes = (self.coef.shape, self.intercept.shape, self.calibrator_coef.shape, self.calibrator_intercept.shape)
        if shapes != ((1, self.layout.width), (1,), (1, 1), (1,)):
            raise ModelIntegrityError(f"scoring arrays of shapes {shapes} for {self.layout.width} features")
        arrays = (self.coef, self.intercept, self.calibrator_coef, self.calibrator_intercept)
        numbers = [self.threshold, self.bands.low, self.bands.high, *self.language_offsets.values()]
        if not all(np.isfinite(array).all() for array in arrays) or not np.isfinite(numbers).all():
            raise ModelIntegrityError("scoring arrays with a weight or number that is not finite")
        if not 0.0 <= self.bands.low <= self.bands.high <= 1.0 or not 0.0 <= self.threshold <= 1.0:
            raise ModelIntegrityError("scoring arrays whose threshold or bands are not risks between 0 and 1")
        if self.layout.flag_columns != tuple(FLAG_PREFIX + str(spec.get("id")) for spec in self.flag_specs):
            raise ModelIntegrityError("scoring arrays whose flag columns are not their flags'")
        return self


def _unreadable(error: Exception) -> ModelIntegrityError:
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ModelIntegrityError(f"cannot read the scoring arrays: {reason}")


def _refuse_constant(name: str) -> float:
    raise ModelIntegrityError(f"scoring arrays with {name} in their header")


def _floats(array: np.ndarray) -> np.ndarray:
    """A stored weight array, which must be float64 as the pipeline's are."""
    if array.dtype != np.float64:
        raise ModelIntegrityError(f"scoring weights of type {array.dtype}, not float64")
    return array


def _integers(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype.kind not in "iu":
        raise ModelIntegrityError(f"{name} of type {array.dtype}, not integers")
    return array


def terms_by_column(block: TextBlock) -> list[str]:
    """A block's terms in the order of their columns, which a fitted vectorizer numbers 0, 1, 2 ... with none
    left out: stored so, the terms alone give the vocabulary."""
    terms = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
    if [block.vocabulary[term] for term in terms] != list(range(block.start, block.stop)):
        raise ModelIntegrityError(f"block {block.name!r}: its columns are not numbered one after another")
    return terms


def member_of(model_file: bytes) -> bytes | None:
    """The scoring arrays in a model file's bytes, or None when it has none (written before them, or a pickle);
    a member too large to inflate is a ModelIntegrityError."""
    try:
        with zipfile.ZipFile(io.BytesIO(model_file)) as archive:
            if SCORING_MEMBER not in archive.namelist():
                return None
            if archive.getinfo(SCORING_MEMBER).file_size > MAX_SCORING_BYTES:
                raise ModelIntegrityError(f"its scoring arrays are over {MAX_SCORING_BYTES:,} bytes")
            return archive.read(SCORING_MEMBER)
    except zipfile.BadZipFile:
        return None


def pack_terms(terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as arrays: their UTF-8 bytes end to end, and where each ends."""
    encoded = [term.encode("utf-8", "surrogatepass") for term in terms]
    return (
        np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(),
        np.cumsum([len(term) for term in encoded], dtype=np.int64),
    )


def unpack_terms(blob: np.ndarray, ends: np.ndarray) -> list[str]:
    """The strings ``pack_terms`` packed."""
    data = blob.tobytes()
    return [data[start:end].decode("utf-8", "surrogatepass") for start, end in pairwise([0, *ends.tolist()])]


def _fields(block: Block, skip: tuple[str, ...] = ()) -> dict:
    fields = {name: getattr(block, name) for name in block.__dataclass_fields__ if name not in skip}
    return {name: sorted(value) if isinstance(value, frozenset) else value for name, value in fields.items()}


def _block(fields: dict, arrays: dict[str, np.ndarray]) -> Block:
    kind = fields.pop("kind")
    if kind == "flags":
        if not all(isinstance(position, int) for position in fields["positions"]):
            raise ModelIntegrityError("flag positions that are not integers")
        positions = tuple(fields["positions"])
        return FlagBlock(
            str(fields["name"]), int(fields["start"]), int(fields["stop"]), positions, _weight(fields["weight"])
        )
    name, start, stop = str(fields["name"]), int(fields["start"]), int(fields["stop"])
    terms = unpack_terms(arrays[f"{name}.terms"], _integers(arrays[f"{name}.ends"], f"block {name!r}: term ends"))
    idf = arrays[f"{name}.idf"]
    if idf.dtype not in (np.float32, np.float64) or not np.isfinite(idf).all():
        raise ModelIntegrityError(f"block {name!r}: idf weights of type {idf.dtype} or not finite")
    if len(terms) != stop - start or len(set(terms)) != len(terms):
        raise ModelIntegrityError(f"block {name!r}: {len(terms)} terms for {stop - start} columns")
    return TextBlock(
        name,
        start,
        stop,
        str(fields["analyzer"]),
        (int(fields["ngram_range"][0]), int(fields["ngram_range"][1])),
        {term: start + offset for offset, term in enumerate(terms)},
        idf,
        bool(fields["sublinear_tf"]),
        frozenset(map(str, fields["stop_words"])),
        _weight(fields["weight"]),
    )


def _weight(value: object) -> float | None:
    """A block weight as the union stores it: a plain number (see ``FeatureLayout.of``)."""
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ModelIntegrityError(f"a block weight {value!r} that is not a finite number")
    return float(value)
