"""Normalising ad text, with a map from every output character back to the input.

Two levels, both pure:
- ``fold``: what the red-flag patterns see. Unicode-normalised, lower case, Latin
  and Cyrillic look-alikes unified within a word (Greek, Armenian, Coptic, Cherokee
  and phonetic letters written for them too), Polish diacritics and ``ё``
  folded, invisible characters (format characters, bidi controls, tags, variation
  selectors, fillers) dropped, leetspeak inside words read as letters ("r0b0ta"),
  spaced-out words closed up whatever separates their letters ("т е л е г р а м",
  "т✨е✨л", "t.e.l"), and runs of spaces made one, so that tricks that defeat
  keyword search defeat nothing here. Folding never makes a text more than
  ``MAX_EXPANSION`` times longer (NFKC turns "⒛" into "20."), so the ad-length
  limit, checked on the pasted text, bounds the folded text too.
- ``normalise``: what the model sees. ``fold`` plus contacts and numbers turned
  into tokens (``_phone_``, ``_url_``, ``_num4_`` ...) so that the model learns
  "a Telegram handle" or "a four-digit sum", never one particular number.

Every ``MappedText`` remembers, for each character, the span of the original
text it came from, so evidence found in normalised text points at the words the
person actually pasted. Each step is a regex substitution that copies the maps
in slices. Batch scoring never reads the maps and runs the same steps without
them (``folded_and_normalised``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Latin letters that look like Cyrillic ones, and back: scammers swap them to dodge filters.
_LATIN_TO_CYRILLIC = str.maketrans("aceopxyikmthbw", "асеорхуікмтнвш")
_CYRILLIC_TO_LATIN = str.maketrans("асеорхуіјкмтнвѕԁ", "aceopxyijkmthbsd")
_LATIN_SPECIAL = {"ł": "l", "đ": "d", "ø": "o", "ß": "s"}
# Small capitals and other letters that spam writes for Cyrillic or Latin ones ("ᴨᴀᴩᴛнᴇᴩы", "Ꮲабота",
# "ƃесплатное", "ɜадержек", "ⲃысоⲕого"): NFKC leaves them alone. No language is written with them (phonetic
# letters, Cherokee, Coptic), so they are always mapped to the Latin or Cyrillic letter they pass for; a mixed
# word is then unified.
_LOOKALIKE_LETTERS = dict(
    zip(
        "ᴀʙᴄᴅᴇғɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢᴨᴦᴧᴩᴫʍɯᴎᴙᴚꭺꮃꮯꮇꮲꮪꭲꭼꮋꮶꮍꮤꮟꮖꭰƃɜɸꭹꮾⲁⲃⲅⲉⲏⲕⲙⲟⲣⲧⲭ",
        "aвcdefghijklmnoprstuvwyzпглрлмшиякabcmpsteнкmwbtdбзфубавгенкмортх",
        strict=True,
    )
)
# Greek and Armenian letters that spam writes for Cyrillic ones ("κοтοрая", "ηужны", "πишите", "граփиκ"). They
# write languages of their own, so they are read as look-alikes only inside a word that also has Latin or
# Cyrillic letters (``_unify_word``).
_FOREIGN_LOOKALIKES = str.maketrans("αβγεηικλμοπρσςτφχօփ", "авуеніклмопростфхоф")
_FOREIGN_SCRIPTS = "\u0370-\u03ff\u0530-\u058f"  # the Greek and Armenian blocks, for character classes
_FOREIGN_LETTER = re.compile(f"[{_FOREIGN_SCRIPTS}]")
# Letters only Cyrillic has: a word with one of them is Cyrillic, however many Latin look-alikes it holds.
_CYRILLIC_ONLY = re.compile(r"[бгджзийлпфцчшщъыьэюяєїґў]")
# Invisible characters that are not format (Cf) or combining (Mn, Me) characters: Hangul fillers,
# the braille blank. Inside a word they would split it without showing.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_DROPPED_CATEGORIES = frozenset({"Cf", "Mn", "Me", "Cs"})
# A character folds to at most this many characters ("…" to "...", "ﬃ" to "ffi", "⒛" to "20."); the few
# whose NFKC form is longer ("⑽", "Ⅷ", "㎉", Arabic ligatures, squared Japanese words) keep their own form.
# So the red flags and the model never read more than three times the ad-length limit.
MAX_EXPANSION = 3
# A word with letters of two scripts: Latin or Greek/Armenian, and Cyrillic or Greek/Armenian (a word of
# Greek or Armenian letters alone matches too, and ``_unify_word`` leaves it). Starts only at word starts and
# never backtracks; a word of one script costs the same scans as with Latin and Cyrillic alone.
_MIXED_WORD = re.compile(
    rf"(?<![^\W\d_])(?=[^\W\d_]*?[a-z{_FOREIGN_SCRIPTS}])(?=[^\W\d_]*?[\u0400-\u04ff{_FOREIGN_SCRIPTS}])[^\W\d_]++"
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]")
# In UTF-8 each character of U+0400-U+04FF starts with one of the bytes D0-D3, which start nothing else;
# deleting every other byte and counting what is left counts the letters in C, with no string per match.
_NOT_CYRILLIC_LEAD = bytes(byte for byte in range(256) if not 0xD0 <= byte <= 0xD3)
_NOT_LATIN = bytes(byte for byte in range(256) if not ord("a") <= byte <= ord("z"))
# Single letters, each followed by a separator: up to 8 characters that are neither letters, digits,
# line breaks nor list punctuation (spaces, dots, dashes, stars, emoji ...). Possessive and started only
# at a single letter, so no text is scanned twice. ``_close_up`` decides whether the run is a spaced word.
_SEPARATOR = r"(?:[^\w\n,;:!?()\[\]{}\"'«»„“”‘’]|_)"
_SPACED_LETTERS = re.compile(rf"(?<![^\W_])[^\W\d_](?:{_SEPARATOR}{{1,8}}+[^\W\d_](?![^\W_]))++")
_SEPARATORS = re.compile(rf"{_SEPARATOR}+")
# One-letter words that may stand right before a spaced-out word: "в т е л е г р а м" is "в" + "телеграм".
_ONE_LETTER_WORDS = frozenset("вскуоиаяўійwziaou")
# Letters and digits mixed in one word, read as leetspeak ("r0b0ta", "p4ca", "з4р4б0т0к", "0пыта",
# "опыт4") only if every digit is single, stands for a letter and follows a letter (or is a leading 0),
# and the word is long enough not to be a code: in Latin script four characters or more, three of them
# letters, with a digit between two letters ("h1b", "w3c", "0x1f", "mp3", "gta5" stay); in Cyrillic
# three or more, two of them letters. Numbers, sums, times, "24/7", "3d", "b2b", "a4", "1с", "covid19",
# "i18n" and "4x4" keep their digits.
_LEET_WORD = re.compile(r"(?<![^\W_])(?=[^\W\d_]*\d)0?(?:[^\W\d_]\d?)++(?![^\W_])")
_LEET_LATIN = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"}
_LEET_CYRILLIC = {"0": "о", "3": "е", "4": "а", "6": "б"}
# Runs of spaces (not line breaks): one space is all a pattern needs to see.
_SPACE_RUN = re.compile(r"[^\S\n]{2,}|[^\S\n ]")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class MappedText:
    """A transformed text and, per character, the [start, end) span of the original it came from."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that produced text[start:end]."""
        if end <= start:
            position = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else 0)
            return position, position
        return self.starts[start], self.ends[end - 1]


