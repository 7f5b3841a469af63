"""Normalisation must defeat filter-dodging tricks and keep every character traceable to the input."""

import pytest

from adscreen.text import fold, fold_pattern, normalise


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Пишите в Т Е Л Е Г Р А М", "пишите в телеграм"),
        ("w.h.a.t.s.a.p.p me", "whatsapp me"),
        ("telegrаm", "telegram"),  # Cyrillic а inside a Latin word
        ("рабoта", "работа"),  # Latin o inside a Cyrillic word
        ("ŁÓDŹ, Kraków", "lodz, krakow"),
        ("Ёлка", "елка"),
        ("ўзрост, її", "ўзрост, її"),  # Belarusian ў and Ukrainian ї keep their marks
        ("па\u00adспорт", "паспорт"),  # soft hyphen dropped
        ("ﬁnance", "finance"),
        # Greek, Armenian, Coptic, Cherokee and phonetic letters written for Cyrillic ones, as real job spam does
        ("Ρеальный заработоκ! Εжедневные выплаты", "реальный заработок! ежедневные выплаты"),
        ("ηужны сотργдники, πишите, граփиκ", "нужны сотрудники, пишите, график"),
        ("ƃесплатное оƃучение, ⲃысоⲕий доход ɜа командꭹ", "бесплатное обучение, высокий доход за команду"),
        ("Ρaypal", "paypal"),  # a Greek letter in a Latin word
        ("Καλημέρα, Αθήνα", "καλημέρα, αθήνα"),  # Greek words stay Greek
        ("Բարեւ, փող", "բարեւ, փող"),  # and Armenian ones Armenian
    ],
)
def test_fold_defeats_tricks(raw: str, folded: str) -> None:
    assert fold(raw).text == folded


@pytest.mark.parametrize(
    ("raw", "token", "original"),
    [
        ("звоните +375 29 123-45-67 сейчас", "_phone_", "+375 29 123-45-67"),
        ("звоните 8 (029) 555-12-34", "_phone_", "8 (029) 555-12-34"),
        ("пиши @rabota_dubai", "_handle_", "@rabota_dubai"),
        ("канал t.me/jobs_eu", "_telegram_", "t.me/jobs_eu"),
        ("mail hr@firma.by today", "_email_", "hr@firma.by"),
        ("see www.praca.pl/oferty", "_url_", "www.praca.pl/oferty"),
        ("masked #EMAIL_0b1c2d# here", "_email_", "#EMAIL_0b1c2d#"),
        ("зарплата 3 000 EUR", "_num4_", "3 000"),
        ("earn $5,000 weekly", "_num4_", "5,000"),
        ("up to 120000 rub", "_num5_", "120000"),
    ],
)
def test_normalise_turns_contacts_and_numbers_into_tokens(raw: str, token: str, original: str) -> None:
    mapped = normalise(raw)
    start = mapped.text.index(token)
    begin, end = mapped.original_span(start, start + len(token))
    assert raw[begin:end] == original


def test_every_character_maps_back_into_the_input() -> None:
    raw = "Р А Б О Т А в Польше!!! 2 500 zł, пиши @job_pl или +48 600 100 200 ﬁ"
    mapped = normalise(raw)
    assert len(mapped.starts) == len(mapped.ends) == len(mapped.text)
    assert all(0 <= start <= end <= len(raw) for start, end in zip(mapped.starts, mapped.ends, strict=True))
    # words that were not replaced map to the same words
    start = mapped.text.index("польше")
    begin, end = mapped.original_span(start, start + len("польше"))
    assert raw[begin:end] == "Польше"


def test_fold_pattern_folds_only_letters_outside_regex_syntax() -> None:
    assert fold_pattern(r"\bopłat\w*|жильё\s+\S") == r"\boplat\w*|жилье\s+\S"
