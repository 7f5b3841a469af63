"""Every text a reader sees exists in all five interface languages (issue 17): flag titles and reasons,
advice, country names, notes on help lines. The loaders refuse a text with a language missing, and the
shipped data files are checked here as they are, not only through the loaders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from adscreen.errors import RuleConfigError
from adscreen.localized import UI_LANGUAGES, Localized, Translated
from adscreen.paths import DATA_DIR, REDFLAGS_DIR
from adscreen.rules.guidance import load_guide
from adscreen.rules.redflags import default_flag_texts, load_flags

RU_LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"
TEXT_FILES = sorted([*DATA_DIR.glob("*.yaml"), *REDFLAGS_DIR.glob("*.yaml")])


def _texts(node: object, where: str) -> list[tuple[str, dict]]:
    """Every mapping with an English and a Russian text: a text meant for people, wherever it sits."""
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("en"), str) and isinstance(node.get("ru"), str):
            return [(where, node)]
        for key, value in node.items():
            found += _texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _texts(value, f"{where}[{index}]")
    return found


@pytest.mark.parametrize("path", TEXT_FILES, ids=[path.name for path in TEXT_FILES])
def test_every_reader_facing_text_is_in_all_five_languages(path: Path) -> None:
    texts = _texts(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    missing = [(where, language) for where, text in texts for language in UI_LANGUAGES if not text.get(language)]
    assert not missing


def test_the_files_with_texts_are_among_those_checked() -> None:
    names = {path.name for path in TEXT_FILES}
    assert {"hotlines.yaml", "guidance.yaml", "UPFRONT_FEE.yaml"} <= names
    assert load_flags().flags and load_guide().advice  # the loaders accept the shipped files


def test_a_text_without_one_language_is_refused() -> None:
    with pytest.raises(ValidationError, match="pl"):
        Translated(en="a", ru="а", be="а", uk="а")
    with pytest.raises(ValidationError, match="be"):
        Translated(en="a", ru="а", be="", uk="а", pl="a")


def test_a_model_files_english_and_russian_texts_still_load() -> None:
    """Model files store flag specs in the older shape; they must keep loading, with the old fallbacks."""
    old = Localized(en="English", ru="Русский")
    assert (old.get("be"), old.get("uk"), old.get("pl")) == ("Русский", "Русский", "English")


def test_the_scorer_shows_the_data_files_reasons_over_the_model_files(scorer) -> None:
    """The shipped model was trained when reasons were in English and Russian only: a Belarusian reader
    still gets the Belarusian reason, from the data files."""
    texts = default_flag_texts()
    result = scorer.score(RU_LURE, country="BY", ui_language="be")
    assert result["red_flags"]
    for flag in result["red_flags"]:
        assert (flag["title"], flag["why"]) == (texts[flag["id"]].title.be, texts[flag["id"]].why.be)


def test_a_data_file_missing_a_translation_names_the_file(tmp_path: Path) -> None:
    for name in ("hotlines.yaml", "destinations.yaml", "guidance.yaml"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    advice = tmp_path / "guidance.yaml"
    lines = advice.read_text(encoding="utf-8").split("\n")
    first_polish = next(index for index, line in enumerate(lines) if line.strip().startswith("pl:"))
    advice.write_text("\n".join(lines[:first_polish] + lines[first_polish + 1 :]), encoding="utf-8")
    with pytest.raises(RuleConfigError, match=r"guidance\.yaml.*pl"):
        load_guide(tmp_path)


def test_a_language_we_do_not_speak_reads_english() -> None:
    text = Localized(en="English", ru="Русский", be="Беларуская", uk="Українська", pl="Polski")
    assert [text.get(language) for language in UI_LANGUAGES] == [
        "English",
        "Русский",
        "Беларуская",
        "Українська",
        "Polski",
    ]
    assert text.get("de") == "English"
