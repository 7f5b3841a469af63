"""The model's feature row of one ad, computed straight from the fitted vocabularies.

``transform_features`` runs the fitted feature union: right for batches, but for one
ad most of its time goes to input checks, pandas and sklearn's per-n-gram Python loop.
``AdVectorizer`` gives the same row (the same columns and bit-for-bit the same values:
same n-grams, the same float32 TF-IDF arithmetic, see ``feature_layout``; tests compare
the two on every sample ad) and, on the way, where each feature occurs in the text,
which the explanation needs. It works from the union's ``FeatureLayout``, which only the
union ``build_features`` makes has, so a different model can never be scored wrongly.

``AdVectorizer.matrix`` gives the same rows for many ads at once, for ``score_many`` and
score-file: sklearn re-cuts every occurrence of every word into n-grams in a Python loop,
about half of batch scoring; here each distinct word of a batch is cut once, all of them
together in numpy (``char_grams``), and the counts go through the layout's TF-IDF.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from typing import NamedTuple

import numpy as np
from scipy import sparse

from adscreen.char_grams import CharGramIndex
from adscreen.feature_layout import TOKEN_PATTERN, FeatureLayout, FlagBlock, TextBlock

_TOKEN = re.compile(TOKEN_PATTERN)
_WORD = re.compile(r"\S+")  # sklearn's char_wb splits with str.split(): the same runs

Span = tuple[int, int]
# Distinct words whose n-gram columns a vectorizer remembers. Ads share most of their words
# (64% of the distinct words of an ad were in an earlier one, over the 1,030 sample ads in
# order), and cutting a word into n-grams is the costliest step of one ad. About 10 MB.
WORD_CACHE_SIZE = 50_000


class Word(NamedTuple):
    """A distinct whitespace-separated word of the normalised text: its core token and where it occurs."""

    key: str
    spans: list[Span]
    in_vocabulary: bool  # whether any of its n-grams is a feature of the model


@dataclass(frozen=True)
class AdVector:
    """One ad's feature row, and where its word and character n-grams occur (spans in the normalised text)."""

    indices: np.ndarray
    values: np.ndarray
    word_spans: dict[int, list[Span]]  # word n-gram column -> its spans
    words: list[Word]  # in order of first occurrence
    # Every occurrence of a character n-gram within a distinct word, sorted by column (then word):
    # the column, the word (index into ``words``) and how often the column occurs in the whole ad.
    char_columns: np.ndarray
    char_words: np.ndarray
    char_totals: np.ndarray


