"""What a person reads around a result, shared by the web form and the terminal: the interface
strings of ``data/ui/*.yaml`` and how a risk is shown as a number.

Both edges show the same words and the same honest percent, so they are decided once, here,
below both. One file per interface language (en, ru, be, uk, pl), each with exactly the keys
of ``en.yaml`` and the same ``{placeholders}`` in each text; a broken file is a RuleConfigError
naming it and the problem.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from pydantic import RootModel

from adscreen.datafiles import read_yaml, validated
from adscreen.errors import RuleConfigError
from adscreen.paths import DATA_DIR

UI_DIR = DATA_DIR / "ui"
DEFAULT_UI_LANGUAGE = "en"
# The percent shown is never 0 or 100: a model's estimate is never certain either way.
LOWEST_PERCENT, HIGHEST_PERCENT = 1, 99
# A calibrated risk at or above this is "very high" in words as well as in its band.
VERY_HIGH_RISK = 0.9

UiStrings = RootModel[dict[str, str]]


def load_ui_strings(directory: Path) -> dict[str, dict[str, str]]:
    """Every UI language file, validated: a mapping of keys to texts, with exactly the keys of the
    English one, the same ``{placeholders}`` in each text and ``html_lang`` equal to the file's name."""
    strings = {path.stem: validated(path, UiStrings, read_yaml(path)).root for path in sorted(directory.glob("*.yaml"))}
    if DEFAULT_UI_LANGUAGE not in strings:
        raise RuleConfigError(f"{directory}: no {DEFAULT_UI_LANGUAGE}.yaml, the reference interface language")
    reference = strings[DEFAULT_UI_LANGUAGE]
    for language, table in strings.items():
        where = directory / (language + ".yaml")
        missing, extra = sorted(set(reference) - set(table)), sorted(set(table) - set(reference))
        if missing or extra:
            raise RuleConfigError(f"{where}: missing keys {missing}, keys not in {DEFAULT_UI_LANGUAGE}.yaml {extra}")
        if table["html_lang"] != language:
            raise RuleConfigError(f"{where}: html_lang is {table['html_lang']!r}, not {language!r}")
        for key, text in table.items():
            if placeholders(text) != placeholders(reference[key]):
                raise RuleConfigError(
                    f"{where}: {key} has placeholders {sorted(placeholders(text))}, "
                    f"{DEFAULT_UI_LANGUAGE}.yaml has {sorted(placeholders(reference[key]))}"
                )
    return strings


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a text is formatted with."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@lru_cache(maxsize=1)
def ui_strings() -> dict[str, dict[str, str]]:
    """The shipped interface strings, loaded once (by ``create_app``, or by the first command that shows a result)."""
    return load_ui_strings(UI_DIR)


def shown_percent(risk: float) -> int:
    """The calibrated risk as a whole percent, kept between 1 and 99."""
    return min(HIGHEST_PERCENT, max(LOWEST_PERCENT, round(risk * 100)))


def is_very_high(result: dict) -> bool:
    """A high band with a risk of ``VERY_HIGH_RISK`` or more: said in words, not only by the band."""
    return result["band"] == "high" and result["risk"] >= VERY_HIGH_RISK
