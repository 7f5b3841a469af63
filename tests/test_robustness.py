"""Hostile input: the tricks that hide an ad's words from a filter must not move its folding, flags or risk,
and no text may make a pattern's work grow faster than the text.

Each plain ad (a lure and a legitimate ad per language) is rewritten by code with one trick:
invisible characters between its characters, emoji or two spaces between the letters of its
words, leetspeak inside words, Latin/Cyrillic look-alikes, Greek and other look-alikes. The variant must fold to the plain
ad's text, fire the same red flags with spans inside the pasted text, and score within 0.1 of
the plain ad with the shipped model.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path

import pytest
import yaml

from adscreen.datafiles import read_yaml
from adscreen.paths import REDFLAGS_DIR
from adscreen.rules.contacts import extract as extract_contacts
from adscreen.rules.redflags import FRAGMENTS_FILE, load_flags
from adscreen.text import MAX_EXPANSION, fold, normalise, tokenise_folded, without_invisible
from adscreen.training.sample_ads import read_sample_rows

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
# Greek, Coptic and phonetic letters that pass for Cyrillic or Latin ones, as real job spam writes them
# ("Εжедневные выплаты", "ηужны", "ƃесплатное"): each maps to one that folds to the letter it replaces.
_TO_FOREIGN = str.maketrans(
    "авекмнопртухфлзбАВЕКМНОПРТХФЛaeopktxiAEOPKTXIBHM",
    "αβεκμηοπρτγχφλɜƃΑΒΕΚΜΗΟΠΡΤΧΦΛαεορκτχιΑΕΟΡΚΤΧΙΒΗΜ",
)


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


def foreign_lookalikes(text: str) -> str:
    """A Greek, Coptic or phonetic look-alike for the first letter that has one in each word of three letters or more."""

    def word(match: re.Match[str]) -> str:
        letters = match.group()
        for index, char in enumerate(letters):
            if char.translate(_TO_FOREIGN) != char and len(letters) >= 3:
                return letters[:index] + char.translate(_TO_FOREIGN) + letters[index + 1 :]
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
    "foreign_lookalikes": foreign_lookalikes,
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


@pytest.mark.parametrize("name", list(PLAIN))
def test_contacts_are_found_through_invisible_characters(name: str) -> None:
    plain, variant = PLAIN[name], invisible(PLAIN[name])
    found = extract_contacts(variant, "BY")
    assert [contact.key for contact in found] == [contact.key for contact in extract_contacts(plain, "BY")]
    for contact in found:
        for start, end in contact.spans:
            assert without_invisible(variant[start:end]).text in plain
            assert variant[start] in plain and variant[end - 1] in plain  # no invisible character at either end


def test_the_plain_ads_fire_flags(flags) -> None:
    for name, text in PLAIN.items():
        fired = {match.flag.id for match in flags.find(text)}
        assert len(fired) >= 2, name


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


# --- Linear time ------------------------------------------------------------------------------------------
#
# Python's regex engine backtracks, so a pattern that can start a match at every position of a run
# and scan the rest of it again (``\d[\d ,.]*?``, ``\b[\w.+-]+@`` on "1.1.1.1...") costs time quadratic
# in the run: 20,000 characters took minutes. Each compiled pattern is fed adversarial texts of n and
# 8n characters; linear work takes about 8 times as long on the longer one, quadratic work 64 times.
# Ratios of two times measured together, never an absolute time, and CPU time of this thread, which other
# processes on a busy machine do not inflate.

ADVERSARIAL_UNITS = [
    "1", "⒛", "⑽", "1 ", "1,", "1.", "1-", "1 000 ", "$", "$1", "€ 1 ", "5000 ", "1500-", "4000$ в месяц ", " ",
    "a", "а", "aа", "а ", "а✨", "r0", "\u200b", "a\u2062", "🔥", "@", "a.", "a@b", "@a_", "http://", "www.", "a-",
    "+375 29 ", "+1", "без ", "up to ", "no ", "до ", "a_", "1/", "a@b.", "t.me/", "1 $ ",
]  # fmt: skip
SHORT, LONG = 2_500, 20_000
LINEAR_BOUND = 20.0  # linear work grows 8 times, quadratic 64 times


@cache
def _text(unit: str, chars: int, folded: bool) -> str:
    text = (unit * (chars // len(unit) + 1))[:chars]
    return fold(text).text if folded else text


def _seconds(run: Callable[[str], object], text: str) -> float:
    """The least time of two runs, each repeated until it lasts long enough to measure."""
    calls = 1
    while True:
        start = time.thread_time()
        for _ in range(calls):
            run(text)
        first = time.thread_time() - start
        if first > 0.002:
            break
        calls *= 4
    start = time.thread_time()
    for _ in range(calls):
        run(text)
    return min(first, time.thread_time() - start) / calls


def _slow_units(run: Callable[[str], object], units: list[str], folded: bool) -> dict[str, float]:
    """The units on which ``run`` grows faster than linear work could, with the ratio (the least of three tries)."""
    slow = {}
    for unit in dict.fromkeys(units):
        ratios = []
        while len(ratios) < 3 and (not ratios or ratios[-1] >= LINEAR_BOUND):
            ratios.append(_seconds(run, _text(unit, LONG, folded)) / _seconds(run, _text(unit, SHORT, folded)))
        if min(ratios) >= LINEAR_BOUND:
            slow[unit] = round(min(ratios), 1)
    return slow


def _scan(regex: re.Pattern[str]) -> Callable[[str], object]:
    return lambda text: list(regex.finditer(text))


def _near_misses(flag) -> list[str]:
    """Units that almost match the flag: each example match cut short, and whole."""
    units = []
    for examples in flag.spec.examples.values():
        for example in examples.match:
            found = flag.regex.search(fold(example).text)
            if found and found.group():
                matched = found.group()
                units += [matched[: len(matched) // 2], matched[:-1], matched + " "]
    return units


@pytest.mark.slow
@pytest.mark.parametrize("flag_id", [flag.id for flag in load_flags().flags])
def test_every_flag_pattern_works_in_linear_time(flags, flag_id: str) -> None:
    flag = next(flag for flag in flags.flags if flag.id == flag_id)
    units = ADVERSARIAL_UNITS + _near_misses(flag)
    assert _slow_units(_scan(flag.regex), units, folded=True) == {}


@pytest.mark.slow
def test_the_shipped_models_flag_patterns_work_in_linear_time(scorer) -> None:
    """A model keeps the patterns it was trained with: one trained before they were made linear must be retrained."""
    slow = {
        flag.id: units
        for flag in scorer.flags.flags
        if (units := _slow_units(_scan(flag.regex), ["1", "⒛", "1 ", "1.", "1,", "1 000 ", "5000 ", "1500-"], True))
    }
    assert slow == {}


@pytest.mark.slow
def test_destination_patterns_work_in_linear_time() -> None:
    """The union of every country's patterns, and the search for each country's first place."""
    from adscreen.rules.guidance import load_guide

    finder = load_guide()._destination_finder
    assert _slow_units(_scan(finder.union), ADVERSARIAL_UNITS, folded=True) == {}
    assert _slow_units(finder.starts, ADVERSARIAL_UNITS, folded=True) == {}


@pytest.mark.slow
def test_contact_patterns_work_in_linear_time() -> None:
    from adscreen.rules.contacts import default_finder

    finder = default_finder()
    regexes = {"scanner": finder.scanner}
    for service in finder.services:
        regexes[f"{service.name} words"] = service.words
        regexes.update({f"{service.name} link {index}": link for index, link in enumerate(service.links)})
    slow = {name: _slow_units(_scan(regex), ADVERSARIAL_UNITS, folded=False) for name, regex in regexes.items()}
    assert {name: units for name, units in slow.items() if units} == {}
    assert _slow_units(lambda text: finder.extract(text, "BY"), ADVERSARIAL_UNITS, folded=False) == {}


@pytest.mark.slow
def test_normalising_works_in_linear_time() -> None:
    assert _slow_units(fold, ADVERSARIAL_UNITS, folded=False) == {}
    assert _slow_units(lambda text: tokenise_folded(fold(text)), ADVERSARIAL_UNITS, folded=False) == {}


# --- The linear patterns find what the old ones found -----------------------------------------------------

BEFORE_LINEAR = Path(__file__).parent / "data" / "before_linear"


@pytest.fixture(scope="module")
def flags_before_linear(tmp_path_factory: pytest.TempPathFactory):
    """Today's flags with the fragments and files rewritten for linear time as they were before
    (fragments added since are kept: the old file has only those of its day)."""
    directory = tmp_path_factory.mktemp("redflags")
    for path in REDFLAGS_DIR.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    for path in BEFORE_LINEAR.glob("*.yaml"):
        if path.name != FRAGMENTS_FILE:
            shutil.copy(path, directory / path.name)
    today, before = read_yaml(REDFLAGS_DIR / FRAGMENTS_FILE), read_yaml(BEFORE_LINEAR / FRAGMENTS_FILE)
    assert isinstance(today, dict) and isinstance(before, dict)
    fragments = {**today, **before}
    (directory / FRAGMENTS_FILE).write_text(yaml.safe_dump(fragments, allow_unicode=True), encoding="utf-8")
    return load_flags(directory)


def _texts_to_compare(flags) -> list[str]:
    texts = [row["text"] for row in read_sample_rows()]
    for flag in flags.flags:
        for examples in flag.spec.examples.values():
            texts += examples.match + examples.no_match
    return texts


def test_linear_patterns_give_the_old_spans(flags, flags_before_linear) -> None:
    changed = []
    for text in _texts_to_compare(flags):
        folded = fold(text)
        new = [(match.flag.id, match.spans) for match in flags.scan(folded).matches]
        old = [(match.flag.id, match.spans) for match in flags_before_linear.scan(folded).matches]
        if new != old:
            changed.append((text, old, new))
    assert changed == []