class AdVectorizer:
    """The feature union of a fitted model, one ad or one batch at a time (see the module docstring)."""

    def __init__(self, layout: FeatureLayout) -> None:
        self.blocks = layout.blocks
        self.flag_columns = layout.flag_column_names()  # column of the row -> name of the indicator it passes through
        self.word = layout.word
        self.char = layout.char
        # sklearn drops stop words from the tokens before it forms word n-grams; so does _word_spans.
        self._skipped_words = self.word.stop_words
        low, high = self.char.ngram_range
        self._cut_word = lru_cache(maxsize=WORD_CACHE_SIZE)(
            partial(_cut_word, vocabulary=self.char.vocabulary, low=low, high=high)
        )

    @cached_property
    def _char_index(self) -> CharGramIndex | None:
        """The batch path's packed n-gram index, built on the first batch (one ad at a time never needs it)."""
        low, high = self.char.ngram_range
        vocabulary = self.char.vocabulary
        return CharGramIndex(vocabulary, low, high) if CharGramIndex.fits(vocabulary, high) else None

    def vectorize(self, normalised: str, fired: list[bool]) -> AdVector:
        """The row ``transform_features`` gives for this ad, given its normalised text and red flags."""
        word_spans = self._word_spans(normalised)
        words, char_columns, char_words = self._char_ngrams(normalised)
        # Occurrences of each character n-gram: once per occurrence of each word it is in.
        repeats = np.array([len(word.spans) for word in words], dtype=np.int64)[char_words]
        char_indices, starts = np.unique(char_columns, return_index=True)
        char_counts = np.add.reduceat(repeats, starts) if len(starts) else repeats
        word_indices = np.array(sorted(word_spans), dtype=np.int64)
        indices, values = [], []
        for block in self.blocks:
            if isinstance(block, FlagBlock):
                block_columns, block_values = block.row(fired)
                indices.append(block_columns)
                values.append(block_values)
                continue
            if block is self.word:
                block_indices = word_indices
                counts = np.array([len(word_spans[column]) for column in word_indices.tolist()])
            else:
                block_indices, counts = char_indices, char_counts
            indices.append(block_indices)
            values.append(block.values(block_indices - block.start, counts).astype(np.float64))
        char_totals = char_counts[np.searchsorted(char_indices, char_columns)]
        return AdVector(
            np.concatenate(indices), np.concatenate(values), word_spans, words, char_columns, char_words, char_totals
        )

    def matrix(self, normalised: Sequence[str], fired: np.ndarray) -> sparse.csr_matrix:
        """The rows ``transform_features`` gives for many ads, from their normalised texts and their red flags
        (one row per ad, in the model's flag order): the same values to the bit (tests compare them)."""
        word_counts, char_counts = self._counts(normalised)
        blocks = [
            block.matrix(fired)
            if isinstance(block, FlagBlock)
            else block.matrix(word_counts if block is self.word else char_counts)
            for block in self.blocks
        ]
        return sparse.hstack(blocks, format="csr")

    def _counts(self, normalised: Sequence[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """CountVectorizer's word and char_wb count matrices (block-local columns, float, sorted indices)."""
        vocabulary, skipped, word_start = self.word.vocabulary, self._skipped_words, self.word.start
        low, high = self.word.ngram_range
        word_columns: list[int] = []
        word_ends = [0]
        distinct: dict[str, int] = {}  # each distinct whitespace-separated word of the batch -> its number
        occurrences: list[int] = []  # the words of every ad, one after another, as those numbers
        occurrence_ends = [0]
        for text in normalised:
            tokens = [token for token in _TOKEN.findall(text) if token not in skipped]
            for size in range(low, high + 1):
                # each run of ``size`` tokens, joined (zip stops at the run that ends the text)
                grams = tokens if size == 1 else map(" ".join, zip(*(tokens[i:] for i in range(size)), strict=False))
                word_columns += [column for column in map(vocabulary.get, grams) if column is not None]
            word_ends.append(len(word_columns))
            occurrences += [distinct.setdefault(word, len(distinct)) for word in text.split()]
            occurrence_ends.append(len(occurrences))
        return (
            _count_matrix(word_columns, word_ends, word_start, self.word),
            self._char_counts(list(distinct), occurrences, occurrence_ends),
        )

    def _char_counts(self, distinct: list[str], occurrences: list[int], ends: list[int]) -> sparse.csr_matrix:
        """The char_wb count matrix of a batch, from its distinct words and each ad's words (their numbers, ads
        one after another, ``ends`` where each ad's words end): the ads' word counts times each word's n-gram counts.
        Each distinct word is cut once: all at once in numpy where the vocabulary's alphabet packs
        (``char_grams``), else one by one through the word cache."""
        if self._char_index is not None:
            owners, columns = self._char_index.cut(distinct)
            per_word = np.bincount(owners, minlength=len(distinct))
        else:
            cut = [self._cut_word(word)[0] for word in distinct]
            per_word = np.fromiter(map(len, cut), dtype=np.int64, count=len(cut))
            columns = np.fromiter((column for found in cut for column in found), dtype=np.int64)
        dtype = self.char.dtype
        word_grams = sparse.csr_matrix(
            (np.ones(len(columns), dtype=dtype), columns - self.char.start, np.concatenate(([0], np.cumsum(per_word)))),
            shape=(len(distinct), self.char.stop - self.char.start),
        )
        ad_words = sparse.csr_matrix(
            (np.ones(len(occurrences), dtype=dtype), occurrences, ends), shape=(len(ends) - 1, len(distinct))
        )
        counts = ad_words @ word_grams  # whole counts, exact in float32 whatever the order of the sums
        counts.sort_indices()
        return counts

    def _word_spans(self, text: str) -> dict[int, list[Span]]:
        """The word n-grams in the vocabulary, by column, with the span of each occurrence."""
        vocabulary = self.word.vocabulary
        low, high = self.word.ngram_range
        skipped = self._skipped_words
        tokens = [(match.group(), match.start(), match.end()) for match in _TOKEN.finditer(text)]
        if skipped:
            tokens = [token for token in tokens if token[0] not in skipped]
        spans: dict[int, list[Span]] = defaultdict(list)
        for size in range(low, high + 1):
            for first in range(len(tokens) - size + 1):
                last = first + size - 1
                gram = " ".join(token for token, _, _ in tokens[first : last + 1]) if size > 1 else tokens[first][0]
                column = vocabulary.get(gram)
                if column is not None:
                    spans[column].append((tokens[first][1], tokens[last][2]))
        return spans

    def _char_ngrams(self, text: str) -> tuple[list[Word], np.ndarray, np.ndarray]:
        """The distinct words, and every in-vocabulary char_wb n-gram of each as (column, word), sorted by column.

        Each distinct word is cut into n-grams once, however often it occurs.
        """
        occurrences: dict[str, list[Span]] = defaultdict(list)
        for match in _WORD.finditer(text):
            occurrences[match.group()].append(match.span())
        words: list[Word] = []
        columns: list[int] = []
        found_per_word: list[int] = []
        for word, spans in occurrences.items():
            found, core = self._cut_word(word)
            columns.extend(found)
            found_per_word.append(len(found))
            words.append(Word(core, spans, bool(found)))
        column_array = np.array(columns, dtype=np.int64)
        owners = np.repeat(np.arange(len(words)), found_per_word)
        order = np.argsort(column_array, kind="stable")
        return words, column_array[order], owners[order]


def _cut_word(word: str, vocabulary: dict[str, int], low: int, high: int) -> tuple[tuple[int, ...], str]:
    """A word's in-vocabulary char_wb columns, and its core token (the word without punctuation around it)."""
    core = _TOKEN.search(word)
    return tuple(_char_wb_columns(word, vocabulary, low, high)), core.group() if core else word


def _char_wb_columns(word: str, vocabulary: dict[str, int], low: int, high: int) -> list[int]:
    """The columns of sklearn's ``char_wb`` n-grams of one word (padded with spaces; a word shorter than n
    gives itself once) that are in the vocabulary, in no particular order: one comprehension, which costs
    less than growing each n-gram only while the vocabulary has longer ones."""
    padded = f" {word} "
    length = len(padded)
    if length <= low:
        column = vocabulary.get(padded)
        return [] if column is None else [column]
    return [
        column
        for size in range(low, min(high, length) + 1)
        for offset in range(length - size + 1)
        if (column := vocabulary.get(padded[offset : offset + size])) is not None
    ]


def _count_matrix(columns: list[int], ends: list[int], start: int, block: TextBlock) -> sparse.csr_matrix:
    """Rows of n-gram occurrences (columns of the whole row) as the block's count matrix, as CountVectorizer
    builds it: summing duplicates counts each n-gram and sorts the indices."""
    indices = np.asarray(columns, dtype=np.int64) - start
    counts = sparse.csr_matrix(
        (np.ones(len(indices), dtype=block.dtype), indices, np.asarray(ends, dtype=np.int64)),
        shape=(len(ends) - 1, block.stop - block.start),
    )
    counts.sum_duplicates()
    return counts
