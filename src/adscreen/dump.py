"""A dump of ads as an analyst gets it: a CSV, JSONL or Parquet file with a text column and maybe more.

``campaigns`` and ``report`` read dumps the same way: the ad text, and where the file
has them an id, the reader's country (for national phone numbers), the date posted,
the language and a risk already scored (the output of ``adscreen score-file``). What
a file lacks is computed only for the ads that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from adscreen.campaigns import Grouping, GroupingParams, campaign_table, fingerprints, group
from adscreen.errors import DataFormatError
from adscreen.language import detect_language
from adscreen.scoring import Scorer
from adscreen.tables import read_table


@dataclass(frozen=True)
class DumpColumns:
    """The column names a dump may use; only ``text`` must exist."""

    text: str = "text"
    id: str = "id"
    country: str = "country"
    date: str = "date"
    language: str = "language"
    risk: str = "risk"


@dataclass
class Dump:
    """The ads of one file, and what the file already says about each."""

    frame: pd.DataFrame
    texts: list[str]  # an empty cell is ""
    ids: list[str]  # the id column, else the row number (1 = the first ad)
    countries: list[str | None]
    dates: pd.Series | None  # datetimes, NaT where a cell is empty or not a date
    languages: list[str | None] | None
    risks: np.ndarray | None

    def __len__(self) -> int:
        return len(self.texts)


def _cells(frame: pd.DataFrame, column: str) -> list[str | None]:
    return [None if pd.isna(value) or str(value).strip() == "" else str(value) for value in frame[column]]


def read_dump(path: Path, columns: DumpColumns = DumpColumns(), country: str | None = None) -> Dump:
    """A dump file; ``country`` stands in for an empty or missing country column."""
    frame = read_table(path)
    if columns.text not in frame.columns:
        found = ", ".join(map(str, frame.columns[:12]))
        raise DataFormatError(f"{path}: no column {columns.text!r} with the ad text (columns: {found})")
    if frame.empty:
        raise DataFormatError(f"{path}: no ads in the file")
    texts = [text or "" for text in _cells(frame, columns.text)]
    ids = _cells(frame, columns.id) if columns.id in frame.columns else None
    row_numbers = [str(number) for number in range(1, len(frame) + 1)]
    countries = _cells(frame, columns.country) if columns.country in frame.columns else [None] * len(frame)
    dates = None
    if columns.date in frame.columns:
        dates = pd.to_datetime(frame[columns.date], errors="coerce", utc=True, format="mixed").dt.tz_localize(None)
    risks = None
    if columns.risk in frame.columns:
        risks = pd.to_numeric(frame[columns.risk], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~((risks >= 0) & (risks <= 1)) & ~np.isnan(risks))
        if len(bad):
            raise DataFormatError(f"{path}: row {bad[0] + 1}: column {columns.risk!r} must be a risk between 0 and 1")
    return Dump(
        frame=frame,
        texts=texts,
        ids=[ad_id or number for ad_id, number in zip(ids, row_numbers, strict=True)] if ids else row_numbers,
        countries=[value or country for value in countries],
        dates=dates,
        languages=_cells(frame, columns.language) if columns.language in frame.columns else None,
        risks=risks,
    )


def risks_of(dump: Dump, rows: Sequence[int], scorer: Callable[[], Scorer]) -> np.ndarray:
    """Per ad, the file's risk where it has one, else the model's for ``rows``; NaN elsewhere.

    ``scorer`` is called only when some ad needs scoring, so a scored file needs no model.
    """
    risks = dump.risks.copy() if dump.risks is not None else np.full(len(dump), np.nan)
    missing = [row for row in rows if np.isnan(risks[row]) and dump.texts[row].strip()]
    if missing:
        risks[missing] = scorer().score_many([dump.texts[row] for row in missing]).risks
    return risks


def languages_of(dump: Dump, rows: Sequence[int]) -> list[str | None]:
    """Per ad, the file's language where it has one, else the detected one for ``rows``; None elsewhere."""
    languages = list(dump.languages) if dump.languages is not None else [None] * len(dump)
    for row in rows:
        if languages[row] is None and dump.texts[row].strip():
            languages[row] = detect_language(dump.texts[row])
    return languages


@dataclass
class DumpCampaigns:
    """A dump's campaigns: the grouping, the analyst's table, and each ad's identifying contacts."""

    grouping: Grouping
    table: pd.DataFrame
    contact_keys: list[list[str]]


def dump_campaigns(
    dump: Dump,
    scorer: Callable[[], Scorer],
    params: GroupingParams | None = None,
    jobs: int = 1,
    risks: np.ndarray | None = None,
    languages: list[str | None] | None = None,
) -> DumpCampaigns:
    """The dump's campaigns, with languages, dates and risks in their table (see ``campaigns.campaign_table``).

    ``risks`` and ``languages`` of every ad, when the caller has them, save scoring and detecting again.
    """
    params = params or GroupingParams()
    prints = fingerprints(dump.texts, dump.countries, params, jobs)
    grouping = group(prints, params)
    members = np.flatnonzero(grouping.labels >= 0)
    table = campaign_table(
        grouping,
        dump.ids,
        risks=risks if risks is not None else risks_of(dump, members, scorer),
        languages=languages if languages is not None else languages_of(dump, members),
        dates=dump.dates,
    )
    return DumpCampaigns(grouping, table, prints.contact_keys)
