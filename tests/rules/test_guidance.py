"""Hotlines and advice: only verified lines, the reader's country, the ad's destination, band-specific advice."""

import shutil
from pathlib import Path

import pytest

from adscreen.errors import RuleConfigError
from adscreen.paths import DATA_DIR
from adscreen.rules.guidance import SHOWN_VERDICTS, load_guide
from adscreen.text import fold

GUIDE = load_guide()


def all_shown_numbers(guidance: dict) -> set[str]:
    return {line["phone"] for line in guidance["hotlines"] if line["phone"]}


def test_every_line_carries_its_source_and_verification_month() -> None:
    for code, country in [*GUIDE.hotlines.countries.items(), ("fallback", GUIDE.hotlines.fallback)]:
        for line in country.lines:
            assert line.source and line.verified, (code, line.name)


@pytest.mark.parametrize("country", [*GUIDE.hotlines.countries, None, "ZZ"])
def test_unverified_and_dead_lines_are_never_shown(country: str | None) -> None:
    guidance = GUIDE.guidance("high", country, [], "en")
    shown = {(line["name"], line["phone"]) for line in guidance["hotlines"]}
    hidden = {
        (line.name, line.phone)
        for entry in GUIDE.hotlines.countries.values()
        for line in entry.lines
        if line.verdict not in SHOWN_VERDICTS
    }
    assert shown.isdisjoint(hidden)
    assert "8 801 100 8 801" not in all_shown_numbers(guidance)  # the dead Belarusian line
    assert "113" not in all_shown_numbers(guidance)


def test_belarus_gets_its_line_and_police() -> None:
    guidance = GUIDE.guidance("high", "BY", [], "ru")
    assert "8 801 201 5555" in all_shown_numbers(guidance)
    assert guidance["emergency"] == "102"
    assert guidance["country"] == "BY"


def test_us_line_is_call_and_text() -> None:
    lines = GUIDE.guidance("high", "US", [], "en")["hotlines"]
    national = next(line for line in lines if "1-888-373-7888" in (line["phone"] or ""))
    assert national["sms"] == "233733"


def test_destination_named_in_the_ad_adds_its_lines() -> None:
    destinations = GUIDE.destinations_in(fold("Работа в Польше на складе, жильё бесплатно"))
    assert destinations == ["PL"]
    guidance = GUIDE.guidance("high", "BY", destinations, "ru")
    assert {line["country"] for line in guidance["hotlines"]} == {"BY", "PL"}
    assert guidance["destination_note"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Праца ў Польшчы, жыллё дае працадаўца", "PL"),
        ("Робота в Німеччині на м'ясокомбінаті", "DE"),
        ("hostess job in Dubai, flights paid", "AE"),
        ("praca w Holandii przy kwiatach", "NL"),
        ("стройка в Москве, проживание", "RU"),
        ("няня в семью в Стамбуле", "TR"),
    ],
)
def test_destinations_are_found_in_each_language(text: str, code: str) -> None:
    assert code in GUIDE.destinations_in(fold(text))


@pytest.mark.parametrize(
    "text",
    [
        "Zakład mięsny Berlinki zatrudni operatora, Animex.",
        "Przycinanie cyprysów i żywopłotów w ogrodach.",
        "Mile widziana japonistyka, praca w biurze.",
        "Biuro w Warszawie, Aleje Jerozolimskie 100.",
        "Sklep w Lwówku Śląskim, ul. Lwowska 5.",
        "Kucharz do baru z hamburgerami.",
    ],
)
def test_place_name_look_alikes_name_no_destination(text: str) -> None:
    assert set(GUIDE.destinations_in(fold(text))) <= {"PL"}


def test_every_destination_example_matches_its_country() -> None:
    for code, destination in GUIDE.destinations.items():
        for example in destination.examples:
            assert code in GUIDE.destinations_in(fold(example)), (code, example)


def test_unknown_country_falls_back_and_says_so() -> None:
    guidance = GUIDE.guidance("medium", "ZZ", [], "en")
    assert guidance["country"] is None
    assert guidance["emergency"] == "112"
    assert guidance["hotlines"]
    assert GUIDE.advice.unknown_country.get("en") in guidance["message"]


def test_advice_depends_on_the_band_and_language() -> None:
    high = GUIDE.guidance("high", "BY", [], "en")
    low = GUIDE.guidance("low", "BY", [], "en")
    assert high["message"] != low["message"]
    assert any("passport" in step.lower() for step in high["steps"])
    assert any("fee" in step.lower() for step in high["steps"])
    assert low["steps"]
    russian = GUIDE.guidance("high", "BY", [], "ru")
    assert russian["message"] != high["message"]
    assert any("паспорт" in step.lower() for step in russian["steps"])


def test_guidance_says_where_numbers_come_from() -> None:
    assert "2026" in GUIDE.guidance("low", "PL", [], "en")["source_note"]


def test_a_bad_destination_pattern_names_its_file_and_country(tmp_path: Path) -> None:
    for name in ("hotlines.yaml", "destinations.yaml", "guidance.yaml"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    destinations = tmp_path / "destinations.yaml"
    destinations.write_text(
        destinations.read_text() + "\nXX:\n  patterns:\n    - '\\bwork(in'\n  examples: ['work in']\n"
    )
    with pytest.raises(RuleConfigError, match=r"destinations.yaml: XX: missing \)"):
        load_guide(tmp_path)
