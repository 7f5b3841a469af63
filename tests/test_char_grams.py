"""The packed n-gram index cuts words into exactly the n-grams sklearn's char_wb forms."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from adscreen.ad_vector import _char_wb_columns
from adscreen.char_grams import CharGramIndex

CORPUS_WORDS = ["abcdeq", "abcder", "опыт", "работа", "_num4_", "x" * 12, "a", "ab", "zażółć", "€500", "\0x\0"]
# Words outside the corpus too: unknown letters, a separator-like NUL, emoji, one letter, very long.
WORDS = [*CORPUS_WORDS, "abxyz", "опытная", "zzz", "ab\0cd", "😀опыт😀", "q", "x" * 300, "работаработа", "ёж"]


def _vocabulary(ngram_range: tuple[int, int]) -> dict[str, int]:
    corpus = [f"{word} опыта {word}" for word in CORPUS_WORDS]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, lowercase=False, max_df=0.5).fit(corpus)
    return {gram: int(column) + 1000 for gram, column in vectorizer.vocabulary_.items()}


@pytest.mark.parametrize("ngram_range", [(2, 5), (1, 3), (4, 6), (6, 8)])
def test_each_word_gets_the_columns_of_sklearns_ngrams(ngram_range: tuple[int, int]) -> None:
    vocabulary = _vocabulary(ngram_range)
    index = CharGramIndex(vocabulary, *ngram_range)
    owners, columns = index.cut(WORDS)
    assert np.all(np.diff(owners) >= 0)  # grouped by word, in order
    for number, word in enumerate(WORDS):
        expected = sorted(_char_wb_columns(word, vocabulary, *ngram_range))
        assert sorted(columns[owners == number].tolist()) == expected, word


def test_no_words_no_ngrams() -> None:
    owners, columns = CharGramIndex(_vocabulary((2, 5)), 2, 5).cut([])
    assert len(owners) == len(columns) == 0


def test_an_alphabet_too_large_to_pack_is_refused() -> None:
    """5 characters of 13 bits do not fit one 64-bit key; the caller then cuts word by word."""
    small = {"ab": 0, "abc": 1}
    large = {chr(0x4E00 + number) * 2: number for number in range(5000)}
    assert CharGramIndex.fits(small, 5)
    assert not CharGramIndex.fits(large, 5)
    assert CharGramIndex.fits(large, 4)