# A replacement: a string, every character of which maps to the whole span it replaces, or
# pieces ``(text, start, end)`` of the match kept or rewritten: a piece as long as
# match[start:end] maps character for character, any other to the span of match[start:end].
Replacement = str | list[tuple[str, int, int]]


def _substitute(
    mapped: MappedText, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], Replacement]
) -> MappedText:
    """``pattern.sub`` that keeps the maps (see ``Replacement``)."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for match in pattern.finditer(mapped.text):
        start, end = match.span()
        replacement = replace(match)
        if replacement == match.group():
            continue
        pieces.append(mapped.text[position:start])
        starts.extend(mapped.starts[position:start])
        ends.extend(mapped.ends[position:start])
        whole = isinstance(replacement, str)
        if isinstance(replacement, str):
            parts = [(replacement, 0, end - start)] if replacement else []
        else:
            parts = replacement
        for piece, piece_start, piece_end in parts:
            if not whole and len(piece) == piece_end - piece_start:  # character for character
                starts.extend(mapped.starts[start + piece_start : start + piece_end])
                ends.extend(mapped.ends[start + piece_start : start + piece_end])
            else:
                span_start, span_end = mapped.original_span(start + piece_start, start + piece_end)
                starts.extend([span_start] * len(piece))
                ends.extend([span_end] * len(piece))
            pieces.append(piece)
        position = end
    if not pieces:
        return mapped
    pieces.append(mapped.text[position:])
    starts.extend(mapped.starts[position:])
    ends.extend(mapped.ends[position:])
    return MappedText("".join(pieces), tuple(starts), tuple(ends))


def _fold_char(char: str) -> str:
    """One character in folded form: compatibility-normalised, lower case, Latin diacritics dropped."""
    if char in _INVISIBLE or unicodedata.category(char) in _DROPPED_CATEGORIES or 0xE0000 <= ord(char) <= 0xE0FFF:
        return ""
    if unicodedata.category(char) == "Cc" and not char.isspace():
        return ""
    if char.lower() in _LOOKALIKE_LETTERS:
        return _LOOKALIKE_LETTERS[char.lower()]
    folded = unicodedata.normalize("NFKC", char).lower()
    if len(folded) > MAX_EXPANSION:
        folded = char.lower()[:1]
    if folded == "ё":
        return "е"
    if folded.isascii():
        return folded
    if folded in _LATIN_SPECIAL:
        return _LATIN_SPECIAL[folded]
    base = unicodedata.normalize("NFD", folded)
    if len(folded) == 1 and base[0].isascii() and base[0].isalpha():
        return base[0]  # ą -> a, é -> e; Cyrillic й, ї, ў keep their marks
    return folded


class _FoldTable(dict):
    """``str.translate`` table that folds any character on first sight and remembers it."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def _fold_chars(text: str) -> MappedText:
    folded = text.translate(_FOLD_TABLE)
    if all(len(_FOLD_TABLE[ord(char)]) == 1 for char in set(text)):
        return MappedText(folded, tuple(range(len(text))), tuple(range(1, len(text) + 1)))
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        width = len(_FOLD_TABLE[ord(char)])
        starts.extend([index] * width)
        ends.extend([index + 1] * width)
    return MappedText(folded, tuple(starts), tuple(ends))


