"""The table formats adscreen reads and writes (CSV, JSONL, Parquet; CSV and JSONL may be gzip-compressed).

The format comes from the file name, so a mislabelled file fails loudly instead of being read as
something else. Reading and writing are ``tables.stream``: one reader for every command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
