"""Reading tabular files (CSV, JSONL, Parquet; CSV and JSONL may be gzip-compressed).

The format comes from the file name, so a mislabelled file fails loudly instead
of being read as something else.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from adscreen.errors import DataFormatError

TableFormat = Literal["csv", "jsonl", "parquet"]
_SUFFIXES: dict[str, TableFormat] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def table_format(path: Path) -> TableFormat:
    """The format named by the file's extension."""
    name = path.name.lower()
    for suffix, kind in sorted(_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return kind
    known = ", ".join(sorted(_SUFFIXES))
    raise DataFormatError(f"{path}: unknown file type; use one of {known}")


def read_table(path: Path) -> pd.DataFrame:
    """A whole file as a DataFrame of strings and numbers, or one clear DataFormatError."""
    kind = table_format(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: no such file")
    try:
        if kind == "csv":
            return pd.read_csv(path, dtype=object, keep_default_na=False, na_values=[""], encoding="utf-8")
        if kind == "jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        return pd.read_parquet(path)
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except Exception as error:  # pandas and pyarrow raise many types for a broken file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataFormatError(f"{path}: cannot read as {kind}: {reason}") from None


# --- Writing a whole table (campaign tables, per-ad campaign ids) ---

LIST_SEPARATOR = "|"


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` in the format the file name gives; in CSV, list cells are joined with ``|``."""
    kind = table_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "parquet":
        frame.to_parquet(path, index=False)
    elif kind == "jsonl":
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "wt", encoding="utf-8") as stream:
            for record in frame.to_dict("records"):
                stream.write(json.dumps(record, ensure_ascii=False, default=_json_cell) + "\n")
    else:
        flat = frame.copy()
        for name in flat.columns:
            if flat[name].map(lambda value: isinstance(value, list | tuple)).any():
                flat[name] = flat[name].map(
                    lambda value: LIST_SEPARATOR.join(map(str, value)) if isinstance(value, list | tuple) else value
                )
        flat.to_csv(path, index=False, encoding="utf-8")


def _json_cell(value: object) -> object:
    """Values json cannot write: numpy numbers and arrays, timestamps; missing values are null."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return None if pd.isna(value) else str(value)
