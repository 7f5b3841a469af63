"""Reading and validating labelled ads for training and evaluation.

Two schemas are accepted: ``text`` + ``label`` (the project's sample ads, analysts'
own files), or EMSCAD's (``title, company_profile, description, ... , fraudulent``),
whose fields are joined into one text. Every problem names the file, the row
(1-based, as a spreadsheet shows it) and the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from adscreen.config import MAX_AD_CHARS
from adscreen.datafiles import file_sha256
from adscreen.errors import DataFormatError
from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.scoring import text_problem
from adscreen.tables.ad_text import cell_text, emscad_text
from adscreen.tables.stream import read_whole
from adscreen.training.labels import parse_label

EMSCAD_SOURCE = "emscad"
# EMSCAD's full corpus: 866 frauds in 17,880 ads. Its parts over-sample fraud.
EMSCAD_REAL_FRAUD_RATE = 866 / 17_880
COLUMNS = ["text", "label", "language", "kind", "source", "family", "file", "row", "id"]
# Families of labelled ads, weighed and reported apart (see model.py): the project's written sample ads,
# EMSCAD, real ads whose rows name their own source (``source`` column), and any other labelled file.
WRITTEN, EMSCAD, REAL, OTHER = "written", EMSCAD_SOURCE, "real", "other"


@dataclass(frozen=True)
class FileSummary:
    """What a model was trained on: each file with its hash and size."""

    path: str
    sha256: str
    rows: int
    schema: str


@dataclass
class LabelledAds:
    """Labelled ads from one or more files, plus what was noticed while reading."""

    frame: pd.DataFrame
    files: list[FileSummary]
    duplicate_texts: int = 0
    warnings: list[str] = field(default_factory=list)


def _column_text(table: pd.DataFrame, column: str, default: str) -> list[str] | str:
    """A text column's cells (an empty cell is "", not "nan"), or the default for every row."""
    return [cell_text(value) for value in table[column]] if column in table else default


def _row_sources(table: pd.DataFrame, path: Path, schema: str) -> tuple[list[str] | str, str]:
    """Each row's source and the file's family: a ``source`` column names real ads' origins
    (``github:owner/repo:path@commit`` is kept without the commit, so one dataset is one source)."""
    if schema == "emscad":
        return EMSCAD_SOURCE, EMSCAD
    if "source" in table.columns:
        sources = [cell_text(value).split("@", 1)[0].removeprefix("github:") or path.stem for value in table["source"]]
        return sources, REAL
    return path.stem, WRITTEN if path.resolve().parent == SAMPLE_ADS_DIR.resolve() else OTHER


def _first_row(path: Path) -> int:
    """Spreadsheet row number of the first data row: CSV has a header line."""
    return 2 if path.name.lower().endswith((".csv", ".csv.gz")) else 1


@dataclass
class UncheckedFile:
    """One labelled file in the common columns before its labels and texts are checked.

    ``label`` is 0, 1 or None (not a label) and ``raw_label`` what the file said, so
    that ``adscreen validate`` can list every bad row where training stops at the first.
    """

    frame: pd.DataFrame
    summary: FileSummary
    label_column: str


def _text_problem(text: str, max_chars: int) -> str | None:
    """Why a present text cannot be learnt from or scored (an empty one is its own finding), else None."""
    return None if not text else text_problem(text, max_chars)


def read_unchecked_file(path: Path, max_chars: int = MAX_AD_CHARS) -> UncheckedFile:
    """A labelled file's rows in the common columns (plus ``id`` and ``raw_label``), or a DataFormatError."""
    whole = read_whole(path)
    table = whole.frame
    if "text" in table.columns and "label" in table.columns:
        schema, label_column = "text+label", "label"
        texts = [cell_text(value) for value in table["text"]]
    elif "fraudulent" in table.columns and "description" in table.columns:
        schema, label_column = "emscad", "fraudulent"
        texts = [emscad_text(record) for record in table.to_dict("records")]
    else:
        raise DataFormatError(
            f"{path}: missing column: need 'text' and 'label', or the EMSCAD columns with 'fraudulent';"
            f" found {', '.join(map(str, table.columns)) or 'none'}"
        )
    offset = _first_row(path)
    sources, family = _row_sources(table, path, schema)
    id_column = "id" if "id" in table else ("job_id" if "job_id" in table else None)
    frame = pd.DataFrame(
        {
            "text": texts,
            "label": pd.array([parse_label(value) for value in table[label_column]], dtype="Int64"),
            "language": _column_text(table, "language", "en" if schema == "emscad" else ""),
            "kind": _column_text(table, "kind", EMSCAD_SOURCE if schema == "emscad" else ""),
            "source": sources,
            "family": family,
            "file": str(path),
            "row": [index + offset for index in range(len(texts))],
            "id": _column_text(table, id_column, "") if id_column else "",
            "raw_label": list(table[label_column]),
            "problem": [
                problem or _text_problem(text, max_chars) for problem, text in zip(whole.problems, texts, strict=True)
            ],
        }
    )
    return UncheckedFile(frame, FileSummary(str(path), file_sha256(path), len(frame), schema), label_column)


def read_labelled_file(path: Path, max_chars: int = MAX_AD_CHARS) -> tuple[pd.DataFrame, FileSummary]:
    """One labelled file in the common columns, or a DataFormatError naming file, row and column."""
    unchecked = read_unchecked_file(path, max_chars)
    frame = unchecked.frame
    for record in frame[frame["problem"].notna()].head(1).itertuples():
        raise DataFormatError(f"{path}: row {record.row}: {record.problem}")
    for record in frame[frame["label"].isna()].head(1).itertuples():
        raise DataFormatError(
            f"{path}: row {record.row}, column {unchecked.label_column!r}: label must be 0 or 1, got {record.raw_label!r}"
        )
    for record in frame[frame["text"] == ""].head(1).itertuples():
        raise DataFormatError(f"{path}: row {record.row}, column 'text': empty text")
    return frame.astype({"label": int}).drop(columns=["raw_label", "problem"]), unchecked.summary


def read_labelled(paths: list[Path], max_chars: int = MAX_AD_CHARS) -> LabelledAds:
    """Labelled files read together; exact duplicate texts are counted and reported, then dropped."""
    if not paths:
        raise DataFormatError("no labelled data files given")
    frames, summaries = [], []
    for path in paths:
        frame, summary = read_labelled_file(Path(path), max_chars)
        frames.append(frame)
        summaries.append(summary)
    frame = pd.concat(frames, ignore_index=True)[COLUMNS]
    warnings = []
    duplicated = frame.duplicated("text", keep="first")
    conflicting = frame[duplicated].merge(frame[~duplicated], on="text", suffixes=("", "_first"))
    conflicting = conflicting[conflicting["label"] != conflicting["label_first"]]
    for record in conflicting.head(5).itertuples():
        warnings.append(
            f"{record.file}: row {record.row}: same text as {record.file_first} row {record.row_first} with another label"
        )
    if duplicated.any():
        warnings.append(f"{int(duplicated.sum())} duplicate texts dropped (first occurrence kept)")
    frame = frame[~duplicated].reset_index(drop=True)
    return LabelledAds(frame, summaries, int(duplicated.sum()), warnings)