def _unify_word(match: re.Match[str]) -> Replacement:
    word = match.group()
    if _FOREIGN_LETTER.search(word) is not None:
        if _CYRILLIC.search(word) is None and _LATIN.search(word) is None:
            return word  # Greek or Armenian, not a disguise
        word = word.translate(_FOREIGN_LOOKALIKES)
    cyrillic = len(_CYRILLIC.findall(word))
    latin = len(_LATIN.findall(word))
    to_cyrillic = cyrillic >= latin or _CYRILLIC_ONLY.search(word) is not None
    return [(word.translate(_LATIN_TO_CYRILLIC if to_cyrillic else _CYRILLIC_TO_LATIN), 0, len(word))]


def _leet_word(match: re.Match[str]) -> Replacement:
    """A word of letters and single digits with its digits read as the letters they stand for, if it is one."""
    word = match.group()
    cyrillic = _CYRILLIC.search(word) is not None
    last = len(word) if cyrillic else len(word) - 1  # a Cyrillic word may end in its only digit
    between = any(char.isdigit() for char in word[1:last])
    if len(word) < (3 if cyrillic else 4) or sum(char.isalpha() for char in word) < (2 if cyrillic else 3):
        return word
    if not (between or word[0] == "0"):
        return word
    table = _LEET_CYRILLIC if cyrillic else _LEET_LATIN
    if any(char.isdigit() and char not in table for char in word):
        return word
    return [("".join(table.get(char, char) for char in word), 0, len(word))]


