"""``adscreen score`` speaks one language per output (issue 17): the headings, the flags' titles and
reasons, the advice and the country names all in the language asked for, else the ad's, else the
locale's; and the risk is shown as the web shows it, never as 0 % or 100 %."""

from __future__ import annotations

import json
import re
from functools import cache

import pytest
from typer.testing import CliRunner

from adscreen.cli import app
from adscreen.cli.scoring import locale_language, output_language
from adscreen.localized import UI_LANGUAGES
from adscreen.rules.guidance import load_guide
from adscreen.rules.redflags import load_flags
from adscreen.ui import ui_strings

runner = CliRunner()
# Two short test ads written for these tests (no real ad text): one scores about 1.0, one about 0.0.
RU_LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"
PL_JOB = (
    "Magazynier/ka w Poznaniu, umowa o pracę na pełny etat. Praca w systemie dwuzmianowym, "
    "wynagrodzenie 5200 zł brutto, szkolenie BHP na miejscu. Firma Logistyka Warta Sp. z o.o., "
    "KRS 0000123456, ul. Składowa 12. CV prosimy wysyłać przez formularz na naszej stronie; "
    "odpowiadamy wybranym kandydatom."
)
EN_JOB = "Warehouse operative in Leeds, permanent contract, 38 hours a week, apply through our careers page."
DE_JOB = "Lagerarbeiter in Hamburg gesucht, unbefristeter Vertrag, Bewerbung über unsere Karriereseite."
# The fixed phrases a result always shows, at the start of a line: its band, headings and emergency line.
HEADINGS = ("band_high", "risk_label", "red_flags", "terms", "what_to_do", "help", "emergency")
NO_LOCALE = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


def _score(*arguments: str, env: dict | None = None) -> str:
    result = runner.invoke(app, ["score", *arguments], env={**NO_LOCALE, **(env or {})})
    assert result.exit_code == 0, result.output
    return result.output


@cache
def _risk(text: str) -> float:
    return json.loads(_score(text, "--json"))["risk"]


def _lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("language", UI_LANGUAGES)
def test_each_language_shows_its_own_headings_and_no_other(language: str) -> None:
    output = _score(RU_LURE, "--country", "BY", "--lang", language)
    strings = ui_strings()
    lines = _lines(output)
    for key in HEADINGS:
        assert strings[language][key] in output, (language, key)
    for other in UI_LANGUAGES:
        for key in HEADINGS:
            foreign = strings[other][key]
            if foreign != strings[language][key]:
                assert not any(line.startswith(foreign) for line in lines), (language, other, key)


@pytest.mark.parametrize("language", UI_LANGUAGES)
def test_flags_advice_and_countries_are_in_the_same_language(language: str) -> None:
    output = _score(RU_LURE, "--country", "BY", "--lang", language)
    nightlife = {flag.id: flag for flag in load_flags().flags}["NIGHTLIFE_ROLE"].spec
    guide = load_guide()
    assert nightlife.title.get(language) in output
    assert getattr(nightlife.why, language) in output  # the reason itself, not a fallback
    assert guide.advice.bands["high"].message.get(language) in output
    assert guide.hotlines.countries["BY"].name.get(language) in output
    for other in UI_LANGUAGES:
        if getattr(nightlife.why, other) != getattr(nightlife.why, language):
            assert getattr(nightlife.why, other) not in output, other


@pytest.mark.parametrize(
    ("text", "language"), [(RU_LURE, "ru"), (PL_JOB, "pl"), (EN_JOB, "en")], ids=["ru", "pl", "en"]
)
def test_by_default_the_output_follows_the_ad(text: str, language: str) -> None:
    output = _score(text, env={"LANG": "be_BY.UTF-8"})
    assert ui_strings()[language]["what_to_do"] in _lines(output)


def test_an_ad_in_another_language_follows_the_locale_then_english() -> None:
    ukrainian = _lines(_score(DE_JOB, env={"LANG": "uk_UA.UTF-8"}))
    assert ui_strings()["uk"]["what_to_do"] in ukrainian
    assert not any(line.endswith(": other") for line in ukrainian)  # the detector's code is not shown
    assert ui_strings()["en"]["what_to_do"] in _lines(_score(DE_JOB, env={"LANG": "de_DE.UTF-8"}))
    assert ui_strings()["en"]["what_to_do"] in _lines(_score(DE_JOB))


def test_the_locale_is_read_as_posix_orders_it() -> None:
    assert locale_language({"LANG": "pl_PL.UTF-8"}) == "pl"
    assert locale_language({"LC_ALL": "be_BY.UTF-8@latin", "LANG": "en_GB.UTF-8"}) == "be"
    assert locale_language({"LC_ALL": "", "LC_MESSAGES": "ru_RU", "LANG": "en_US"}) == "ru"
    assert locale_language({"LANG": "C.UTF-8"}) is None
    assert locale_language({}) is None
    assert output_language("UK", "ru", {}) == "uk"
    assert output_language(None, "other", {"LANG": "pl_PL.UTF-8"}) == "pl"


def test_an_unknown_language_is_one_line_and_exit_code_2() -> None:
    result = runner.invoke(app, ["score", RU_LURE, "--lang", "de"])
    assert result.exit_code == 2
    assert "unknown language 'de'" in result.output


def test_json_keeps_the_contracts_field_names_with_texts_in_the_language() -> None:
    parsed = json.loads(_score(RU_LURE, "--json", "--lang", "uk"))
    assert {"risk", "band", "label", "red_flags", "top_terms", "guidance", "language", "model"} <= set(parsed)
    nightlife = {flag.id: flag for flag in load_flags().flags}["NIGHTLIFE_ROLE"].spec
    assert nightlife.title.get("uk") in [flag["title"] for flag in parsed["red_flags"]]


@pytest.mark.parametrize("language", UI_LANGUAGES)
@pytest.mark.parametrize(("text", "extreme"), [(RU_LURE, 100), (PL_JOB, 0)], ids=["lure", "job"])
def test_never_100_or_0_percent(text: str, extreme: int, language: str) -> None:
    assert round(_risk(text) * 100) == extreme  # the ad really is at the edge, so the test means something
    output = _score(text, "--lang", language)
    assert not re.search(r"(?<![\d.,])(?:100|0)\s?%", output), output
    assert ui_strings()[language]["percent"].format(value=99 if extreme else 1) in output


def test_a_low_band_shows_the_signs_that_lower_the_risk_first() -> None:
    """As the web form does: in a low band those signs explain the answer."""
    strings = ui_strings()["pl"]
    lines = _lines(_score(PL_JOB, "--lang", "pl"))
    assert lines.index(strings["risk_lowering"]) < lines.index(strings["red_flags"])
