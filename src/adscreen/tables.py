"""Reading tabular files (CSV, JSONL, Parquet; CSV and JSONL may be gzip-compressed); writing is in ``table_stream``.

The format comes from the file name, so a mislabelled file fails loudly instead
of being read as something else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