def _close_up(match: re.Match[str]) -> Replacement:
    """A run of single letters and separators with its spaced-out words closed up.

    The separator that recurs most (``" "``, ``"  "``, ``"✨"``, ``"."`` ...) is the one between
    the letters of a word; any other separator in the run ends a word and stays, without its
    emoji and symbols (``" ✨ "`` is a space). Each letter keeps its own place in the map.
    """
    run = match.group()
    separators = list(_SEPARATORS.finditer(run))
    texts = [found.group() for found in separators]
    ((inside, count),) = Counter(texts).most_common(1)  # the first seen of the most frequent
    if count < 2 and not (len(texts) == 1 and _has_symbol(inside)):
        return run  # nothing recurs: "a - b", not a spaced word (but "н✨а" is "на")
    words: list[list[tuple[str, int, int]]] = [[(run[0], 0, 1)]]
    for found in separators:
        if found.group() != inside:
            between = "".join(char for char in found.group() if not _has_symbol(char)) or " "
            words.append([(between, found.start(), found.end())])
        elif len(words) == len(words[0]) == 1 and run[0] in _ONE_LETTER_WORDS and texts[:3] == [" ", " ", " "]:
            # "в т е л е г р а м" is "в" + "телеграм" (but "a b c" is "abc")
            words.append([(" ", found.start(), found.end())])
        words[-1].append((run[found.end()], found.end(), found.end() + 1))
    if max(sum(piece[0].isalpha() for piece in word) for word in words) < (2 if _has_symbol(inside) else 3):
        return run
    return [piece for word in words for piece in word]


def _has_symbol(separator: str) -> bool:
    """Whether a separator has a pictograph or other symbol in it (emoji, ✓, ★; not $, +, =)."""
    return any(unicodedata.category(char) in ("So", "Sk") for char in separator)


def fold_pattern(pattern: str) -> str:
    """A regex written with ``ё`` or Polish diacritics, folded like the text it will search.

    Only non-ASCII characters are touched, so regex syntax (``\\B``, ``\\S`` ...) is safe.
    """
    return "".join(char if char.isascii() else _fold_char(char) for char in pattern)


def lower_pattern(pattern: str) -> str:
    """A regex with its letters in lower case, escapes (``\\W``, ``\\B`` ...) left alone.

    Folded text is all lower case, so lower-case patterns can match it without
    IGNORECASE, which makes Python's regex engine several times slower.
    """
    chars, escaped = [], False
    for char in pattern:
        chars.append(char if escaped else char.lower())
        escaped = char == "\\" and not escaped
    return "".join(chars)


def _one_space(match: re.Match[str]) -> Replacement:
    return [(" ", 0, 1)]


# The steps of ``fold`` after the characters, in order; leetspeak first, and it keeps length, like the next.
_FOLD_STEPS = (
    (_LEET_WORD, _leet_word),
    (_MIXED_WORD, _unify_word),
    (_SPACED_LETTERS, _close_up),
    (_SPACE_RUN, _one_space),
)


def fold(text: str) -> MappedText:
    """Text as the red-flag patterns see it (see the module docstring)."""
    folded = _fold_chars(text)
    for pattern, replace in _FOLD_STEPS:
        folded = _substitute(folded, pattern, replace)
    return folded


