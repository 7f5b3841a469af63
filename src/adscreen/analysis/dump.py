"""A dump of ads as an analyst gets it: a CSV, JSONL or Parquet file with a text column and maybe more.

``campaigns`` and ``report`` read dumps the same way: the ad text, and where the file
has them an id, the reader's country (for national phone numbers), the date posted,
the language and a risk already scored (the output of ``adscreen score-file``). What
a file lacks is computed only for the ads that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from adscreen.analysis.campaigns import Grouping, GroupingParams, campaign_table, fingerprints, group
from adscreen.errors import DataFormatError
from adscreen.language import detect_language
from adscreen.scoring import Scorer, text_problem
from adscreen.tables.stream import DEFAULT_LIMITS, ReaderLimits, TableLayout, missing, read_whole
from adscreen.text import undecodable


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
    # Per ad, why its row could not be read whole (the reader's problem), None for a whole row; the row
    # keeps its place, with its text as read, as ``score-file`` keeps it.
    problems: list[str | None]
    layout: TableLayout | None = None  # the file's, to write its rows back as read; None when not read from one

    def __len__(self) -> int:
        return len(self.texts)


def cells(frame: pd.DataFrame, column: str) -> list[str | None]:
    """A column as text, None where a cell is empty or blank (a JSONL list or object cell as its text)."""
    return [None if missing(value) or str(value).strip() == "" else str(value) for value in frame[column]]


def _ids(frame: pd.DataFrame, column: str | None, first: int) -> list[str]:
    """Each row's id: its id cell, else its row number in the whole file (1 = the first ad)."""
    numbers = [str(first + index + 1) for index in range(len(frame))]
    if column is None or column not in frame.columns:
        return numbers
    return [ad_id or number for ad_id, number in zip(cells(frame, column), numbers, strict=True)]


def _countries(frame: pd.DataFrame, column: str, default: str | None) -> list[str | None]:
    """Each row's country: its country cell, else ``default``."""
    if column not in frame.columns:
        return [default] * len(frame)
    return [value or default for value in cells(frame, column)]


def read_dump(
    path: Path,
    columns: DumpColumns = DumpColumns(),
    country: str | None = None,
    limits: ReaderLimits = DEFAULT_LIMITS,
) -> Dump:
    """A dump file, read as ``score-file`` reads it; ``country`` stands in for an empty or missing country column."""
    whole = read_whole(path, columns.text, limits)
    frame = whole.frame
    if columns.text not in frame.columns:
        found = ", ".join(map(str, frame.columns[:12]))
        raise DataFormatError(f"{path}: no column {columns.text!r} with the ad text (columns: {found})")
    if frame.empty:
        raise DataFormatError(f"{path}: no ads in the file")
    texts = [text or "" for text in cells(frame, columns.text)]
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
        ids=_ids(frame, columns.id, 0),
        countries=_countries(frame, columns.country, country),
        dates=dates,
        languages=cells(frame, columns.language) if columns.language in frame.columns else None,
        risks=risks,
        problems=whole.problems,
        layout=whole.layout,
    )


class DumpCollector:
    """A dump gathered chunk by chunk while a file is scored (``score-file --campaigns``): the texts as the
    model read them (EMSCAD fields joined), ids, countries and the risks just computed, without reading the
    written file again."""

    def __init__(self, id_column: str | None, country: str | None, country_column: str = "country") -> None:
        self.id_column, self.country, self.country_column = id_column, country, country_column
        self.texts: list[str] = []
        self.ids: list[str] = []
        self.countries: list[str | None] = []
        self.risks: list[float] = []

    def add(self, texts: Sequence[object], frame: pd.DataFrame, scores: pd.DataFrame) -> None:
        self.ids += _ids(frame, self.id_column, len(self.texts))
        self.texts += ["" if not isinstance(text, str) else text for text in texts]
        self.countries += _countries(frame, self.country_column, self.country)
        self.risks += pd.to_numeric(scores["risk"], errors="coerce").tolist()

    def dump(self) -> Dump:
        return Dump(
            frame=pd.DataFrame(index=range(len(self.texts))),
            texts=self.texts,
            ids=self.ids,
            countries=self.countries,
            dates=None,
            languages=None,
            risks=np.array(self.risks, dtype=float),
            problems=[None] * len(self.texts),
        )


def scorable_rows(dump: Dump, rows: Sequence[int], max_chars: int) -> list[int]:
    """The ``rows`` whose text can be scored: not empty, within the ad-length limit, valid UTF-8."""
    return [row for row in rows if text_problem(dump.texts[row], max_chars) is None]


def row_errors(dump: Dump, max_chars: int) -> list[str | None]:
    """Per ad, why it was not scored (the reader's problem first, then the text's), None when it was."""
    return [
        problem or (None if not text.strip() else text_problem(text, max_chars))
        for problem, text in zip(dump.problems, dump.texts, strict=True)
    ]


def risks_of(dump: Dump, rows: Iterable[int], scorer: Callable[[], Scorer]) -> np.ndarray:
    """Per ad, the file's risk where it has one, else the model's for ``rows``; NaN elsewhere.

    ``scorer`` is called only when some ad needs scoring, so a scored file needs no model.
    """
    risks = dump.risks.copy() if dump.risks is not None else np.full(len(dump), np.nan)
    missing = [row for row in rows if np.isnan(risks[row]) and dump.texts[row].strip()]
    if missing:
        loaded = scorer()
        missing = scorable_rows(dump, missing, loaded.max_chars)
        if missing:
            risks[missing] = loaded.score_many([dump.texts[row] for row in missing]).risks
    return risks


def languages_of(dump: Dump, rows: Iterable[int]) -> list[str | None]:
    """Per ad, the file's language where it has one, else the detected one for ``rows``; None elsewhere."""
    languages: list[str | None] = list(dump.languages) if dump.languages is not None else [None] * len(dump)
    for row in rows:
        if languages[row] is None and dump.texts[row].strip() and not undecodable(dump.texts[row]):
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
