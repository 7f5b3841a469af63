"""Where to get help: hotlines and advice from data files, chosen for the reader and the ad.

``data/hotlines.yaml`` holds every line of ``shared/domain/hotlines.md`` with its
verdict and source; only VERIFIED and VERIFIED-DATED lines are ever shown.
``data/destinations.yaml`` says how ads name countries, so that "work in Poland"
adds Poland's lines. ``data/guidance.yaml`` holds the advice for each risk band.
All are validated once, on load; choosing is a pure function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

from adscreen.datafiles import read_yaml, validated
from adscreen.errors import RuleConfigError
from adscreen.localized import UI_LANGUAGES, Translated
from adscreen.paths import DATA_DIR
from adscreen.rules.regex_union import FirstMatches
from adscreen.text import MappedText, fold_pattern, lower_pattern

Verdict = Literal["VERIFIED", "VERIFIED-DATED", "UNVERIFIED", "DERIVED", "DEAD"]
SHOWN_VERDICTS = frozenset({"VERIFIED", "VERIFIED-DATED"})
FILES = ("hotlines.yaml", "destinations.yaml", "guidance.yaml")


class Hotline(BaseModel):
    """One line as the domain file records it."""

    model_config = ConfigDict(extra="forbid")
    name: str
    operator: str | None = None
    kind: Literal["trafficking", "victims", "migration", "emergency", "police"]
    phone: str | None = None
    phone_international: str | None = None
    sms: str | None = None
    url: str | None = None
    hours: str | None = None
    languages: list[str] = Field(default_factory=list)
    verdict: Verdict
    source: str = Field(min_length=1)
    verified: str = Field(pattern=r"^\d{4}-\d{2}$")
    evidence_date: str | None = None
    note: Translated | None = None

    @property
    def shown(self) -> bool:
        return self.verdict in SHOWN_VERDICTS and bool(self.phone or self.sms or self.url)


class CountryLines(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Translated
    emergency: str = Field(min_length=1)
    lines: list[Hotline]


class HotlineBook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    compiled: str
    source_note: Translated
    countries: dict[str, CountryLines]
    fallback: CountryLines

    @field_validator("countries")
    @classmethod
    def _codes(cls, countries: dict[str, CountryLines]) -> dict[str, CountryLines]:
        bad = [code for code in countries if not re.fullmatch(r"[A-Z]{2}", code)]
        if bad:
            raise ValueError(f"country codes must be ISO alpha-2 upper case: {bad}")
        return countries


class Destination(BaseModel):
    """How ads name one country (and its big cities), per language, as regexes over folded text."""

    model_config = ConfigDict(extra="forbid")
    patterns: list[str] = Field(min_length=1)
    examples: list[str] = Field(min_length=1)


class Destinations(RootModel[dict[str, Destination]]):
    """destinations.yaml: country code -> how ads name it."""


class BandAdvice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: Translated
    steps: list[Translated] = Field(min_length=1)


class Advice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bands: dict[Literal["low", "medium", "high"], BandAdvice]
    destination_intro: Translated
    unknown_country: Translated


@dataclass(frozen=True)
class Guide:
    """Hotlines, destinations and advice, loaded once."""

    hotlines: HotlineBook
    destinations: dict[str, Destination]
    advice: Advice

    @cached_property
    def _destination_finder(self) -> FirstMatches:
        """Each country's patterns as one regex. Folded text is lower case, so lower-case
        patterns match it as ``re.IGNORECASE`` would, and the engine can skip a wrong first letter at once."""
        patterns = {
            code: [lower_pattern(fold_pattern(pattern)) for pattern in destination.patterns]
            for code, destination in self.destinations.items()
        }
        try:
            return FirstMatches.compile(patterns)
        except re.error as error:
            raise RuleConfigError(f"destinations.yaml: {error}") from None

    def destinations_in(self, folded: MappedText) -> list[str]:
        """Country codes the ad names as a place of work, in order of first mention."""
        starts = self._destination_finder.starts(folded.text)
        return sorted(starts, key=lambda code: (starts[code], code))

    def lines_for(self, country: str | None) -> tuple[str | None, CountryLines]:
        """The reader's country code (None when unknown) and its lines (the fallback when unknown)."""
        code = (country or "").strip().upper()
        if code in self.hotlines.countries:
            return code, self.hotlines.countries[code]
        return None, self.hotlines.fallback

    def guidance(
        self, band: Literal["low", "medium", "high"], country: str | None, destinations: list[str], language: str
    ) -> dict:
        """The ``guidance`` object of a result: message, steps and the lines to call."""
        language = language if language in UI_LANGUAGES else "en"
        code, home = self.lines_for(country)
        advice = self.advice.bands[band]
        message = advice.message.get(language)
        if code is None:
            message = f"{message} {self.advice.unknown_country.get(language)}"
        hotlines = [_shown(line, code, language) for line in home.lines if line.shown]
        abroad = [d for d in destinations if d != code and d in self.hotlines.countries]
        for destination in abroad:
            hotlines.extend(
                _shown(line, destination, language) for line in self.hotlines.countries[destination].lines if line.shown
            )
        return {
            "message": message,
            "steps": [step.get(language) for step in advice.steps],
            "country": code,
            "emergency": home.emergency,
            "destinations": abroad,
            "destination_note": self.advice.destination_intro.get(language) if abroad else None,
            "hotlines": hotlines,
            "source_note": self.hotlines.source_note.get(language),
        }


def _shown(line: Hotline, country: str | None, language: str) -> dict:
    """A line as the result contract shows it."""
    return {
        "country": country,
        "name": line.name,
        "kind": line.kind,
        "phone": line.phone,
        "phone_international": line.phone_international,
        "sms": line.sms,
        "url": line.url,
        "hours": line.hours,
        "languages": line.languages,
        "source": line.source,
        "verified": line.verified,
        "note": line.note.get(language) if line.note else None,
    }


def load_guide(data_dir: Path = DATA_DIR) -> Guide:
    hotlines_path, destinations_path, advice_path = (data_dir / name for name in FILES)
    hotlines = validated(hotlines_path, HotlineBook, read_yaml(hotlines_path))
    destinations = validated(destinations_path, Destinations, read_yaml(destinations_path)).root
    advice = validated(advice_path, Advice, read_yaml(advice_path))
    guide = Guide(hotlines, destinations, advice)
    guide._destination_finder  # noqa: B018 - compile now, so a bad pattern fails at load time
    return guide
