"""A char_wb vocabulary's n-grams of many words at once, in numpy.

sklearn's ``char_wb`` analyzer (and ``ad_vector._char_wb_columns``) slices every n-gram of a word and looks it
up in a dict: a Python step per n-gram, the costliest part of scoring a batch of new ads. Here each
character of the vocabulary's alphabet gets a small number, an n-gram of up to ``high`` characters packs
into one 64-bit integer (exactly, so two n-grams never share a key), and all words of a batch are cut at
once: a shifted OR per n-gram size, then one sorted search against the vocabulary's keys. Sliding windows
of each size over the space-padded word are the n-grams sklearn forms, but for one rule of its loop: a
padded word shorter than the smallest size gives itself once, as the window of its own length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# Code points above this cannot be in the lookup table; they are outside every alphabet in use.
_MAX_CODE_POINT = 0x10FFFF
_KEY_BITS = 64


class CharGramIndex:
    """The columns of a char_wb vocabulary, keyed by packed n-grams (see the module docstring)."""

    def __init__(self, vocabulary: Mapping[str, int], low: int, high: int) -> None:
        alphabet = sorted(set("".join(vocabulary)))
        self.low, self.high = low, high
        self.bits = max(1, len(alphabet).bit_length())  # numbers 1..len(alphabet); 0 marks "not in the alphabet"
        top = max(map(ord, alphabet), default=0)
        self.numbers = np.zeros(top + 2, dtype=np.uint64)  # code point -> number; the last entry stands for any above
        self.numbers[[ord(character) for character in alphabet]] = np.arange(1, len(alphabet) + 1, dtype=np.uint64)
        grams = list(vocabulary)
        keys = self._keys_of(grams)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.columns = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(grams))[order]

    @classmethod
    def fits(cls, vocabulary: Mapping[str, int], high: int) -> bool:
        """Whether the vocabulary's alphabet is small enough for ``high`` characters to pack into one key."""
        alphabet = len(set("".join(vocabulary)))
        return max(1, alphabet.bit_length()) * high < _KEY_BITS

    def _keys_of(self, grams: Sequence[str]) -> np.ndarray:
        """The packed key of each n-gram (all from the vocabulary, so every character has a number)."""
        lengths = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        codes = np.frombuffer("".join(grams).encode("utf-32-le"), dtype=np.uint32)
        positions = (np.arange(len(codes)) - np.repeat(starts, lengths)).astype(np.uint64)
        return np.bitwise_or.reduceat(self.numbers[codes] << (positions * np.uint64(self.bits)), starts)

    def cut(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every in-vocabulary n-gram occurrence of the words (each padded with a space either side, as
        char_wb pads it): the word's index and the column, grouped by word in order."""
        if not words:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # Padded words one after another, a separator between them that no n-gram may span.
        joined = "\0".join(f" {word} " for word in words)
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        numbers = self.numbers[np.minimum(codes, len(self.numbers) - 1)]
        lengths = np.fromiter((len(word) + 3 for word in words), dtype=np.int64, count=len(words))  # padded + separator
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        numbers[starts[1:] - 1] = 0  # the separators, whatever number the character itself has
        owners = np.repeat(np.arange(len(words), dtype=np.int64), lengths)[: len(numbers)]
        found_words, found_columns = [], []
        keys = numbers.copy()
        valid = numbers != 0
        for size in range(1, self.high + 1):
            if size > 1:
                keys = keys[:-1] | (numbers[size - 1 :] << np.uint64(self.bits * (size - 1)))
                valid = valid[:-1] & (numbers[size - 1 :] != 0)
            if size < self.low:  # only whole padded words this short
                candidates = starts[lengths - 1 == size]
                candidates = candidates[valid[candidates]]
            else:
                candidates = np.flatnonzero(valid)
            at = np.searchsorted(self.keys, keys[candidates])
            at[at == len(self.keys)] = 0
            hit = self.keys[at] == keys[candidates]
            found_words.append(owners[candidates[hit]])
            found_columns.append(self.columns[at[hit]])
        word_of = np.concatenate(found_words)
        order = np.argsort(word_of, kind="stable")
        return word_of[order], np.concatenate(found_columns)[order]