def _replaced_text(replace: Callable[[re.Match[str]], Replacement]) -> Callable[[re.Match[str]], str]:
    """A ``Replacement`` maker as a ``pattern.sub`` function: the replacement's text, no map."""

    def text_of(match: re.Match[str]) -> str:
        replacement = replace(match)
        return replacement if isinstance(replacement, str) else "".join(piece for piece, _, _ in replacement)

    return text_of


_FOLD_TEXT_STEPS = tuple((pattern, _replaced_text(replace)) for pattern, replace in _FOLD_STEPS)


# Where a token can start: what each alternative of ``_TOKEN_KINDS`` needs at its first characters (a
# digit or sign; a word, not inside another, that reaches "@", "." or "+" or is a link, or a currency
# word). Checked first, it spares the regex engine trying every alternative at every character inside
# plain words, most of an ad; a position it lets through gets the same alternatives in the same order.
_TOKEN_START = (
    r"(?=[#@\[+$€£₽₴\d]"
    r"|(?<![\w.-])(?:[\w-]*+[.+@]|https?://)"
    r"|(?<![\w/])(?:https?://|t\.me/|telegram\.me/)"
    r"|р(?<=\dр)|р(?<=\d\sр)"
    r"|(?<![^\W\d_])(?:руб|грн|гривен|zl|pln|usd|eur|евро|долл|dollar|byn|uah|rub))"
)
# One pass over the text; where two alternatives could start at one place, the
# earlier wins (an e-mail before the domain inside it, a phone before its digits).
_TOKEN_KINDS = (
    r"(?P<email>#email_[0-9a-f]+#|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<phone>#phone_[0-9a-f]+#)"
    r"|(?P<url>#url_[0-9a-f]+#)"
    r"|(?P<telegram>(?<![\w/])(?:https?://)?(?:t\.me|telegram\.me)/[\w+]+)"
    r"|(?P<url2>(?<![\w.-])(?:(?:https?://|www\.)\S+"
    r"|[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|by|ru|ua|pl|de|eu|uk|io|info|biz|me|co|lt|cz|kz|md)\b(?:/\S*)?))"
    r"|(?P<handle>(?<![\w@])@[a-z0-9_]{3,})"
    r"|(?P<phone2>\+\s?\d(?:[\s().-]?\d){8,13}"
    r"|\b8\s?\(?0?\d{2,4}\)?[\s-]?\d{2,3}[\s-]?\d{2}[\s-]?\d{2}\b"
    r"|\b\d{3}[\s-]\d{3}[\s-]\d{3,4}\b)"
    r"|(?P<number>\d{1,3}(?:[ \u00a0.,]\d{3})+(?!\d)|\d+)"
    r"|(?P<currency>[$€£₽₴]|(?<![^\W\d_])(?:руб(?:лей|ля|ль)?|(?<=\d)р|(?<=\d\s)р|грн|гривень|гривен|zl|zlotych|pln|usd|eur|euro|евро"
    r"|долларов|долл|dollars?|byn|uah|rub)(?![^\W\d_]))"
    # Placeholders that a public spam dataset wrote in place of contacts and sums: the same tokens as the
    # real thing, or the model learns the dataset ("[username]" = spam) instead of the sign (a handle).
    r"|(?P<handle3>\[username\])|(?P<phone3>\[phone\])|(?P<url3>\[link\])|(?P<currency3>\[currency\])"
    r"|(?P<time>\[(?:time|date)\])|(?P<hashtag>\[hashtag\])"
)
_TOKENS = re.compile(f"{_TOKEN_START}(?:{_TOKEN_KINDS})")
_DIGIT = re.compile(r"\d")


def _token(match: re.Match[str]) -> str:
    """The token for a contact, sum or number; a number's token says only its size (_num1_ ... _num5_)."""
    kind = (match.lastgroup or "").rstrip("23")
    if kind == "hashtag":
        return " "
    if kind == "time":  # a clock time or a date: two-digit numbers
        return " _num2_ "
    if kind == "number":
        return f" _num{min(len(_DIGIT.findall(match.group())), 5)}_ "
    return f" _{kind}_ "


