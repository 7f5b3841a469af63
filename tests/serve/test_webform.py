"""The web form without a browser: interface strings in five languages, the language choice, honest
numbers and the first screen's call buttons (serve/result_view.py; adscreen/ui.py for the strings and the percent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adscreen import Scorer
from adscreen.config import Settings
from adscreen.errors import RuleConfigError
from adscreen.localized import UI_LANGUAGES
from adscreen.serve.app import create_app
from adscreen.serve.result_view import call_buttons, first_number, phone_href
from adscreen.ui import UI_DIR, load_ui_strings, placeholders, shown_percent

BROKEN = Path(__file__).resolve().parents[1] / "data" / "ui_broken"
RU_LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"
PL_VACANCY = (
    "Magazynier/ka w Poznaniu, umowa o pracę na pełny etat, wynagrodzenie 5200 zł brutto. "
    "Firma Logistyka Warta Sp. z o.o., KRS 0000123456, ul. Składowa 12. CV przez formularz na naszej stronie."
)


@pytest.fixture(scope="module")
def client(scorer: Scorer) -> TestClient:
    return TestClient(create_app(Settings(), scorer=scorer))


# --- interface strings ----------------------------------------------------------------------------------------------


def test_every_interface_string_is_in_all_five_languages() -> None:
    strings = load_ui_strings(UI_DIR)
    assert set(strings) == set(UI_LANGUAGES)
    english = strings["en"]
    for language, table in strings.items():
        assert set(table) == set(english), language
        assert table["html_lang"] == language
        for key, text in table.items():
            assert text.strip(), (language, key)
            assert placeholders(text) == placeholders(english[key]), (language, key)


def test_a_language_file_without_a_key_is_refused() -> None:
    with pytest.raises(RuleConfigError, match=r"pl\.yaml: missing keys \['title'\]"):
        load_ui_strings(BROKEN)


def test_a_language_file_with_another_placeholder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text((BROKEN / "en.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    polish = (BROKEN / "pl.yaml").read_text(encoding="utf-8") + "title: Czy to ogłoszenie jest bezpieczne?\n"
    (tmp_path / "pl.yaml").write_text(polish, encoding="utf-8")
    with pytest.raises(RuleConfigError, match=r"pl\.yaml: indicators has placeholders \['n', 'of'\]"):
        load_ui_strings(tmp_path)


def test_no_interface_text_claims_certainty() -> None:
    for language, table in load_ui_strings(UI_DIR).items():
        for key, text in table.items():
            assert not re.search(r"\b(?:100|0)\s?%", text), (language, key)


# --- which language ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", UI_LANGUAGES)
def test_the_form_speaks_each_language_asked_for_in_the_address(client: TestClient, language: str) -> None:
    page = client.get(f"/?lang={language}").text
    assert f'<html lang="{language}">' in page
    assert load_ui_strings(UI_DIR)[language]["submit"] in page


def test_the_language_comes_from_the_address_then_the_browser_then_the_ad(client: TestClient) -> None:
    form = {"text": PL_VACANCY, "country": "PL"}
    by_address = client.post("/?lang=uk", data=form, headers={"accept-language": "ru"}).text
    assert '<html lang="uk">' in by_address
    by_browser = client.post("/", data=form | {"lang": ""}, headers={"accept-language": "de-DE,be;q=0.8"}).text
    assert '<html lang="be">' in by_browser
    by_ad = client.post("/", data=form | {"lang": ""}, headers={"accept-language": "de-DE,de;q=0.9"}).text
    assert '<html lang="pl">' in by_ad and "Niskie ryzyko" in by_ad
    assert 'name="lang" value=""' in by_ad  # nothing was chosen, so the next ad picks its own language again


# --- honest numbers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("risk", "percent"), [(0.0, 1), (0.004, 1), (0.5, 50), (0.994, 99), (0.9999, 99), (1.0, 99)])
def test_the_percent_shown_is_never_0_or_100(risk: float, percent: int) -> None:
    assert shown_percent(risk) == percent


@pytest.mark.parametrize(
    ("text", "band", "words"), [(RU_LURE, "High risk", "very high · 99%"), (PL_VACANCY, "Low risk", "1%")]
)
def test_the_result_says_the_band_an_honest_percent_and_what_it_means(
    client: TestClient, scorer: Scorer, text: str, band: str, words: str
) -> None:
    risk = scorer.score(text, country="PL")["risk"]
    assert round(risk * 100) in (0, 100)  # the extremes: rounded, these would have been "0%" and "100%"
    page = client.post("/", data={"text": text, "country": "PL", "lang": "en"}).text
    assert f'id="band" data-band="{band.split()[0].lower()}">{band}</h1>' in page
    assert f'<strong class="percent">{words}</strong>' in page
    assert "What this number means" in page
    assert not re.search(r"\b(?:100|0)\s?%", page)


def test_the_result_of_a_few_words_says_it_is_too_short_to_judge(client: TestClient) -> None:
    page = client.post("/", data={"text": "Praca w Holandii", "country": "PL", "lang": "pl"}).text
    assert '<p class="caveat" role="note">Za krótkie, by ocenić (słów w tekście: 3;' in page
    whole = client.post("/", data={"text": PL_VACANCY, "country": "PL", "lang": "pl"}).text
    assert 'class="caveat"' not in whole


# --- call buttons -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "number", "href"),
    [
        ("8 801 201 5555", "8 801 201 5555", "tel:88012015555"),
        ("527; 0 800 505 501", "527", "tel:527"),
        ("(22) 628 01 20", "(22) 628 01 20", "tel:226280120"),
        ("+48 22 628 01 20", "+48 22 628 01 20", "tel:+48226280120"),
        ("8 044 518-52-52 (A1); 8 025 518-52-52 (life:))", "8 044 518-52-52", "tel:80445185252"),
        ("800 SAVE", None, ""),
    ],
)
def test_a_phone_field_gives_its_first_dialable_number(phone: str, number: str | None, href: str) -> None:
    assert first_number(phone) == number
    assert phone_href(phone) == href


def test_the_call_buttons_are_the_first_help_line_at_home_and_in_each_destination(scorer: Scorer) -> None:
    names = {"BY": "Belarus", "PL": "Poland", "AE": "United Arab Emirates"}
    ad = "Работа в Польше и в Дубае, пиши в Telegram"
    guidance = scorer.score(ad, country="BY", ui_language="en")["guidance"]
    assert guidance["destinations"] == ["PL", "AE"]
    home, poland, emirates = call_buttons(guidance, names)
    assert (home.href, home.home) == ("tel:88012015555", True)
    assert (poland.href, poland.country_name) == ("tel:+48226280120", "Poland")  # from abroad: the international format
    assert emirates.href == "tel:8005005"  # 800SAVE has no number to dial; the next shown line


def test_without_a_known_country_the_call_button_is_the_emergency_number(scorer: Scorer) -> None:
    guidance = scorer.score("Работа, пиши в Telegram", country=None, ui_language="en")["guidance"]
    (button,) = call_buttons(guidance, {})
    assert button.href == "tel:112"
