"""Trafficking indicators: how many of the ILO-aligned signs an ad shows ("5 of 12 warning signs").

One flag means little (nearly every "jobs abroad" ad offers paid travel); the count is
what an analyst ranks by. Which red flags are evidence of which indicator is data
(``data/indicators.yaml``), validated once on load; counting is a pure function of
the red-flag ids an ad fired.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adscreen.datafiles import read_yaml, validated
from adscreen.errors import RuleConfigError
from adscreen.paths import DATA_DIR
from adscreen.rules.redflags import FlagSet

INDICATORS_FILE = DATA_DIR / "indicators.yaml"


class Indicator(BaseModel):
    """One indicator and the red flags that show it."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Z][A-Z_]+$")
    ilo: str = Field(min_length=1)
    note: str = Field(min_length=1)
    red_flags: list[str] = Field(min_length=1)


class IndicatorFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicators: list[Indicator] = Field(min_length=1)

    @field_validator("indicators")
    @classmethod
    def _unique_ids(cls, indicators: list[Indicator]) -> list[Indicator]:
        ids = [indicator.id for indicator in indicators]
        repeated = sorted({identifier for identifier in ids if ids.count(identifier) > 1})
        if repeated:
            raise ValueError(f"indicator ids repeated: {repeated}")
        return indicators


@dataclass(frozen=True)
class IndicatorCount:
    """The indicators one ad shows: ``count`` of ``of``, by id in the file's order."""

    count: int
    of: int
    ids: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"count": self.count, "of": self.of, "ids": list(self.ids)}


@dataclass(frozen=True)
class Indicators:
    """The indicator list, loaded once; ``count`` maps an ad's red-flag ids to its indicators."""

    indicators: tuple[Indicator, ...]
    source: str

    def count(self, red_flag_ids: Iterable[str]) -> IndicatorCount:
        fired = set(red_flag_ids)
        shown = tuple(item.id for item in self.indicators if fired.intersection(item.red_flags))
        return IndicatorCount(len(shown), len(self.indicators), shown)

    def check_against(self, flags: FlagSet) -> None:
        """Every named flag exists, and the flags marked ``indicator: true`` are exactly the mapped ones."""
        known = set(flags.ids)
        mapped = {flag_id for item in self.indicators for flag_id in item.red_flags}
        unknown = sorted(mapped - known)
        if unknown:
            raise RuleConfigError(f"{self.source}: unknown red flags {unknown}")
        marked = {flag.id for flag in flags.flags if flag.spec.indicator}
        if marked != mapped:
            raise RuleConfigError(
                f"{self.source}: red flags marked `indicator: true` but not mapped {sorted(marked - mapped)}, "
                f"mapped but not marked {sorted(mapped - marked)}"
            )


def load_indicators(path: Path = INDICATORS_FILE) -> Indicators:
    spec = validated(path, IndicatorFile, read_yaml(path))
    return Indicators(tuple(spec.indicators), str(path))


@lru_cache(maxsize=1)
def default_indicators() -> Indicators:
    """The shipped indicator list, read on first use."""
    return load_indicators()
