"""The fast paths of text must give exactly what the plain ones give.

- Tokenising checks ``_TOKEN_START`` before the token kinds; it only skips places where no token can
  start, so any difference would be a token it skipped. ``REFERENCE`` is the token kinds alone,
  without that check (the regex as it was before it).
- ``folded_and_normalised`` gives the folded and normalised texts without their maps.
- ``script_language`` counts letters by their UTF-8 lead bytes; ``_reference_language`` lists them.

Each is compared on every sample ad, YAML example and real ad, odd inputs and random strings of token pieces.
"""

import json
import random
import re
from pathlib import Path

import pytest

from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.rules.redflags import load_flags
from adscreen.text import (
    _TOKEN_KINDS,
    MappedText,
    _substitute,
    _token,
    fold,
    folded_and_normalised,
    normalise,
    script_language,
)

REFERENCE = re.compile(_TOKEN_KINDS)
# What tokens start with, end with or stand next to: random strings of them reach the guard's edges.
PIECES = [
    *"ab xz_-.+@#/:[]()\n\u00a0,1890$€£₽₴рр",
    "https://",
    "http://",
    "www.",
    "t.me/",
    "telegram.me/",
    ".com",
    ".by",
    "/path",
    "@job",
    "hr@",
    "#email_0a#",
    "#phone_1f#",
    "#url_2#",
    "руб",
    "рублей",
    "грн",
    "гривень",
    "zl",
    "zlotych",
    "pln",
    "usd",
    "eur",
    "euro",
    "евро",
    "долларов",
    "dollars",
    "byn",
    "uah",
    "rub",
    "[username]",
    "[phone]",
    "[link]",
    "[currency]",
    "[time]",
    "[date]",
    "[hashtag]",
    " 000",
    "+375",
    "8 (029)",
    "123-456-7890",
    "работа",
]


def _reference(text: str) -> MappedText:
    return _substitute(fold(text), REFERENCE, _token)


def _reference_language(text: str) -> str:
    """``script_language`` as it was, counting letters with findall."""
    lowered = text.lower()
    letters = set(lowered)
    cyrillic, latin = len(re.findall("[\u0400-\u04ff]", lowered)), len(re.findall("[a-z]", lowered))
    if cyrillic >= latin and cyrillic:
        if letters & set("ў"):
            return "be"
        if letters & set("їєґ"):
            return "uk"
        if "і" in letters:
            return "be" if letters & set("ыэ") else "uk"
        return "ru"
    return "pl" if letters & set("ąćęłńśźż") else "en"


def _same(text: str) -> bool:
    reference = _reference(text)
    return (
        normalise(text) == reference
        and folded_and_normalised(text) == (fold(text).text, reference.text)
        and script_language(text) == _reference_language(text)
    )


def _differences(texts: list[str]) -> list[str]:
    return [text for text in texts if not _same(text)]


def _texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as lines:  # not splitlines(): texts hold U+2028
        return [json.loads(line)["text"] for line in lines if line.strip()]


def test_same_on_every_sample_ad() -> None:
    texts = [text for path in sorted(SAMPLE_ADS_DIR.glob("*.jsonl")) for text in _texts(path)]
    assert len(texts) > 1000
    assert _differences(texts) == []


def test_same_on_every_yaml_example() -> None:
    texts = [
        text
        for flag in load_flags().flags
        for examples in flag.spec.examples.values()
        for text in [*examples.match, *examples.no_match]
    ]
    assert _differences(texts) == []


def test_same_on_every_real_ad(real_ads_path: Path) -> None:
    assert _differences(_texts(real_ads_path)) == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-https://t.me/x",
        "/t.me/jobs",
        "+www.praca.pl",
        ".hr@firma.by",
        "a+b@c.de",
        "100р и 100 р, 5р.",
        "руб.грн",
        "x@y",
        "@@abc",
        "1.000.000,50€",
        "[username][phone]",
        "email_1#email_2#",
        "Пишите в Т Е Л Е Г Р А М, r0b0ta telegrаm",
        "⒛ ﬁ\u200b\u2800 a  \t b",
        "Ёж і ы, ЇЖАК",
        "Łódź ÀБ",
        "\u0400\u04ff\u0500\u03ff ab",  # the edges of the Cyrillic block and their neighbours
        "ab \ud800 вв",  # a lone surrogate counts as no letter
        "KELVIN \u212a\u212a\u212a раз",  # lower() makes the Kelvin sign a Latin k
    ],
)
def test_same_on_odd_inputs(text: str) -> None:
    assert _same(text)


def test_same_on_random_strings_of_token_pieces() -> None:
    chance = random.Random(19)
    texts = ["".join(chance.choices(PIECES, k=chance.randint(1, 12))) for _ in range(20_000)]
    assert _differences(texts) == []
