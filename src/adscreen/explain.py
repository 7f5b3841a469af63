"""The model's own evidence for one ad: term contributions mapped back to character spans.

A linear model's decision value is ``intercept + Σ value_i × weight_i``; every
non-zero feature of the ad contributes ``value_i × weight_i``. Word n-grams are
located as token runs in the normalised text; character n-grams (``char_wb``)
are spread over the words they occur in, so "опыта" shows up as one term and
not as ten fragments. Red-flag features are reported with the flags. Shown
terms, flags and the remainder always add up to the decision value.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from adscreen.ad_vector import AdVector, AdVectorizer, Span
from adscreen.scoring_model import FLAG_PREFIX, ScoringModel
from adscreen.text import MappedText

TOP_RAISING = 6
TOP_LOWERING = 4
_NUMBER_TOKEN = re.compile(r"(?:_num\d_\s*)+")


@dataclass(frozen=True)
class Term:
    """One piece of evidence: a word or phrase, its contribution to the decision value, and where it is."""

    key: str
    weight: float
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Explanation:
    """All contributions of one ad, grouped the way a person reads them.

    ``weights`` holds every term's contribution, strongest first. Where a term occurs is
    worked out only for the terms shown (``locate``): an ad has hundreds of terms.
    """

    intercept: float
    decision: float
    weights: list[tuple[str, float]]
    flag_weights: dict[str, float]
    locate: Callable[[str], tuple[Span, ...]] = field(compare=False, repr=False)

    def top_terms(self, raising: int = TOP_RAISING, lowering: int = TOP_LOWERING) -> list[Term]:
        """The strongest terms either way, strongest first; short function words and bare numbers are
        left to the remainder, since "и" or "18" explains nothing to a reader."""
        readable = [(key, weight) for key, weight in self.weights if _readable(key)]
        up = [item for item in readable if item[1] > 0][:raising]
        down = sorted((item for item in readable if item[1] < 0), key=lambda item: item[1])[:lowering]
        shown = sorted(up + down, key=lambda item: -abs(item[1]))
        return [Term(key, weight, self.locate(key)) for key, weight in shown]

    def remaining(self, shown: list[Term]) -> float:
        """What the shown terms and flags leave of the decision value, besides the intercept."""
        return self.decision - self.intercept - sum(term.weight for term in shown) - sum(self.flag_weights.values())


def _readable(key: str) -> bool:
    return len(key) >= 3 and not _NUMBER_TOKEN.fullmatch(key)


class Explainer:
    """Explanations of one model's decisions: built once per model (it indexes the vocabularies), then one call per ad."""

    def __init__(self, model: ScoringModel) -> None:
        self.vectorizer = AdVectorizer(model.layout)
        self.weights = model.coef[0]
        self.intercept = float(model.intercept[0])
        self._word_terms = {column: term for term, column in self.vectorizer.word.vocabulary.items()}
        self._flag_ids = {
            column: name.removeprefix(FLAG_PREFIX) for column, name in self.vectorizer.flag_columns.items()
        }

    def explain(self, normalised: MappedText, fired: list[bool]) -> Explanation:
        """Every feature's contribution to this ad's decision value, grouped into terms.

        ``normalised`` is the ad as the model sees it (``adscreen.text.normalise``) and
        ``fired`` its red flags in the model's order. Sums are added up one term at a
        time in the order of the features, so the weights are reproducible to the last bit.
        """
        vector = self.vectorizer.vectorize(normalised.text, fired)
        contributions = vector.values * self.weights[vector.indices]
        decision = self.intercept + float(contributions.sum())
        indices, values = vector.indices.tolist(), contributions.tolist()
        term_weight: dict[str, float] = defaultdict(float)
        term_columns: dict[str, int] = {}  # a word n-gram term -> its column
        flag_weights: dict[str, float] = {}
        # Feature by feature in the row's order, one addition per occurrence: every sum is the reference's to the bit.
        for block in self.vectorizer.blocks:
            first, stop = bisect_left(indices, block.start), bisect_left(indices, block.stop)
            features = zip(indices[first:stop], values[first:stop], strict=True)
            if block is self.vectorizer.word:
                for index, contribution in features:
                    term = self._word_terms[index]
                    term_weight[term] += contribution
                    term_columns[term] = index
            elif block is self.vectorizer.char:
                self._credit_words(vector, contributions, term_weight)
            else:
                flag_weights.update((self._flag_ids[index], contribution) for index, contribution in features)

        def locate(key: str) -> tuple[Span, ...]:
            """Where the term occurs in the original ad: as a word n-gram, and as a word its character n-grams are in."""
            spans = vector.word_spans[term_columns[key]] if key in term_columns else []
            spans = spans + [
                span for word in vector.words if word.key == key and word.in_vocabulary for span in word.spans
            ]
            return tuple(sorted({normalised.original_span(*span) for span in spans}))

        weights = sorted(term_weight.items(), key=lambda item: -item[1])
        return Explanation(self.intercept, decision, weights, flag_weights, locate)

    @staticmethod
    def _credit_words(vector: AdVector, contributions: np.ndarray, term_weight: dict[str, float]) -> None:
        """Share each character n-gram's contribution equally among its occurrences, each credited to its word."""
        shares = contributions[np.searchsorted(vector.indices, vector.char_columns)] / vector.char_totals
        keys = [word.key for word in vector.words]
        repeats = [len(word.spans) for word in vector.words]
        for word, share in zip(vector.char_words.tolist(), shares.tolist(), strict=True):
            key = keys[word]
            if repeats[word] == 1:
                term_weight[key] += share
            else:
                weight = term_weight[key]
                for _ in range(repeats[word]):
                    weight += share
                term_weight[key] = weight
