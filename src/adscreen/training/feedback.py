"""Analysts' corrections: ads the model scored wrongly, with the right label, kept in SQLite for retraining.

One row per ad: texts are matched after Unicode normalisation, case folding and
collapsing whitespace. Sending the same ad with the same label again only counts it
(``times_sent``); sending it with the other label replaces the label (the latest word
wins, since analysts correct themselves) and counts the change in ``label_changes`` so a
disputed ad can be found and reviewed. Nothing here trains: ``export`` writes a file
that ``corpus.read_labelled`` reads like any other labelled file.

The database is ``ADSCREEN_FEEDBACK_DB``, by default ``feedback.sqlite3`` in the user's
data folder (``platformdirs``), created on the first correction. A store with ``max_bytes``
refuses new ads (``FeedbackFull``) once the database has grown to that size; a database that
cannot be opened or written is ``FeedbackUnavailable``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WithJsonSchema, field_validator

from adscreen.config import DEFAULT_FEEDBACK_DB, MAX_AD_CHARS
from adscreen.errors import DataFormatError, FeedbackFull, FeedbackUnavailable, InputError
from adscreen.scoring import check_text
from adscreen.tables.formats import table_format
from adscreen.training.labels import require_label

if TYPE_CHECKING:
    import pandas as pd

Source = Literal["cli", "api", "web"]
EXPORT_COLUMNS = [
    "text",
    "label",
    "language",
    "kind",
    "note",
    "source",
    "model_name",
    "model_version",
    "created_at",
    "updated_at",
    "times_sent",
    "label_changes",
    "id",
]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    text_key TEXT NOT NULL UNIQUE,
    label INTEGER NOT NULL CHECK (label IN (0, 1)),
    note TEXT,
    kind TEXT,
    language TEXT,
    source TEXT NOT NULL,
    model_name TEXT,
    model_version TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    times_sent INTEGER NOT NULL DEFAULT 1,
    label_changes INTEGER NOT NULL DEFAULT 0
)
"""


Label = Annotated[
    int,
    PlainValidator(require_label),
    WithJsonSchema({"enum": [0, 1, "suspicious", "looks_ok"], "description": "1 or 'suspicious', 0 or 'looks_ok'"}),
]


