"""Language detection on short, typical ads: Belarusian, Ukrainian and Russian must not be confused."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from lingua import LanguageDetectorBuilder

from adscreen.language import OTHER, OTHERS, SUPPORTED, detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Требуются рабочие на стройку в Москве, жильё предоставляется", "ru"),
        ("Девушки до 25 лет, работа в клубе, пиши в личку", "ru"),
        ("Патрабуюцца рабочыя на будоўлю ў Польшчы, жыллё дае працадаўца", "be"),
        ("Шукаем няню ў сям'ю, заробак добры, пішыце", "be"),
        ("Потрібні робітники на будівництво в Польщі, житло надається", "uk"),
        ("Шукаємо доглядальницю для літньої пані в Італії, пишіть у Вайбер", "uk"),
        ("Praca w Niemczech na magazynie, zakwaterowanie zapewnione", "pl"),
        ("Szukamy opiekunki do starszej pani, wyjazd od zaraz", "pl"),
        ("Warehouse operatives needed, accommodation provided, start Monday", "en"),
        ("Earn $500 a day from home, no experience needed", "en"),
        ("Wir suchen Lagerhelfer in Hamburg, Unterkunft wird gestellt", "other"),
        ("12345 !!! ###", "other"),
    ],
)
def test_detects_the_language_of_typical_ads(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_the_sample_ads_are_detected_as_labelled() -> None:
    from adscreen.training.sample_ads import read_sample_rows

    rows = read_sample_rows()
    wrong = [row["id"] for row in rows if detect_language(row["text"]) != row["language"]]
    # transliterated and trasianka ads may go either way; the rest must not
    assert len(wrong) <= 0.02 * len(rows), wrong


def _single_detector() -> Callable[[str], str]:
    """The detector before the hybrid: one high-accuracy lingua detector over every language."""
    detector = LanguageDetectorBuilder.from_languages(*SUPPORTED, *OTHERS).with_minimum_relative_distance(0.0).build()

    def detect(text: str) -> str:
        if not any(char.isalpha() for char in text):
            return OTHER
        detected = detector.detect_language_of(text)
        return SUPPORTED.get(detected, OTHER) if detected is not None else OTHER

    return detect


# Real ads (by id) on which the hybrid answers differently from the single detector: old -> new.
# All are mixed-script texts labelled "ru" in the file; 12 move between "other" and en/pl, where
# low-accuracy mode weighs Latin-script fragments differently, and one (002546) from ru to other.
# None moves between ru, be and uk, which is what the second, high-accuracy detector is for.
# The single detector agreed with the file's labels on 3,146 real ads, the hybrid on 3,145.
CHANGED_REAL_ADS = {
    "real-000568": ("other", "en"),
    "real-001046": ("other", "en"),
    "real-001133": ("en", "other"),
    "real-001181": ("other", "en"),
    "real-001324": ("other", "en"),
    "real-002264": ("other", "pl"),
    "real-002546": ("ru", "other"),
    "real-002623": ("other", "en"),
    "real-002688": ("other", "en"),
    "real-002820": ("other", "en"),
    "real-002834": ("en", "other"),
    "real-003031": ("other", "en"),
    "real-003046": ("other", "en"),
}


def _changes(rows: list[dict]) -> dict[str, tuple[str, str]]:
    single = _single_detector()
    answers = ((row["id"], single(row["text"]), detect_language(row["text"])) for row in rows)
    return {row_id: (old, new) for row_id, old, new in answers if old != new}


def test_the_hybrid_answers_as_the_single_detector_on_every_sample_ad() -> None:
    from adscreen.training.sample_ads import read_sample_rows

    assert _changes(read_sample_rows()) == {}


def test_the_hybrid_changes_only_the_listed_real_ads(real_ads_path: Path) -> None:
    with real_ads_path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    assert _changes(rows) == CHANGED_REAL_ADS
