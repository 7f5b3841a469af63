"""The model's features: word and character TF-IDF over normalised text, plus red flags.

Word n-grams carry phrases ("no experience", "жильё предоставляется"); character
n-grams survive Cyrillic and Polish inflection, typos and mixed languages; the
red-flag indicators let the classifier learn what each rule is worth.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer

from adscreen.datafiles import read_yaml
from adscreen.errors import RuleConfigError
from adscreen.paths import DATA_DIR
from adscreen.rules.redflags import FlagSet
from adscreen.scoring_model import FLAG_PREFIX, flags_of, prepare

if TYPE_CHECKING:
    import pandas as pd

NORMALISED = "normalised"
WORD_FEATURES = 60_000
CHAR_FEATURES = 120_000
# The character block's values are scaled by this (ColumnTransformer's ``transformer_weights``), which is
# the same as regularising its columns CHAR_WEIGHT² times less than the word columns. Character n-grams carry
# across sources (inflections, spellings, obfuscated words), where words learn a source's style: with whole
# real sources held out, weighing them 3 (and C 30 -> 100) raised Russian PR-AUC 0.932 -> 0.966, recall at
# <= 3% false alarms 0.19 -> 0.43 and cut Polish false alarms 10.6% -> 2.7%; EMSCAD's CV PR-AUC fell 0.839 -> 0.822.
CHAR_WEIGHT = 3.0
# The red-flag block's values (0 or 1 per flag) are scaled by this: the model trusts a flag less than its fit on the
# written ads alone would. Those ads were written beside the flags' patterns, so there a flag is nearly a label; in real
# ads the same flags fire on vacancies too. With whole real sources held out, 0.35 (against 1) raised PR-AUC 0.921 ->
# 0.968 and recall at <= 3% false alarms 0.43 -> 0.62, and cut false alarms on Polish vacancies 2.7% -> 1.4% and on
# Russian ones 5.8% -> 3.4%; the written ads' CV PR-AUC moved by at most 0.006 in any language. Chosen on CV and held-out
# sources over 0.2-3 (never the test split); neighbouring weights 0.3-0.4 were better than 1 on the same figures too.
FLAG_WEIGHT = 0.35

FUNCTION_WORDS_FILE = DATA_DIR / "function_words.yaml"


def function_words(path: Path = FUNCTION_WORDS_FILE) -> list[str]:
    """The words the word features skip (see the file's comment), all languages together, sorted."""
    lists = read_yaml(path)
    if not isinstance(lists, dict):
        raise RuleConfigError(f"{path}: must map each language to a list of words")
    return sorted({str(word) for words in lists.values() for word in words})


class AdPreprocessor(TransformerMixin, BaseEstimator):
    """Raw ad texts -> normalised text (for TF-IDF) and one 0/1 column per red flag.

    Stateless, so training prepares each ad once for all cross-validation folds.
    Holds the flag specs as plain data and compiles them after loading, so a model
    file does not depend on how a compiled regex or a pydantic object pickles.
    """

    def __init__(self, flag_specs: tuple[dict, ...] = ()) -> None:
        self.flag_specs = flag_specs

    def fit(self, texts: Iterable[str], y: object = None) -> AdPreprocessor:
        return self

    @property
    def flags(self) -> FlagSet:
        if getattr(self, "_flags", None) is None:
            self._flags = flags_of(self.flag_specs)
        return self._flags

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_flags", None)
        return state

    def flag_columns(self) -> list[str]:
        return [FLAG_PREFIX + spec["id"] for spec in self.flag_specs]

    def prepare(self, texts: Iterable[str]) -> tuple[list[str], np.ndarray]:
        """Each ad's normalised text, and its red-flag indicators (0/1, one row per ad, in ``flag_specs`` order):
        what ``transform`` puts in a frame (``scoring_model.prepare``, without the flags only shown)."""
        normalised_texts, indicators, _ = prepare(texts, self.flags)
        return normalised_texts, indicators

    def transform(self, texts: Iterable[str]) -> pd.DataFrame:
        import pandas as pd  # training's and the reference path's frame; scoring calls ``prepare``

        normalised_texts, indicators = self.prepare(texts)
        frame = pd.DataFrame(indicators, columns=self.flag_columns())
        frame.insert(0, NORMALISED, normalised_texts)
        return frame

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.array([NORMALISED, *self.flag_columns()], dtype=object)


def flag_specs(flags: FlagSet) -> tuple[dict, ...]:
    return tuple(flag.spec.model_dump() for flag in flags.flags)


def build_features(flags: FlagSet) -> ColumnTransformer:
    """The feature union; vocabularies are capped so the model file stays small."""
    return ColumnTransformer(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    token_pattern=r"(?u)\b\w+\b",
                    stop_words=function_words(),
                    min_df=2,
                    max_df=0.9,
                    max_features=WORD_FEATURES,
                    sublinear_tf=True,
                    lowercase=False,
                    dtype=np.float32,
                ),
                NORMALISED,
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=3,
                    max_df=0.9,
                    max_features=CHAR_FEATURES,
                    sublinear_tf=True,
                    lowercase=False,
                    dtype=np.float32,
                ),
                NORMALISED,
            ),
            ("flags", "passthrough", [FLAG_PREFIX + flag_id for flag_id in flags.ids]),
        ],
        sparse_threshold=1.0,
        transformer_weights=block_weights(),
    )


def block_weights() -> dict[str, float] | None:
    """The union's ``transformer_weights``: each weighted block's factor (None when no block is weighted)."""
    weights = {name: weight for name, weight in (("char", CHAR_WEIGHT), ("flags", FLAG_WEIGHT)) if weight != 1.0}
    return weights or None


def transform_features(features: ColumnTransformer, prepared: pd.DataFrame) -> sparse.csr_matrix:
    """What ``features.transform(prepared)`` gives, without ColumnTransformer's per-call overhead.

    Scoring one ad through ColumnTransformer costs several milliseconds of checks; this
    applies the fitted parts in the same order, each times its ``transformer_weights``
    entry as ColumnTransformer does (a test asserts the results are equal).
    """
    weights = features.transformer_weights or {}
    blocks = []
    for name, transformer, columns in features.transformers_:
        if transformer == "drop":
            continue
        if transformer == "passthrough":
            block = sparse.csr_matrix(prepared[columns].to_numpy(dtype=np.float64))
        else:
            block = transformer.transform(prepared[columns])
        blocks.append(block if weights.get(name) is None else block * weights[name])
    return sparse.hstack(blocks, format="csr")


def drop_stop_words(features: ColumnTransformer) -> None:
    """Forget the terms a vectorizer cut: sklearn keeps them only for introspection, and they bloat the file."""
    for _, transformer, _ in features.transformers_:
        if isinstance(transformer, TfidfVectorizer):
            transformer.stop_words_ = None
