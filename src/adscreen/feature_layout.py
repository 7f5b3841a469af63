"""The fitted feature union as plain data: where each block's columns are and what turns counts into values.

Scoring needs of the fitted ``ColumnTransformer`` only its vocabularies, idf weights, n-gram
settings and block weights. Read once into these classes (``FeatureLayout.of``), they are numpy
arrays and dicts: a scoring process works from them without importing scikit-learn, and
``scoring_model`` stores them in a file that needs neither scikit-learn nor skops to read.

The TF-IDF arithmetic here is ``TfidfTransformer.transform``'s, operation for operation, and the
L2 normalisation that of scikit-learn's ``inplace_csr_row_normalize_l2`` kernel: each row's float
products of its values with themselves summed one after another in double precision, each value
divided by the root in double precision and stored back in its own type. The values are the same
to the bit (tests compare them with the fitted union on every sample ad).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from adscreen.errors import ModelIntegrityError

if TYPE_CHECKING:
    from sklearn.compose import ColumnTransformer

TOKEN_PATTERN = r"(?u)\b\w+\b"
# Settings under which sklearn's analyzers reduce to the n-gram loops of ``ad_vector``.
_PLAIN_TEXT = {
    "input": "content",
    "lowercase": False,
    "preprocessor": None,
    "tokenizer": None,
    "strip_accents": None,
    "binary": False,
    "norm": "l2",
    "use_idf": True,
}
ANALYZERS = ("word", "char_wb")
# The longest n-gram a layout may ask for: build_features uses 2 words and 5 characters; a crafted file asking
# for a billion would have scoring loop for ever.
MAX_NGRAM = 10


@dataclass(frozen=True)
class TextBlock:
    """One TF-IDF block: its columns of the whole row [start, stop), and what its fitted vectorizer knows."""

    name: str
    start: int
    stop: int
    analyzer: str  # "word" or "char_wb"
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]  # term -> column of the whole row (plain ints: numpy integers count slower)
    idf: np.ndarray  # in the vectorizer's dtype, which its counts and values share
    sublinear_tf: bool
    stop_words: frozenset[str]
    weight: float | None  # the union's ``transformer_weights`` entry: every value of the block times it

    @property
    def dtype(self) -> np.dtype:
        return self.idf.dtype

    def values(self, indices: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """One row's TF-IDF values from its counts (``indices`` sorted, local to the block), weighted."""
        values = counts.astype(self.dtype)
        self._tfidf(values, indices, np.array([0, len(values)]))
        return _weighted(values, self.weight)

    def matrix(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """Rows of TF-IDF values from a count matrix (block-local columns, sorted indices), weighted; in place."""
        self._tfidf(counts.data, counts.indices, counts.indptr)
        return _weighted(counts, self.weight)

    def _tfidf(self, data: np.ndarray, indices: np.ndarray, indptr: Any) -> None:
        """CSR rows of counts made TF-IDF values in place: ``TfidfTransformer.transform``'s steps, in its order."""
        if self.sublinear_tf:
            np.log(data, data)
            data += 1.0
        data *= self.idf[indices]
        normalise_rows_l2(data, indptr)


@dataclass(frozen=True)
class FlagBlock:
    """The red-flag indicators, passed through: the row's columns [start, stop) hold these positions of the flags."""

    name: str
    start: int
    stop: int
    positions: tuple[int, ...]
    weight: float | None

    def matrix(self, fired: np.ndarray) -> sparse.csr_matrix:
        """Rows of the block from the flags' 0/1 indicators (one row per ad, in the model's flag order), weighted."""
        return _weighted(sparse.csr_matrix(np.asarray(fired, dtype=np.float64)[:, list(self.positions)]), self.weight)

    def row(self, fired: list[bool]) -> tuple[np.ndarray, np.ndarray]:
        """One ad's columns of the block (those of the flags that fired) and their values, weighted."""
        columns = [self.start + offset for offset, position in enumerate(self.positions) if fired[position]]
        return np.array(columns, dtype=np.int64), _weighted(np.ones(len(columns)), self.weight)


Block = TextBlock | FlagBlock


@dataclass(frozen=True)
class FeatureLayout:
    """The blocks of the feature row in order, and the model's flag columns (in the order of its indicators)."""

    blocks: tuple[Block, ...]
    flag_columns: tuple[str, ...]

    @property
    def word(self) -> TextBlock:
        return self._text_block("word")

    @property
    def char(self) -> TextBlock:
        return self._text_block("char_wb")

    def _text_block(self, analyzer: str) -> TextBlock:
        return next(b for b in self.blocks if isinstance(b, TextBlock) and b.analyzer == analyzer)

    @classmethod
    def of(cls, features: ColumnTransformer, flag_columns: list[str]) -> FeatureLayout:
        """The layout of a fitted union as ``build_features`` makes it; any other is a ModelIntegrityError, so
        a different model can never be scored wrongly."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import FunctionTransformer

        weights = features.transformer_weights or {}
        blocks: list[Block] = []
        for name, transformer, columns in features.transformers_:
            if transformer == "drop":
                continue
            start = features.output_indices_[name].start
            weight = weights.get(name)
            if weight is not None and type(weight) not in (int, float):
                # A NumPy scalar weight promotes a float32 block to float64 under NumPy 2; a plain number does not.
                raise ModelIntegrityError(f"feature block {name!r}: weight {weight!r} is not a plain number")
            if isinstance(transformer, TfidfVectorizer):
                _check_vectorizer(name, transformer)
                if transformer.idf_.dtype != np.dtype(transformer.dtype):
                    raise ModelIntegrityError(f"feature block {name!r}: idf weights and counts differ in type")
                blocks.append(
                    TextBlock(
                        name,
                        start,
                        start + len(transformer.idf_),
                        transformer.analyzer,
                        tuple(transformer.ngram_range),
                        {term: start + int(column) for term, column in transformer.vocabulary_.items()},
                        transformer.idf_,
                        bool(transformer.sublinear_tf),
                        frozenset(transformer.get_stop_words() or ()),
                        weight,
                    )
                )
            elif transformer == "passthrough" or (
                isinstance(transformer, FunctionTransformer) and transformer.func is None
            ):
                positions = tuple(flag_columns.index(column) for column in columns)
                blocks.append(FlagBlock(name, start, start + len(columns), positions, weight))
            else:
                raise ModelIntegrityError(f"feature block {name!r} is {type(transformer).__name__}, not supported")
        return cls.checked(tuple(blocks), tuple(flag_columns))

    @classmethod
    def checked(cls, blocks: tuple[Block, ...], flag_columns: tuple[str, ...]) -> FeatureLayout:
        """A layout with one word and one char_wb block, whose blocks tile the row and whose columns, idf weights
        and flag positions fit their blocks; else a ModelIntegrityError (a damaged file must not score wrongly)."""
        analyzers = sorted(block.analyzer for block in blocks if isinstance(block, TextBlock))
        if analyzers != sorted(ANALYZERS):
            raise ModelIntegrityError(f"scoring needs one word and one char_wb TF-IDF block, not {analyzers}")
        if [block.start for block in blocks] != [0, *(block.stop for block in blocks[:-1])]:
            raise ModelIntegrityError("the feature blocks do not tile the row")
        for block in blocks:
            if isinstance(block, TextBlock):
                low, high = block.ngram_range
                if not 1 <= low <= high <= MAX_NGRAM:
                    raise ModelIntegrityError(f"feature block {block.name!r}: n-grams of {low} to {high}")
                columns = np.fromiter(block.vocabulary.values(), dtype=np.int64, count=len(block.vocabulary))
                fits = len(block.idf) == block.stop - block.start and block.idf.dtype.kind == "f"
                if not fits or (len(columns) and (columns.min() < block.start or columns.max() >= block.stop)):
                    raise ModelIntegrityError(f"feature block {block.name!r}: columns or idf weights outside it")
            elif len(block.positions) != block.stop - block.start or not set(block.positions) <= set(
                range(len(flag_columns))
            ):
                raise ModelIntegrityError(f"feature block {block.name!r}: flag positions outside the flags")
        return cls(blocks, flag_columns)

    @property
    def width(self) -> int:
        """The row's number of columns."""
        return self.blocks[-1].stop

    def flag_column_names(self) -> dict[int, str]:
        """Column of the row -> name of the indicator it passes through."""
        return {
            block.start + offset: self.flag_columns[position]
            for block in self.blocks
            if isinstance(block, FlagBlock)
            for offset, position in enumerate(block.positions)
        }


def normalise_rows_l2(data: np.ndarray, indptr: Any) -> None:
    """Divide each CSR row's values by their L2 norm, in place, exactly as scikit-learn's kernel does (see the
    module docstring); an all-zero row is left as it is."""
    squares = (data * data).astype(np.float64)  # the products in the values' own type, as C's float * float
    ends = np.asarray(indptr, dtype=np.int64)
    bounds = list(pairwise(ends.tolist()))
    roots = np.ones(len(bounds))
    for row, (start, stop) in enumerate(bounds):
        if stop > start:
            total = float(np.cumsum(squares[start:stop])[-1])  # cumsum adds one after another, like the kernel
            if total != 0.0:
                roots[row] = math.sqrt(total)
    lengths: np.ndarray = ends[1:] - ends[:-1]
    data[:] = (data.astype(np.float64) / np.repeat(roots, lengths)).astype(data.dtype)


def _weighted(values: Any, weight: float | None) -> Any:
    """A block's values (array or sparse rows) times its weight, in the values' own dtype, as ColumnTransformer does."""
    return values if weight is None else values * weight


def _check_vectorizer(name: str, vectorizer: Any) -> None:  # a fitted TfidfVectorizer
    params = vectorizer.get_params()
    expected = {**_PLAIN_TEXT, "analyzer": params["analyzer"]}
    if params["analyzer"] == "word":
        expected["token_pattern"] = TOKEN_PATTERN
    elif params["analyzer"] != "char_wb":
        expected["analyzer"] = "word or char_wb"
    if params["analyzer"] == "char_wb" or not isinstance(params["stop_words"], list | tuple | frozenset | set | None):
        expected["stop_words"] = None  # char_wb ignores stop words; a word block may list them, not name a language
    wrong = {key: params[key] for key, value in expected.items() if params[key] != value}
    if wrong:
        raise ModelIntegrityError(f"feature block {name!r}: scoring does not support the settings {wrong}")
