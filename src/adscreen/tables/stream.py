"""Streaming tables: rows in, in order and in chunks, and rows out, so memory does not grow with the file.

Readers never drop a row: a CSV line with the wrong number of fields or a JSONL line that
is not a JSON object is kept and its problem said. Bytes that are not UTF-8 are carried
through unchanged (as lone surrogates) and written back as they were. An uncompressed
file can also be cut into ``Part``s at record boundaries, so that Dask workers read it
in parallel with the very same parser.

Readers hold bounded memory whatever the file says about itself (``ReaderLimits``): a line
is read at most ``max_line_bytes`` at a time, a CSV cell at most ``max_field_chars``, a
``.gz`` file may unpack to at most ``max_decompressed_bytes`` (when set), and a Parquet
file's row groups and column chunks are checked against ``max_row_group_bytes`` from its
footer before any is read. Over a limit, the file is refused with ``InputTooLarge``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from adscreen.config import MAX_FIELD_CHARS, MAX_LINE_BYTES, MAX_ROW_GROUP_BYTES, Settings
from adscreen.errors import DataFormatError, InputTooLarge
from adscreen.tables.formats import TableFormat, table_format

CSV_LIST_SEPARATOR = "|"
# Cells that spreadsheet programs would run as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d[\d ]*)?[.,]?\d+(?:[eE][+-]?\d+)?")
Problem = str | None
MIB = 1024 * 1024


@dataclass(frozen=True)
class ReaderLimits:
    """What one reader may hold in memory; a file over a limit is refused (``InputTooLarge``), not read."""

    max_line_bytes: int = MAX_LINE_BYTES
    max_field_chars: int = MAX_FIELD_CHARS
    max_row_group_bytes: int = MAX_ROW_GROUP_BYTES
    max_decompressed_bytes: int | None = None  # None: no limit

    @classmethod
    def of(cls, settings: Settings, uploaded: bool = False) -> ReaderLimits:
        """The operator's limits: the same line, cell and row-group caps for uploads and score-file; only an
        upload is also capped in the bytes it unpacks to (a dump on the analyst's own disk may be large)."""
        return cls(
            max_line_bytes=settings.max_line_bytes,
            max_field_chars=settings.max_field_chars,
            max_row_group_bytes=settings.max_row_group_bytes,
            max_decompressed_bytes=settings.max_decompressed_bytes if uploaded else None,
        )


DEFAULT_LIMITS = ReaderLimits()


@dataclass
class Chunk:
    """Consecutive rows of a file, as read, with the rows that could not be parsed whole and why."""

    frame: pd.DataFrame
    problems: list[Problem]
    position: int  # input consumed so far, in the layout's unit


@dataclass(frozen=True)
class TableLayout:
    """What is known of a file before its rows are read: its columns and how big it is."""

    kind: TableFormat
    columns: list[str]
    schema: pa.Schema | None  # Parquet's own types; None means every column is text
    size: int
    unit: Literal["bytes", "rows"]
    data_start: int = 0  # byte offset of the first record (after a CSV header)
    data_line: int = 1  # line number of the first record
    limits: ReaderLimits = DEFAULT_LIMITS


@dataclass(frozen=True)
class Part:
    """A slice of a file that can be read on its own: from a byte offset (or a Parquet row group)."""

    start: int
    first_line: int
    rows: int


class _Lines:
    """A binary stream's lines, decoded, counting bytes and lines handed out so far, within the reader's limits."""

    def __init__(
        self, stream: io.BufferedIOBase, offset: int = 0, line: int = 0, limits: ReaderLimits = DEFAULT_LIMITS
    ) -> None:
        self.stream = stream
        self.offset = offset
        self.line = line
        self.limits = limits

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        limit = self.limits.max_line_bytes
        raw = self.stream.readline(limit + 1)  # never more than the limit in memory, however long the line
        if not raw:
            raise StopIteration
        if len(raw) > limit and not raw.endswith(b"\n"):
            raise InputTooLarge(f"line {self.line + 1} is longer than {limit} bytes, the limit for one line")
        self.offset += len(raw)
        self.line += 1
        cap = self.limits.max_decompressed_bytes
        if cap is not None and self.offset > cap:
            raise InputTooLarge(f"the file unpacks to more than {cap} bytes, the limit")
        text = raw.decode("utf-8", "surrogateescape")
        return text.removeprefix("\ufeff") if self.line == 1 else text


def _open_binary(path: Path) -> tuple[io.BufferedIOBase, io.BufferedReader]:
    """The decompressed stream and the raw file under it (whose position is the progress)."""
    raw = path.open("rb")
    if compressed(path):
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    return raw, raw


def compressed(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _unique(names: list[str]) -> list[str]:
    """Column names made unique the way pandas does ('a', 'a.1'), so no column is lost to a clash."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        if name in seen:
            seen[name] += 1
            unique.append(f"{name}.{seen[name]}")
        else:
            seen[name] = 0
            unique.append(name)
    return unique


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _check_parquet_sizes(metadata: pq.FileMetaData, limit: int) -> None:
    """Refuse, from the footer alone, a row group or column chunk that would unpack to more than ``limit`` bytes."""
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        sizes = [row_group.total_byte_size]
        sizes += [row_group.column(column).total_uncompressed_size for column in range(row_group.num_columns)]
        if max(sizes) > limit:
            raise InputTooLarge(
                f"row group {group} unpacks to {max(sizes)} bytes; the limit is {limit} "
                "(write the file with smaller row groups)"
            )


def read_layout(path: Path, limits: ReaderLimits = DEFAULT_LIMITS) -> TableLayout:
    """Columns and size of a file, or one clear DataFormatError; JSONL is scanned once for its keys."""
    kind = table_format(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: no such file")
    csv.field_size_limit(limits.max_field_chars)
    try:
        if kind == "parquet":
            parquet = pq.ParquetFile(path)
            _check_parquet_sizes(parquet.metadata, limits.max_row_group_bytes)
            schema = parquet.schema_arrow
            return TableLayout(kind, list(schema.names), schema, parquet.metadata.num_rows, "rows", limits=limits)
        stream, raw = _open_binary(path)
        with raw, stream:
            lines = _Lines(stream, limits=limits)
            if kind == "csv":
                header = next(csv.reader(lines), None)
                if not header:
                    raise DataFormatError(f"{path}: empty file (a CSV file needs a header line)")
                columns = _unique(header)
            else:
                keys: dict[str, None] = {}
                for line in lines:
                    record = _json_record(line)[0]
                    if isinstance(record, dict):
                        keys.update(dict.fromkeys(record))
                columns = list(keys)
    except InputTooLarge as error:
        raise InputTooLarge(f"{path}: {error}") from None
    except DataFormatError:
        raise
    except Exception as error:  # gzip, pyarrow and csv raise many types for a broken file
        raise DataFormatError(f"{path}: cannot read as {kind}: {_first_line(error)}") from None
    data_start, data_line = (lines.offset, lines.line + 1) if kind == "csv" else (0, 1)
    return TableLayout(kind, columns, None, path.stat().st_size, "bytes", data_start, data_line, limits)


def _json_record(line: str) -> tuple[object, Problem]:
    """One JSONL line parsed, or the line itself and why it could not be."""
    try:
        record = json.loads(line)
    except ValueError as error:
        return line.rstrip("\r\n"), f"is not valid JSON ({_first_line(error)})"
    if not isinstance(record, dict):
        return line.rstrip("\r\n"), f"is a JSON {type(record).__name__}, not an object"
    return record, None


def _records(kind: TableFormat, lines: _Lines, columns: list[str], raw_column: str) -> Iterator[tuple[object, Problem]]:
    """Rows as parsed: lists of fields for CSV, dicts for JSONL; a damaged one comes with its problem."""
    if kind == "jsonl":
        for line in lines:
            if line.strip():
                record, problem = _json_record(line)
                yield (record, None) if problem is None else ({raw_column: record}, f"line {lines.line} {problem}")
        return
    width = len(columns)
    reader = csv.reader(lines)
    try:
        for record in reader:
            if len(record) == width:
                yield record, None
            elif record:  # a blank line is not a row
                problem = f"line {lines.line} has {len(record)} fields where the header has {width}"
                if len(record) < width:
                    yield record + [""] * (width - len(record)), problem
                else:
                    yield [*record[: width - 1], ",".join(record[width - 1 :])], problem
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            limit = lines.limits.max_field_chars
            raise InputTooLarge(f"CSV line {lines.line}: a cell is longer than {limit} characters, the limit") from None
        raise DataFormatError(f"CSV line {lines.line}: {error}") from None


def _frame(rows: list, columns: list[str]) -> pd.DataFrame:
    """Rows as plain Python objects: pandas' Arrow strings would refuse bytes that are not UTF-8."""
    return pd.DataFrame(rows, columns=columns, dtype=object)


def _parquet_frame(table: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def empty_frame(layout: TableLayout) -> pd.DataFrame:
    """No rows, but the columns and types a chunk of this file has."""
    return _parquet_frame(layout.schema.empty_table()) if layout.schema is not None else _frame([], layout.columns)


def iter_chunks(path: Path, layout: TableLayout, chunk_size: int, raw_column: str) -> Iterator[Chunk]:
    """The file's rows in order, ``chunk_size`` at a time; a row that cannot be parsed is kept, not dropped.

    A CSV line with too few fields is padded, one with too many keeps the extra fields in its
    last column; a JSONL line that is not a JSON object is kept whole in ``raw_column``.
    """
    # An ad over the character limit becomes that row's error; only a cell over this far larger cap
    # (memory, not scoring) stops the file.
    csv.field_size_limit(layout.limits.max_field_chars)
    if layout.kind == "parquet":
        done = 0
        # pre_buffer (pyarrow's default) keeps every column chunk read until the file is closed:
        # memory would grow with the file (measured: +30 MB per 100k ads).
        for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=chunk_size):
            done += batch.num_rows
            yield Chunk(_parquet_frame(batch), [None] * batch.num_rows, done)
        return
    stream, raw = _open_binary(path)
    with raw, stream:
        lines = _Lines(stream, limits=layout.limits)
        if layout.kind == "csv":
            next(csv.reader(lines), None)
        rows: list = []
        problems: list[Problem] = []
        for row, problem in _records(layout.kind, lines, layout.columns, raw_column):
            rows.append(row)
            problems.append(problem)
            if len(rows) == chunk_size:
                yield Chunk(_frame(rows, layout.columns), problems, raw.tell())
                rows, problems = [], []
        if rows:
            yield Chunk(_frame(rows, layout.columns), problems, raw.tell())


@dataclass
class WholeTable:
    """Every row of a file, in order, with why a row could not be parsed whole (None for a whole row)."""

    frame: pd.DataFrame
    problems: list[Problem]
    layout: TableLayout


def read_whole(path: Path, raw_column: str | None = None, limits: ReaderLimits = DEFAULT_LIMITS) -> WholeTable:
    """The whole file through the same reader as ``iter_chunks``, for commands that need every row at once
    (training, validation, campaigns): they accept exactly the files ``score-file`` accepts, and a damaged
    row keeps its place with its problem. CSV cells are text ("" when empty); bytes that are not UTF-8 are
    kept as surrogate escapes, for the caller to refuse per row (``undecodable``).

    A JSONL line that is not an object is kept whole in ``raw_column``: by default ``text`` where the file
    has it, else EMSCAD's ``description``, else the first column."""
    layout = read_layout(path, limits)
    if raw_column is None:
        present = [name for name in ("text", "description") if name in layout.columns]
        raw_column = present[0] if present else (layout.columns[0] if layout.columns else "text")
    try:
        chunks = list(iter_chunks(path, layout, 65_536, raw_column))
    except (DataFormatError, InputTooLarge) as error:  # the reader names the line; the caller needs the file too
        raise type(error)(f"{path}: {error}") from None
    frames = [chunk.frame for chunk in chunks]
    frame = pd.concat(frames, ignore_index=True) if frames else empty_frame(layout)
    return WholeTable(frame, [problem for chunk in chunks for problem in chunk.problems], layout)


def plan_parts(path: Path, layout: TableLayout, rows_per_part: int) -> list[Part]:
    """Where to cut the file so each part starts on a record: one pass with the same parser as the reader."""
    if layout.kind == "parquet":
        metadata = pq.ParquetFile(path).metadata
        return [Part(group, 0, metadata.row_group(group).num_rows) for group in range(metadata.num_row_groups)]
    if compressed(path):
        raise DataFormatError(
            f"{path}: a compressed file cannot be split between Dask workers; decompress it or score it with the local engine"
        )
    csv.field_size_limit(layout.limits.max_field_chars)
    parts = []
    with path.open("rb") as stream:
        stream.seek(layout.data_start)
        lines = _Lines(stream, layout.data_start, layout.data_line - 1, layout.limits)
        start, first_line, rows = lines.offset, lines.line + 1, 0
        for _ in _records(layout.kind, lines, layout.columns, ""):
            rows += 1
            if rows == rows_per_part:
                parts.append(Part(start, first_line, rows))
                start, first_line, rows = lines.offset, lines.line + 1, 0
        if rows:
            parts.append(Part(start, first_line, rows))
    return parts


def read_part(path: Path, layout: TableLayout, part: Part, raw_column: str) -> Chunk:
    """One planned part, read on its own (on a Dask worker)."""
    if layout.kind == "parquet":
        frame = _parquet_frame(pq.ParquetFile(path).read_row_group(part.start))
        return Chunk(frame, [None] * len(frame), part.rows)
    csv.field_size_limit(layout.limits.max_field_chars)
    with path.open("rb") as stream:
        stream.seek(part.start)
        lines = _Lines(stream, part.start, part.first_line - 1, layout.limits)
        rows, problems = [], []
        for row, problem in _records(layout.kind, lines, layout.columns, raw_column):
            rows.append(row)
            problems.append(problem)
            if len(rows) == part.rows:
                break
    return Chunk(_frame(rows, layout.columns), problems, lines.offset)


# --- Writing ---


def missing(value: object) -> bool:
    """An empty cell, however pandas or pyarrow spells it."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _missing_scalar(value: object) -> bool:
    return not isinstance(value, (list, dict, np.ndarray)) and missing(value)


def text_cell(value: object) -> str | None:
    """A cell as text for CSV or a text column: lists and objects as JSON, missing as None."""
    if missing(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return json.dumps(value.tolist() if isinstance(value, np.ndarray) else value, ensure_ascii=False, default=str)
    return str(value)


def escape_formula(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with ' so it shows as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _valid_utf8(value: object) -> object:
    """Parquet holds only valid UTF-8: bytes that were not are shown as \\xNN instead."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return value


def _joined(value: object) -> str | None:
    if _missing_scalar(value):
        return None
    return CSV_LIST_SEPARATOR.join(str(item) for item in cast(Iterable[object], value))  # a list column's cell


def _json_value(value: object) -> object:
    """Values json cannot write: numpy numbers and arrays, timestamps (ISO 8601), anything else as text."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _mapped(column: pd.Series, function: Callable[[object], object]) -> pd.Series:
    return pd.Series([function(value) for value in column], index=column.index, dtype=object)


def _csv_texts(column: pd.Series) -> list[str]:
    """A column's cells as CSV text, as ``DataFrame.to_csv`` writes them: missing cells empty.

    Text cells are taken as they are (they may hold the lone surrogates of bytes that were not
    UTF-8, which pandas' string dtype would refuse); typed columns are formatted by pandas.
    """
    if pd.api.types.is_object_dtype(column):
        return ["" if missing(value) else value if isinstance(value, str) else str(value) for value in column]
    texts = column.astype(str).tolist()
    return ["" if absent else text for absent, text in zip(column.isna().tolist(), texts, strict=True)]


class CsvRecords:
    """Writes CSV records that end in ``\n`` and quote every cell holding a comma, a quote, a LF *or a CR*.

    ``csv.writer`` quotes a cell for the characters of its own line terminator only: with
    ``"\n"`` a cell holding a bare carriage return went out unquoted, and every reader,
    spreadsheets included, saw a new row start inside it (with whatever formula followed).
    So each record is written with ``"\r\n"`` (which makes both characters quoted) and its
    final ``"\r\n"`` is written as ``"\n"``.
    """

    def __init__(self, stream: TextIO, quote_all: bool = False) -> None:
        self._stream = stream
        self._record = io.StringIO()
        self._writer = csv.writer(
            self._record, lineterminator="\r\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
        )

    def write(self, cells: Iterable[object]) -> None:
        self._writer.writerow(cells)
        record = self._record.getvalue()
        self._record.seek(0)
        self._record.truncate()
        self._stream.write(record[:-2] + "\n")


class TableWriter:
    """Writes chunks to one file in the format its name gives, via a temporary file renamed at the end.

    A failed run therefore leaves no half-written output behind.
    """

    def __init__(self, path: Path, layout: TableLayout, extra: pa.Schema, csv_escape: bool = True) -> None:
        self.path = path
        self.kind = table_format(path)
        self.columns = layout.columns
        self.csv_escape = csv_escape
        keep_types = layout.schema is not None and self.kind == "parquet"
        inputs = (
            layout.schema
            if keep_types and layout.schema is not None
            else pa.schema([(name, pa.string()) for name in layout.columns])
        )
        kept = [field for field in inputs if field.name not in extra.names]
        self.schema = pa.schema([*kept, *extra])
        # JSONL keeps each value as it came; CSV, and Parquet written from text files, hold text.
        self._text_columns = [] if keep_types or self.kind == "jsonl" else [field.name for field in kept]
        self._partial = path.with_name(f".{path.name}.partial")
        self._stream: TextIO | None = None
        self._parquet: pq.ParquetWriter | None = None

    def __enter__(self) -> TableWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.kind == "parquet":
            self._parquet = pq.ParquetWriter(self._partial, self.schema)
        else:
            opener = gzip.open if self.path.name.lower().endswith(".gz") else open
            self._stream = opener(self._partial, "wt", encoding="utf-8", errors="surrogateescape", newline="")
            if self.kind == "csv":
                header = [self._escaped(name) for name in self.schema.names]
                # Quoted, a byte order mark that starts the first name is read as part of it, not as the file's.
                byte_order_mark = bool(header) and str(header[0]).startswith("\ufeff")
                CsvRecords(self._stream, quote_all=byte_order_mark).write(header)
        return self

    def _escaped(self, cell: object) -> object:
        return escape_formula(cell) if self.csv_escape else cell

    def write(self, frame: pd.DataFrame) -> None:
        """Append rows; ``frame`` has the input columns (any missing are empty) and the extra ones."""
        frame = frame.reindex(columns=self.schema.names)
        for name in self._text_columns:
            frame[name] = _mapped(frame[name], text_cell)
        if self.kind == "parquet":
            for name in self._text_columns:
                frame[name] = _mapped(frame[name], _valid_utf8)
            assert self._parquet is not None
            self._parquet.write_table(pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False))
        elif self.kind == "csv":
            for field in self.schema:
                if pa.types.is_list(field.type):
                    frame[field.name] = _mapped(frame[field.name], _joined)
            if self.csv_escape:
                for name in frame.columns:
                    if pd.api.types.is_object_dtype(frame[name]) or pd.api.types.is_string_dtype(frame[name]):
                        frame[name] = _mapped(frame[name], escape_formula)
            assert self._stream is not None
            records = CsvRecords(self._stream)
            for row in zip(*(_csv_texts(frame[name]) for name in frame.columns), strict=True):
                records.write(row)
        else:
            assert self._stream is not None
            for record in frame.to_dict("records"):
                record = {key: None if _missing_scalar(value) else value for key, value in record.items()}
                self._stream.write(json.dumps(record, ensure_ascii=False, default=_json_value) + "\n")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._stream is not None:
            self._stream.close()
        if error is None:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)


def write_table(frame: pd.DataFrame, path: Path, csv_escape: bool = True, inputs: TableLayout | None = None) -> None:
    """A whole frame to the file its name gives, as ``TableWriter`` writes chunks: list cells ``|``-joined
    in CSV, Parquet types kept, and formula-like CSV cells neutralised unless ``csv_escape`` is off.

    ``inputs``: the layout of the file the frame's rows were read from; its columns are then written as
    ``score-file`` writes them, whatever their cells hold (a JSONL column may mix lists and strings), and
    the frame's other columns by their types."""
    layout = inputs or TableLayout(table_format(path), [], None, len(frame), "rows")
    added = frame[[name for name in frame.columns if name not in layout.columns]]
    with TableWriter(path, layout, pa.Schema.from_pandas(added, preserve_index=False), csv_escape) as writer:
        writer.write(frame)