def word_count(text: str) -> int:
    """How many words (runs of letters and digits) a text has: what ``TOO_SHORT_WORDS`` counts."""
    return len(_WORD.findall(text))


def tokenise_folded(folded: MappedText) -> MappedText:
    """Contacts and numbers of an already folded text turned into tokens."""
    return _substitute(folded, _TOKENS, _token)


def normalise(text: str) -> MappedText:
    """Text as the model sees it (see the module docstring)."""
    return tokenise_folded(fold(text))


def folded_and_normalised(text: str) -> tuple[str, str]:
    """``fold(text).text`` and ``normalise(text).text`` without the maps back to the input, which batch
    scoring never reads and which cost about half of folding: the same steps, as plain ``pattern.sub``."""
    folded = text.translate(_FOLD_TABLE)
    for pattern, replace in _FOLD_TEXT_STEPS:
        folded = pattern.sub(replace, folded)
    return folded, _TOKENS.sub(_token, folded)


# The invisible characters that hide inside contacts ("@dub\u200bai", "+375\u206029 ..."): format
# characters, variation selectors, tags and fillers (a subset of what ``fold`` drops, for a fast test).
_INVISIBLE_IN_CONTACTS = re.compile(
    "[\u00ad\u034f\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e0fff]+"
)


def without_invisible(text: str) -> MappedText:
    """The text without invisible characters, mapped back; the text itself, at the cost of one search, if it has none."""
    mapped = MappedText(text, range(len(text)), range(1, len(text) + 1))
    if _INVISIBLE_IN_CONTACTS.search(text) is None:
        return mapped
    return _substitute(mapped, _INVISIBLE_IN_CONTACTS, lambda match: "")


def latin_lookalikes(word: str) -> str:
    """A lower-case word with its Cyrillic look-alike letters made Latin: user names are Latin."""
    return unicodedata.normalize("NFKC", word).lower().translate(_CYRILLIC_TO_LATIN)


# Letters that only one of the five languages writes (after the Latin/Cyrillic script is known).
_BELARUSIAN_ONLY = frozenset("ў")
_UKRAINIAN_ONLY = frozenset("їєґ")
_I = frozenset("і")  # Belarusian and Ukrainian; Belarusian also writes ы and э, Ukrainian neither
_BELARUSIAN_VOWELS = frozenset("ыэ")
_POLISH_ONLY = frozenset("ąćęłńśźż")


def script_language(text: str) -> str:
    """The ad's language from its letters alone (ru, be, uk, pl, en): cheap, deterministic, no model.

    The model calibrates its risk per language (the same false-alarm rate in each), so every path
    that scores an ad, batch included, needs the language; this costs microseconds where a
    statistical detector costs a millisecond. Belarusian writes ў (and і beside ы/э), Ukrainian
    ї/є/ґ (or і without ы/э), Polish its own diacritics; other Cyrillic is Russian, other Latin English.
    """
    lowered = text.lower()
    letters = set(lowered)
    encoded = lowered.encode("utf-8", "surrogatepass")  # a lone surrogate is neither letter
    cyrillic = len(encoded.translate(None, _NOT_CYRILLIC_LEAD))
    latin = len(encoded.translate(None, _NOT_LATIN))
    if cyrillic >= latin and cyrillic:
        if letters & _BELARUSIAN_ONLY:
            return "be"
        if letters & _UKRAINIAN_ONLY:
            return "uk"
        if letters & _I:
            return "be" if letters & _BELARUSIAN_VOWELS else "uk"
        return "ru"
    return "pl" if letters & _POLISH_ONLY else "en"


NOT_UTF8 = "the text is not valid UTF-8 (the file has bytes in another encoding here)"


def undecodable(value: object) -> bool:
    """A text cell holding bytes that were not UTF-8 (the reader keeps them as surrogate escapes)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