class Correction(BaseModel):
    """One analyst's correction, validated the same way whichever interface it came through."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The ad, as scored.")
    label: Label = Field(description="The right label: 1 or 'suspicious' (scam or lure), 0 or 'looks_ok'.")
    note: str | None = Field(default=None, max_length=2000, description="Why, in the analyst's words.")
    kind: str | None = Field(default=None, max_length=64, description="Kind of ad, e.g. hostess_abroad.")
    language: str | None = Field(default=None, max_length=8, description="Language code; detected when absent.")
    model_name: str | None = Field(default=None, max_length=200, description="The model that scored it.")
    model_version: str | None = Field(default=None, max_length=200)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the ad text is empty")
        return text.strip()

    @field_validator("note", "kind", "language", "model_name", "model_version")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


def correction(**fields: Any) -> Correction:
    """A validated Correction, or one InputError naming each bad field (for the CLI and the web form)."""
    try:
        return Correction(**fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, problem['loc'])) or 'input'}: {problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors()
        )
        raise InputError(problems) from None


def text_key(text: str) -> str:
    """Same key for texts that differ only in Unicode form, case or whitespace."""
    normalised = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


class FeedbackStore:
    """The corrections database; each call opens its own connection, so threads can share one store."""

    def __init__(
        self, path: Path = DEFAULT_FEEDBACK_DB, max_chars: int = MAX_AD_CHARS, max_bytes: int | None = None
    ) -> None:
        self.path = Path(path)
        self.max_chars = max_chars
        self.max_bytes = max_bytes

    @contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection]:
        if not create and not self.path.exists():
            raise DataFormatError(f"{self.path}: no feedback database yet (no correction has been sent)")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as connection:
                connection.row_factory = sqlite3.Row
                connection.execute(_SCHEMA)
                yield connection
        except (OSError, sqlite3.OperationalError) as error:  # permissions, a full disk, a lock held too long
            raise FeedbackUnavailable(f"{self.path}: cannot write the feedback database ({error})") from None
        except sqlite3.DatabaseError as error:
            raise DataFormatError(f"{self.path}: not a usable feedback database ({error})") from None

    def size(self) -> int:
        """Bytes the database takes on disk, with its write-ahead log if it has one."""
        total = 0
        for suffix in ("", "-wal"):
            with suppress(OSError):
                total += self.path.with_name(self.path.name + suffix).stat().st_size
        return total

    def problem(self) -> str | None:
        """Why a correction could not be stored now (checked without writing), or None; for ``/healthz``."""
        folder = next((parent for parent in [self.path.parent, *self.path.parents] if parent.exists()), None)
        if self.path.exists() and not os.access(self.path, os.W_OK):
            return "the corrections database is read-only"
        creatable = folder is not None and folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
        if not self.path.exists() and not creatable:
            return "the corrections database cannot be created"
        if self.max_bytes is not None and self.size() >= self.max_bytes:
            return "the corrections database is full"
        return None

    def add(self, item: Correction, source: Source) -> tuple[int, str]:
        """Store a correction; returns its row id and 'created', 'duplicate' or 'relabelled'."""
        check_text(item.text, self.max_chars)
        if item.language is None:
            from adscreen.language import detect_language  # lingua is slow to import; only the writer needs it

            item = item.model_copy(update={"language": detect_language(item.text)})
        now = datetime.now(UTC).isoformat(timespec="seconds")
        values = {**item.model_dump(), "text_key": text_key(item.text), "source": source, "now": now}
        try:
            return self._write(values)
        except DataFormatError as error:  # a file that is not a database cannot take a correction either
            raise FeedbackUnavailable(str(error)) from None

    def _write(self, values: dict) -> tuple[int, str]:
        with self._connect(create=True) as connection:
            connection.execute("BEGIN IMMEDIATE")  # read-then-write without another writer in between
            try:
                row = connection.execute("SELECT id, label FROM corrections WHERE text_key = :text_key", values)
                row = row.fetchone()
                if row is None:
                    if self.max_bytes is not None and self.size() >= self.max_bytes:
                        raise FeedbackFull(
                            f"the corrections database is full ({self.max_bytes} bytes); "
                            "new corrections are refused until its operator exports and clears it"
                        )
                    cursor = connection.execute(
                        "INSERT INTO corrections (text, text_key, label, note, kind, language, source, model_name,"
                        " model_version, created_at, updated_at) VALUES (:text, :text_key, :label, :note, :kind,"
                        " :language, :source, :model_name, :model_version, :now, :now)",
                        values,
                    )
                    row_id, status = int(cursor.lastrowid or 0), "created"
                elif row["label"] == values["label"]:  # keep what was said first, fill in what was missing
                    row_id, status = int(row["id"]), "duplicate"
                    connection.execute(
                        "UPDATE corrections SET times_sent = times_sent + 1, updated_at = :now,"
                        " note = COALESCE(note, :note), kind = COALESCE(kind, :kind) WHERE id = :id",
                        {**values, "id": row_id},
                    )
                else:  # the latest word wins, and the change is counted for review
                    row_id, status = int(row["id"]), "relabelled"
                    connection.execute(
                        "UPDATE corrections SET label = :label, note = :note, kind = :kind, source = :source,"
                        " model_name = :model_name, model_version = :model_version, updated_at = :now,"
                        " times_sent = times_sent + 1, label_changes = label_changes + 1 WHERE id = :id",
                        {**values, "id": row_id},
                    )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return row_id, status

    def frame(self) -> pd.DataFrame:
        """Every correction, oldest first, in the export columns."""
        import pandas as pd  # for exports only: the server that stores corrections never loads it

        with self._connect(create=False) as connection:
            rows = [dict(row) for row in connection.execute("SELECT * FROM corrections ORDER BY id")]
        frame = pd.DataFrame(rows, columns=[*EXPORT_COLUMNS, "text_key"])[EXPORT_COLUMNS]
        optional = ["language", "kind", "note", "model_name", "model_version"]
        frame[optional] = frame[optional].fillna("")  # empty, not "None", in every format
        return frame

    def export(self, path: Path) -> int:
        """Write every correction to a CSV, JSONL or Parquet file (by extension); returns the number of rows.

        The file has ``text`` and ``label`` columns, so ``adscreen train`` and ``corpus.read_labelled`` read it.
        """
        from adscreen.tables.stream import write_table

        table_format(path)  # a wrong extension is the first thing to say
        frame = self.frame()
        write_table(frame, path, csv_escape=False)  # training reads the texts back exactly as sent
        return len(frame)
