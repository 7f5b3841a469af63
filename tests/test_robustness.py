"""Hostile input: the tricks that hide an ad's words from a filter must not move its folding, flags or risk.

Each plain ad (a lure and a legitimate ad per language) is rewritten by code with one trick:
invisible characters between its characters, emoji or two spaces between the letters of its
words, leetspeak inside words, Latin/Cyrillic look-alikes. The variant must fold to the plain
ad's text, fire the same red flags with spans inside the pasted text, and score within 0.1 of
the plain ad with the shipped model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from difflib import SequenceMatcher

import pytest

from adscreen.redflags import load_flags
from adscreen.text import MAX_EXPANSION, fold, normalise

PLAIN = {
    "ru_lure": "Девушки 18-25 на работу хостес в Дубай, от 4000$ в месяц, без опыта. Билеты и жильё за наш "
    "счёт, вылет на этой неделе! Пиши в Telegram @dubai_job",
    "ru_legit": "ООО «СтройМонтаж» (УНП 191234567) приглашает бетонщиков в Минск. Трудовой договор, "
    "оплата 2200 BYN, опыт от 2 лет. Резюме: hr@stroimontazh.by",
    "be_lure": "Праца ў Польшчы для дзяўчат, заробак да 2500 эўра на месяц, вопыт не патрэбны. Жыллё "
    "бясплатна, пішыце ў вайбер",
    "be_legit": "ТАА «Балтрэкрут» запрашае кухара ў сталовую ў Гродне. Працоўная дамова, заробак 1600 "
    "BYN, графік 5/2. Рэзюмэ: rekrut@baltkadr.by",
    "uk_lure": "Терміново! Робота в Німеччині на м'ясокомбінаті, 2800 євро на місяць, досвід не "
    "потрібен. Житло та дорога за наш рахунок, пишіть у Telegram",
    "uk_legit": "ТОВ «Карпатія Кадри» шукає бухгалтера у Львові. Офіційне працевлаштування, зарплата "
    "24 000 грн, досвід від 3 років. Резюме: cv@karpatiya-kadry.com.ua",
    "pl_lure": "Praca w Holandii od zaraz, zarobki nawet 5000 euro, bez doświadczenia, bez języka. "
    "Mieszkanie i dojazd gratis, pisz na WhatsApp",
    "pl_legit": "Flexiwerk sp. z o.o. zatrudni magazyniera w Poznaniu. Umowa o pracę, 5200 zł brutto, "
    "praca zmianowa. Aplikuj: praca@flexiwerk.pl",
    "en_lure": "Work in Dubai for young girls as hostess, earn up to $5000 a month, no experience "
    "needed. Tickets and housing paid by us, fly this week! Write on Telegram @dubai_job",
    "en_legit": "Emerald Workforce Ltd is hiring a payroll clerk in Dublin. Permanent contract, "
    "salary EUR 38,000, two years of experience. Send your CV to recruit@emeraldworkforce.ie",
}

INVISIBLE = ["\u2061", "\u2062", "\u2063", "\u2064", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d",
             "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u180e", "\U000e0020", "\U000e0041", "\u200b",
             "\u00ad", "\ufe0f", "\u034f", "\u3164"]  # fmt: skip
_LETTER_RUN = re.compile(r"[^\W\d_]{2,}")
_CONTACT = re.compile(r"@|\.\w")
_LEET_LATIN = {"a": "4", "o": "0", "e": "3", "i": "1", "s": "5", "t": "7"}
_LEET_CYRILLIC = {"а": "4", "о": "0", "е": "3", "б": "6"}
_TO_LATIN = str.maketrans("аеорсхуі", "aeopcxyi")
_TO_CYRILLIC = str.maketrans("aeopcxyi", "аеорсхуі")


def invisible(text: str) -> str:
    """An invisible character between every two characters that are not spaces, each of them in turn."""
    out = [text[0]]
    for index, char in enumerate(text[1:]):
        if not char.isspace() and not out[-1].isspace():
            out.append(INVISIBLE[index % len(INVISIBLE)])
        out.append(char)
    return "".join(out)


def between_letters(separator: str) -> Callable[[str], str]:
    """The separator between the letters of each word; e-mail addresses and links are left as they are."""

    def spread(text: str) -> str:
        return " ".join(
            word if _CONTACT.search(word) else _LETTER_RUN.sub(lambda match: separator.join(match.group()), word)
            for word in text.split(" ")
        )

    return spread


def leet(text: str) -> str:
    """Digits for letters inside words (three letters or more in Cyrillic, four in Latin): never the first
    letter, never two side by side, and in Latin never the last."""

    def word(match: re.Match[str]) -> str:
        letters = match.group()
        cyrillic = re.search("[а-яё]", letters.lower()) is not None
        if len(letters) < (3 if cyrillic else 4):
            return letters
        table = _LEET_CYRILLIC if cyrillic else _LEET_LATIN
        out = [letters[0]]
        for index, char in enumerate(letters[1:], 1):
            last = index == len(letters) - 1 and not cyrillic
            out.append(table[char] if char in table and not out[-1].isdigit() and not last else char)
        return "".join(out)

    return _LETTER_RUN.sub(word, text)


def lookalikes(text: str) -> str:
    """A Latin look-alike for the first letter that has one in each Cyrillic word, and the other way round."""

    def word(match: re.Match[str]) -> str:
        letters = match.group()
        cyrillic = re.search("[а-яё]", letters.lower()) is not None
        table = _TO_LATIN if cyrillic else _TO_CYRILLIC
        for index, char in enumerate(letters):
            if char.translate(table) != char and len(letters) >= 3:
                return letters[:index] + char.translate(table) + letters[index + 1 :]
        return letters

    return _LETTER_RUN.sub(word, text)


TRICKS: dict[str, Callable[[str], str]] = {
    "invisible": invisible,
    "emoji": between_letters("✨"),
    "emoji_spaced": between_letters(" 🔥 "),
    "two_spaces": between_letters("  "),
    "dots": between_letters("."),
    "leet": leet,
    "lookalikes": lookalikes,
}
# Letters spaced by dots or two spaces cannot be told from a two-letter word ("в  т") or a domain
# ("firma.by") spaced the same way, which stay apart: the rest folds to the plain text.
NEARLY = {"two_spaces", "dots"}
CASES = [(name, trick) for name in PLAIN for trick in TRICKS]


def _letters(text: str) -> str:
    return re.sub(r"[\W_]", "", fold(text).text)


@pytest.fixture(scope="module")
def flags():
    return load_flags()


@pytest.mark.parametrize(("name", "trick"), CASES)
def test_variant_folds_to_the_plain_text(name: str, trick: str) -> None:
    plain, variant = PLAIN[name], TRICKS[trick](PLAIN[name])
    assert variant != plain
    if trick in NEARLY:
        assert SequenceMatcher(None, fold(variant).text, fold(plain).text).ratio() > 0.97
    else:
        assert fold(variant).text == fold(plain).text
        assert normalise(variant).text == normalise(plain).text


@pytest.mark.parametrize(("name", "trick"), CASES)
def test_variant_fires_the_same_flags_inside_the_pasted_text(flags, name: str, trick: str) -> None:
    plain, variant = PLAIN[name], TRICKS[trick](PLAIN[name])
    plain_found = {match.flag.id: match.spans for match in flags.find(plain)}
    found = {match.flag.id: match.spans for match in flags.find(variant)}
    assert found.keys() == plain_found.keys()
    for flag_id, spans in found.items():
        assert len(spans) == len(plain_found[flag_id])
        for (start, end), (plain_start, plain_end) in zip(spans, plain_found[flag_id], strict=True):
            assert 0 <= start <= end <= len(variant)
            # the span covers the same words as in the plain ad, with the trick's characters
            assert _letters(variant[start:end]) == _letters(plain[plain_start:plain_end])


def test_the_plain_ads_fire_flags(flags) -> None:
    for name, text in PLAIN.items():
        fired = {match.flag.id for match in flags.find(text)}
        assert len(fired) >= 2, name


@pytest.fixture(scope="module")
def scorer():
    from adscreen import load_model

    return load_model()


@pytest.mark.parametrize("name", list(PLAIN))
def test_every_variant_scores_within_a_tenth_of_the_plain_ad(scorer, name: str) -> None:
    plain_risk = scorer.score(PLAIN[name])["risk"]
    risks = {trick: scorer.score(TRICKS[trick](PLAIN[name]))["risk"] for trick in TRICKS}
    assert {trick: risk for trick, risk in risks.items() if abs(risk - plain_risk) > 0.1} == {}, plain_risk


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("т✨е✨л✨е✨г✨р✨а✨м", "телеграм"),
        ("т  е  л  е  г  р  а  м", "телеграм"),
        ("t.e.l.e.g.r.a.m", "telegram"),
        ("р✨а✨б✨о✨т✨а в д✨у✨б✨а✨й", "работа в дубай"),
        ("р  а  б  о  т  а    в    д  у  б  а  й", "работа в дубай"),
        ("т\u2062е\u202eл\U000e0020е\u180eг\u200eр\u2066а\ufe0fм", "телеграм"),
        ("p4ca r0b0ta з4р4б0т0к б3з 0пыта pr4c4", "paca robota заработок без опыта praca"),
        ("Работа  в   Дубае\tсейчас", "работа в дубае сейчас"),
    ],
)
def test_fold_undoes_the_tricks(raw: str, folded: str) -> None:
    assert fold(raw).text == folded


@pytest.mark.parametrize(
    "kept",
    [
        "24/7",
        "3d",
        "b2b",
        "a4",
        "mp3",
        "1с",
        "covid19",
        "i18n",
        "4x4",
        "h1b",
        "b1",
        "10:30",
        "0800",
        "12h",
        "3-й",
        "2х",
        "5000$",
        "+375 29 123-45-67",
        "x5m",
        "0x1f",
        "а, б, в",
        "a - b",
        "и т. д.",
        "sp. z o.o.",
        "a u.s. citizen",
    ],
)
def test_fold_leaves_near_misses_alone(kept: str) -> None:
    assert fold(kept).text == kept


def test_folding_expands_no_character_more_than_max_expansion() -> None:
    worst = max(range(0x110000), key=lambda code: len(fold(chr(code)).text))
    assert len(fold(chr(worst)).text) <= MAX_EXPANSION
    assert len(fold("⒛" * 1000).text) <= MAX_EXPANSION * 1000
