"""What the first screen of a result says, decided here so that templates only display it.

A person who pasted an ad on a phone should read the answer without scrolling: the band,
the risk as an honest number, the strongest signs, how many indicators, and a button that
calls help. These are display decisions about a result of the contract (``Scorer.score``);
nothing here scores, picks hotlines or reads files.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from adscreen.ui import is_very_high, shown_percent

# How many of the strongest signs the first screen names.
SIGNS_ON_FIRST_SCREEN = 2
# Lines that help with a job abroad come before police and emergency numbers on the call button.
HELP_KINDS = ("trafficking", "victims", "migration")
# One number a phone can dial: digits, spaces, dashes and brackets, with an optional leading "+".
_DIALABLE = re.compile(r"^\+?[\d\s\-()]+$")


@dataclass(frozen=True)
class CallButton:
    """One ``tel:`` button: which number, for which country, shown under which name."""

    href: str
    number: str
    name: str
    country: str | None
    country_name: str | None
    home: bool
    emergency: bool = False


@dataclass(frozen=True)
class Reason:
    """A few signs under one label: ``label`` is the key of its interface string."""

    label: str
    titles: tuple[str, ...]


@dataclass(frozen=True)
class FirstScreen:
    """Everything above the fold of a result."""

    band: str
    percent: int
    very_high: bool
    reasons: tuple[Reason, ...]
    indicators: Mapping[str, int]
    calls: tuple[CallButton, ...]


def first_number(phone: str | None) -> str | None:
    """The first dialable number of a phone field ("527; 0 800 505 501" -> "527"), else None ("800 SAVE")."""
    for part in (phone or "").split(";"):
        number = re.sub(r"\s*\(.*?\)\s*$", "", part.strip())  # "8 044 518-52-52 (A1)": the operator's name
        if number and _DIALABLE.match(number):
            return number
    return None


def tel_href(number: str) -> str:
    """A ``tel:`` URI: the number's digits, with its leading "+" when it has one."""
    return "tel:" + ("+" if number.startswith("+") else "") + re.sub(r"\D", "", number)


def phone_href(phone: str | None) -> str:
    """The ``tel:`` URI of a phone field's first dialable number, or "" when it has none."""
    number = first_number(phone)
    return tel_href(number) if number else ""


def _call(line: dict, home: bool, country_names: Mapping[str, str]) -> CallButton | None:
    """The line as a button, or None when it has no number to dial. From abroad, the international format."""
    number = first_number(line.get("phone_international")) if not home else None
    number = number or first_number(line.get("phone"))
    if number is None:
        return None
    country = line.get("country")
    return CallButton(tel_href(number), number, line["name"], country, country_names.get(country or ""), home)


def _first_help_line(lines: list[dict], home: bool, country_names: Mapping[str, str]) -> CallButton | None:
    """The first shown line that helps with a job abroad and can be dialled; else the first that can be."""
    ordered = [line for line in lines if line.get("kind") in HELP_KINDS] + [
        line for line in lines if line.get("kind") not in HELP_KINDS
    ]
    for line in ordered:
        button = _call(line, home, country_names)
        if button is not None:
            return button
    return None


def call_buttons(guidance: dict, country_names: Mapping[str, str]) -> tuple[CallButton, ...]:
    """One button for the reader's country (its emergency number when no line can be dialled) and
    one for each country the ad names as the place of work."""
    home_code = guidance.get("country")
    lines = guidance["hotlines"]
    home_lines = [line for line in lines if line.get("country") == home_code]
    home = _first_help_line(home_lines, True, country_names)
    if home is None:
        emergency = first_number(guidance["emergency"]) or guidance["emergency"]
        home = CallButton(
            tel_href(emergency), emergency, "", home_code, country_names.get(home_code or ""), True, emergency=True
        )
    buttons = [home]
    for destination in guidance.get("destinations", []):
        abroad = [line for line in lines if line.get("country") == destination]
        button = _first_help_line(abroad, False, country_names)
        if button is not None:
            buttons.append(button)
    return tuple(buttons)


def ad_language(code: str, languages: Collection[str]) -> str:
    """The ad's ``lang`` attribute: its language when we know it, else empty ("unknown" in HTML)."""
    return code if code in languages else ""


def reasons(result: dict) -> tuple[Reason, ...]:
    """Why, in a sentence or two: the strongest warning signs and the strongest signs that lower the risk.

    Both come strongest first (by severity, then by the model's weight). In a low band the signs that
    lower the risk explain the answer, so they come first.
    """
    warning = Reason("why", tuple(flag["title"] for flag in result["red_flags"][:SIGNS_ON_FIRST_SCREEN]))
    lowering = Reason(
        "risk_lowering", tuple(flag["title"] for flag in result.get("risk_lowering", [])[:SIGNS_ON_FIRST_SCREEN])
    )
    ordered = (lowering, warning) if result["band"] == "low" else (warning, lowering)
    return tuple(reason for reason in ordered if reason.titles)


def first_screen(result: dict, country_names: Mapping[str, str]) -> FirstScreen:
    """The answer a person sees first: band, honest percent, why, indicators, call buttons."""
    return FirstScreen(
        band=result["band"],
        percent=shown_percent(result["risk"]),
        very_high=is_very_high(result),
        reasons=reasons(result),
        indicators=result["indicators"],
        calls=call_buttons(result["guidance"], country_names),
    )
