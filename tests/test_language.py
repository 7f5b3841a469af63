"""Language detection on short, typical ads: Belarusian, Ukrainian and Russian must not be confused."""

import pytest

from adscreen.language import detect_language


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
