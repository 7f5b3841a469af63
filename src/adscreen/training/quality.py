"""Corpus quality checks: near-duplicate ads and sentences repeated across ads.

Written ads must not be slot-filled templates: two ads that are near copies, or a
long sentence pasted into many ads, teach the model phrases instead of signals.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

NEAR_DUPLICATE_COSINE = 0.85
LONG_SENTENCE_WORDS = 10
MAX_ADS_PER_LONG_SENTENCE = 3

_SENTENCE_END = re.compile(r"[.!?…\n]+")
_WORD = re.compile(r"\w+", re.UNICODE)


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float = NEAR_DUPLICATE_COSINE
) -> list[tuple[int, int, float]]:
    """Index pairs whose character n-gram TF-IDF cosine similarity exceeds threshold."""
    if len(texts) < 2:
        return []
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True).fit_transform(texts)
    pairs: list[tuple[int, int, float]] = []
    block = 2000
    for start in range(0, vectors.shape[0], block):
        similarity = (vectors[start : start + block] @ vectors.T).toarray()
        rows, cols = np.nonzero(similarity > threshold)
        for row, col in zip(rows, cols, strict=True):
            i = start + int(row)
            if i < col:
                pairs.append((i, int(col), float(similarity[row, col])))
    return pairs


def sentence_key(sentence: str) -> str:
    """Sentence reduced to its lower-case words, so spacing and punctuation do not hide a repeat."""
    return " ".join(word.lower() for word in _WORD.findall(sentence))


def repeated_sentences(
    texts: Sequence[str],
    min_words: int = LONG_SENTENCE_WORDS,
    max_ads: int = MAX_ADS_PER_LONG_SENTENCE,
) -> dict[str, list[int]]:
    """Sentences of at least min_words words that occur in more than max_ads different ads."""
    ads_by_sentence: dict[str, set[int]] = defaultdict(set)
    for index, text in enumerate(texts):
        for sentence in _SENTENCE_END.split(text):
            key = sentence_key(sentence)
            if len(key.split()) >= min_words:
                ads_by_sentence[key].add(index)
    return {key: sorted(ads) for key, ads in ads_by_sentence.items() if len(ads) > max_ads}
