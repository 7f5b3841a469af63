"""Synthetic dumps of ads with planted campaigns, to test and benchmark campaign recovery.

Built from the sample ads (``data/ads``): their sentences, with the contacts cut out,
are the material, reworded for each new ad by putting in other words of the language.
A planted campaign is one lure (sentences drawn from risky ads of one language) posted
several times, each copy with its sentences shuffled, sometimes
one dropped, its numbers changed and its contacts swapped among the campaign's own
(written in national or international format), plus, in some campaigns, ads with a
different text that carry one of the campaign's contacts. Background ads are drawn
the same way from all ads, one each, with contacts nobody else has.

Every generated phone number is valid for ``phonenumbers`` and unique, so only the
planted links exist. Random draws are seeded, so a dump is reproducible.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.rules.contacts import extract
from adscreen.training.sample_ads import read_sample_rows

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_NUMBER = re.compile(r"\d+")
# Where ads of each language run, and phone numbers there: country code, mobile area codes,
# the digits a subscriber number may start with, and the international and national forms.
COUNTRIES = {"ru": ("BY", "RU"), "be": ("BY",), "uk": ("UA",), "pl": ("PL",), "en": ("US", "GB")}
PHONES = {
    "BY": ("+375", ("29", "33", "44"), "2345678", "{code} {area} {number}", "8 0{area} {number}"),
    "RU": ("+7", ("914", "926", "985"), "2345678", "{code} {area} {number}", "8 ({area}) {number}"),
    "UA": ("+380", ("67", "50", "93"), "2345678", "{code} {area} {number}", "0{area} {number}"),
    "PL": ("+48", ("571", "601", "733"), "1234567", "{code} {area} {number}", "{area} {number}"),
    "US": ("+1", ("212", "646", "415"), "2345678", "{code} ({area}) {number}", "({area}) {number}"),
    "GB": ("+44", ("7418", "7824", "7533"), "1234567", "{code} {area} {number}", "0{area} {number}"),
}
SUBSCRIBER_DIGITS = {"BY": 7, "RU": 7, "UA": 7, "PL": 6, "US": 7, "GB": 6}
CONTACT_LINES = {
    "ru": (
        "Звоните: {phone}",
        "Пишите в Telegram {handle}",
        "Viber/WhatsApp {phone}",
        "Тел. {phone}, телеграм {handle}",
    ),
    "be": ("Тэлефануйце: {phone}", "Пішыце ў Telegram {handle}", "Viber {phone}"),
    "uk": ("Телефонуйте: {phone}", "Пишіть у Telegram {handle}", "Viber/WhatsApp {phone}"),
    "pl": ("Dzwoń: {phone}", "Pisz na Telegram {handle}", "WhatsApp {phone}"),
    "en": ("Call {phone}", "Message us on Telegram {handle}", "WhatsApp {phone}"),
}


@dataclass(frozen=True)
class Material:
    """Sentences of the sample ads without their contacts, per language: all of them, and those of risky ads."""

    sentences: dict[str, list[str]]
    risky: dict[str, list[str]]
    vocabulary: dict[str, list[str]]


def load_material(directory: Path = SAMPLE_ADS_DIR) -> Material:
    sentences: dict[str, list[str]] = {language: [] for language in COUNTRIES}
    risky: dict[str, list[str]] = {language: [] for language in COUNTRIES}
    for row in read_sample_rows(directory):
        text = row["text"]
        spans = [span for contact in extract(text, row["country"]) for span in contact.spans]
        position = 0
        for piece in [*_SENTENCE_END.split(text)]:
            start = text.find(piece, position)
            position = start + len(piece)
            has_contact = any(start < end and begin < position for begin, end in spans)
            if has_contact or len(piece.split()) < 3 or "@" in piece or "http" in piece:
                continue
            sentences[row["language"]].append(piece.strip())
            if row["label"] == 1:
                risky[row["language"]].append(piece.strip())
    vocabulary = {
        language: sorted({word for sentence in pool for word in sentence.split() if word.isalpha() and len(word) > 3})
        for language, pool in sentences.items()
    }
    return Material(sentences, risky, vocabulary)


class _Contacts:
    """Unique, valid phone numbers and handles, from counters mixed so that they look random."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.numbers = dict.fromkeys(PHONES, 0)  # one counter per country: each has its own number space
        self.handles = 0

    def phone(self, country: str) -> tuple[str, str]:
        """One number never given before, in international and in national format."""
        code, areas, leads, international, national = PHONES[country]
        width = SUBSCRIBER_DIGITS[country]
        number = self.numbers[country]
        self.numbers[country] += 1
        area = areas[number % len(areas)]
        number //= len(areas)
        lead = leads[number % len(leads)]
        # 7919 is prime to 10, so this is a one-to-one shuffle of the 10^(width-1) subscriber numbers.
        rest = str((number // len(leads) * 7919 + 104_729) % 10 ** (width - 1)).zfill(width - 1)
        digits = lead + rest
        grouped = f"{digits[:-4]}-{digits[-4:-2]}-{digits[-2:]}"
        return international.format(code=code, area=area, number=grouped), national.format(area=area, number=grouped)

    def handle(self) -> str:
        self.handles += 1
        suffix = ("job", "work", "hr")[int(self.rng.integers(3))]
        return "@" + np.base_repr(self.handles * 7919 + 104_729, 36).lower() + "_" + suffix


def _changed_numbers(sentence: str, rng: np.random.Generator) -> str:
    """Every number replaced by another of the same length: a new sum, date or age."""

    def change(match: re.Match[str]) -> str:
        digits = len(match.group())
        low = 10 ** (digits - 1) if digits > 1 else 0
        return str(int(rng.integers(low, 10**digits)))

    return _NUMBER.sub(change, sentence)


def _fresh_text(pool: list[str], vocabulary: list[str], rng: np.random.Generator, low: int, high: int) -> list[str]:
    """Sentences for a new ad: drawn from the pool, each reworded with words of the language put in.

    A corpus of a thousand ads repeats its sentences across a million drawn ads; the new words
    make two ads that drew the same sentence as different as two writers would.
    """
    sentences = []
    for index in rng.choice(len(pool), size=int(rng.integers(low, high)), replace=False):
        words = pool[index].split()
        inserted = rng.integers(len(vocabulary), size=max(1, len(words) // 3))
        places = np.sort(rng.integers(len(words) + 1, size=len(inserted)))[::-1]
        for place, word in zip(places, inserted, strict=True):
            words.insert(int(place), vocabulary[word])
        sentences.append(" ".join(words))
    return sentences


def _ad(sentences: list[str], contact_line: str | None) -> str:
    """One sentence a line, as many ads are laid out; the contacts last."""
    return "\n".join([*sentences, contact_line] if contact_line else sentences)


def _contact_line(language: str, rng: np.random.Generator, phone: str, handle: str) -> tuple[str, list[str]]:
    """A contact line in the ad's language, and which of the two contacts it shows."""
    template = CONTACT_LINES[language][int(rng.integers(len(CONTACT_LINES[language])))]
    showing = [value for kind, value in (("phone", phone), ("handle", handle)) if "{" + kind + "}" in template]
    return template.format(phone=phone, handle=handle), showing


def _line_showing(language: str, rng: np.random.Generator, contact: str) -> str:
    """A contact line that shows exactly this phone number or handle."""
    kind = "handle" if contact.startswith("@") else "phone"
    lines = [line for line in CONTACT_LINES[language] if line.count("{") == 1 and "{" + kind + "}" in line]
    return lines[int(rng.integers(len(lines)))].format(**{kind: contact})


def _campaign(
    language: str, size: int, material: Material, contacts: _Contacts, rng: np.random.Generator
) -> Iterator[tuple[str, str]]:
    """The ads of one planted campaign: (text, country).

    Copies of one lure, each with its own order, numbers and one of the campaign's contacts
    (or, for some, contacts of their own, so that only the text links them); in larger
    campaigns, up to three ads with another text that show a contact some copy shows.
    """
    country = str(rng.choice(COUNTRIES[language]))
    pool, vocabulary = material.risky[language], material.vocabulary[language]
    lure = _fresh_text(pool, vocabulary, rng, 5, 9)
    phones = [contacts.phone(country) for _ in range(int(rng.integers(1, 3)))]
    handles = [contacts.handle() for _ in range(int(rng.integers(1, 3)))]
    other_texts = int(rng.integers(1, min(3, size - 2) + 1)) if size >= 4 and rng.random() < 0.5 else 0
    shown: list[str] = []
    for copy in range(size - other_texts):
        sentences = [_changed_numbers(sentence, rng) for sentence in lure]
        sentences = [sentences[i] for i in rng.permutation(len(sentences))]
        if rng.random() < 0.3:
            sentences = sentences[1:]
        if copy > 0 and rng.random() < 0.3:  # contacts nobody else has: only its text links it
            line, _ = _contact_line(language, rng, contacts.phone(country)[0], contacts.handle())
        else:
            phone = phones[int(rng.integers(len(phones)))][int(rng.integers(2))]
            line, showing = _contact_line(language, rng, phone, handles[int(rng.integers(len(handles)))])
            shown.extend(showing)
        yield _ad(sentences, line), country
    for _ in range(other_texts):  # another lure, linked only by a contact
        contact = shown[int(rng.integers(len(shown)))]
        yield _ad(_fresh_text(pool, vocabulary, rng, 5, 9), _line_showing(language, rng, contact)), country


def planted_dump(
    size: int, campaign_share: float = 0.3, seed: int = 0, material: Material | None = None
) -> pd.DataFrame:
    """A dump of ``size`` ads: ``id``, ``text``, ``language``, ``country``, ``date`` and ``planted`` (campaign or None).

    About ``campaign_share`` of the ads belong to planted campaigns of 2 to 30 ads; rows are shuffled.
    """
    rng = np.random.default_rng(seed)
    material = material or load_material()
    languages = list(COUNTRIES)
    contacts = _Contacts(rng)
    texts: list[str] = []
    written_in: list[str] = []
    countries: list[str] = []
    planted: list[int | None] = []
    dates: list[np.datetime64] = []
    start = np.datetime64("2026-01-01")
    campaign = 0
    while len(texts) < size * campaign_share:
        members = min(2 + int(rng.geometric(0.25)) - 1, 30, size - len(texts))
        if members < 2:
            break
        language = languages[int(rng.integers(len(languages)))]
        first = start + np.timedelta64(int(rng.integers(300)), "D")
        for text, country in _campaign(language, members, material, contacts, rng):
            texts.append(text)
            written_in.append(language)
            countries.append(country)
            planted.append(campaign)
            dates.append(first + np.timedelta64(int(rng.integers(30)), "D"))
        campaign += 1
    while len(texts) < size:
        language = languages[int(rng.integers(len(languages)))]
        country = str(rng.choice(COUNTRIES[language]))
        sentences = _fresh_text(material.sentences[language], material.vocabulary[language], rng, 4, 9)
        line = None
        if rng.random() < 0.7:
            line, _ = _contact_line(language, rng, contacts.phone(country)[int(rng.integers(2))], contacts.handle())
        texts.append(_ad(sentences, line))
        written_in.append(language)
        countries.append(country)
        planted.append(None)
        dates.append(start + np.timedelta64(int(rng.integers(330)), "D"))
    order = rng.permutation(size)
    frame = pd.DataFrame(
        {
            "id": [f"ad-{i:07d}" for i in range(size)],
            "text": [texts[i] for i in order],
            "language": [written_in[i] for i in order],
            "country": [countries[i] for i in order],
            "date": pd.to_datetime([dates[i] for i in order]),
            "planted": pd.array([planted[i] for i in order], dtype="Int64"),
        }
    )
    return frame


def pairwise_scores(found: np.ndarray, planted: pd.Series) -> tuple[float, float]:
    """Pairwise precision and recall of found campaigns against planted ones.

    A pair of ads counts when both are in one campaign; ads in no campaign (-1 / None)
    pair with nobody. Precision: found pairs that were planted; recall: planted pairs found.
    """
    frame = pd.DataFrame({"found": found, "planted": planted.to_numpy(dtype="float64", na_value=np.nan)})

    def pairs(counts: pd.Series) -> float:
        return float((counts * (counts - 1) // 2).sum())

    found_pairs = pairs(frame.loc[frame["found"] >= 0, "found"].value_counts())
    planted_pairs = pairs(frame["planted"].dropna().value_counts())
    both = frame[(frame["found"] >= 0) & frame["planted"].notna()]
    true_pairs = pairs(both.groupby(["found", "planted"]).size())
    precision = true_pairs / found_pairs if found_pairs else 1.0
    recall = true_pairs / planted_pairs if planted_pairs else 1.0
    return precision, recall
