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
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from adscreen.features import FLAG_PREFIX, transform_features
from adscreen.model import AdModel
from adscreen.text import MappedText, fold, tokenise_folded

TOP_RAISING = 6
TOP_LOWERING = 4
_TOKEN = re.compile(r"(?u)\b\w+\b")
_NUMBER_TOKEN = re.compile(r"(?:_num\d_\s*)+")


@dataclass(frozen=True)
class Term:
    """One piece of evidence: a word or phrase, its contribution to the decision value, and where it is."""

    key: str
    weight: float
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Explanation:
    """All contributions of one ad, grouped the way a person reads them."""

    intercept: float
    decision: float
    terms: list[Term]
    flag_weights: dict[str, float]

    def top_terms(self, raising: int = TOP_RAISING, lowering: int = TOP_LOWERING) -> list[Term]:
        """The strongest terms either way, strongest first; short function words and bare numbers are
        left to the remainder, since "и" or "18" explains nothing to a reader."""
        readable = [term for term in self.terms if _readable(term.key)]
        up = [term for term in readable if term.weight > 0][:raising]
        down = sorted((term for term in readable if term.weight < 0), key=lambda term: term.weight)[:lowering]
        return sorted(up + down, key=lambda term: -abs(term.weight))

    def remaining(self, shown: list[Term]) -> float:
        """What the shown terms and flags leave of the decision value, besides the intercept."""
        return self.decision - self.intercept - sum(term.weight for term in shown) - sum(self.flag_weights.values())


def _readable(key: str) -> bool:
    return len(key) >= 3 and not _NUMBER_TOKEN.fullmatch(key)


def _word_spans(normalised: MappedText) -> dict[str, list[tuple[int, int]]]:
    """Every word n-gram (n = 1, 2) of the normalised text with its spans in the original."""
    tokens = [(match.group(), match.start(), match.end()) for match in _TOKEN.finditer(normalised.text)]
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for index, (token, start, end) in enumerate(tokens):
        spans[token].append(normalised.original_span(start, end))
        if index + 1 < len(tokens):
            following, _, following_end = tokens[index + 1]
            spans[f"{token} {following}"].append(normalised.original_span(start, following_end))
    return spans


def _char_words(
    normalised: MappedText, ngram_range: tuple[int, int]
) -> dict[str, tuple[list[tuple[int, int]], list[str]]]:
    """For each char_wb n-gram: the spans of the words it occurs in (one entry per occurrence), and those words."""
    occurrences: dict[str, tuple[list[tuple[int, int]], list[str]]] = defaultdict(lambda: ([], []))
    low, high = ngram_range
    for match in re.finditer(r"\S+", normalised.text):
        word = match.group()
        padded = f" {word} "
        core = _TOKEN.search(word)
        key = core.group() if core else word
        span = normalised.original_span(match.start(), match.end())
        for size in range(low, high + 1):
            for offset in range(len(padded) - size + 1):
                gram = padded[offset : offset + size]
                occurrences[gram][0].append(span)
                occurrences[gram][1].append(key)
            if len(padded) < size:
                break
    return occurrences


def feature_names(model: AdModel) -> np.ndarray:
    """The names of the model's features (slow to build: compute once per model and pass to ``explain``)."""
    return model.pipeline.named_steps["features"].get_feature_names_out()


def explain(model: AdModel, text: str, names: np.ndarray | None = None) -> Explanation:
    """Every feature's contribution to this ad's decision value, grouped into terms."""
    pipeline = model.pipeline
    prepared = pipeline.named_steps["prepare"].transform([text])
    features = pipeline.named_steps["features"]
    classifier = pipeline.named_steps["classifier"]
    row = transform_features(features, prepared)
    names = feature_names(model) if names is None else names
    weights = classifier.coef_[0]
    contributions = row.data * weights[row.indices]
    intercept = float(classifier.intercept_[0])
    decision = intercept + float(contributions.sum())

    normalised = tokenise_folded(fold(text))
    word_spans = _word_spans(normalised)
    char_vectorizer = features.named_transformers_["char"]
    char_words = _char_words(normalised, char_vectorizer.ngram_range)
    term_weight: dict[str, float] = defaultdict(float)
    term_spans: dict[str, set[tuple[int, int]]] = defaultdict(set)
    flag_weights: dict[str, float] = {}
    for index, contribution in zip(row.indices, contributions, strict=True):
        block, _, feature = str(names[index]).partition("__")
        if block == "flags":
            flag_weights[feature.removeprefix(FLAG_PREFIX)] = float(contribution)
        elif block == "word":
            term_weight[feature] += float(contribution)
            term_spans[feature].update(word_spans.get(feature, ()))
        else:
            spans, words = char_words.get(feature, ([], []))
            if not spans:
                term_weight["…"] += float(contribution)
                continue
            share = float(contribution) / len(spans)
            for span, word in zip(spans, words, strict=True):
                term_weight[word] += share
                term_spans[word].add(span)
    terms = [
        Term(key, weight, tuple(sorted(term_spans[key])))
        for key, weight in sorted(term_weight.items(), key=lambda item: -item[1])
        if key != "…"
    ]
    leftover = term_weight.get("…", 0.0)
    if leftover:
        terms.append(Term("…", leftover, ()))
    return Explanation(intercept, decision, terms, flag_weights)
