"""The ``adscreen`` Typer app, its command groups, the options several commands share, and the one
place errors become the contract's exit codes.

Every AdscreenError becomes one readable line on stderr and exit code 2; anything
unexpected becomes one line and exit code 1 (``ADSCREEN_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from adscreen import load_model
from adscreen.config import Settings
from adscreen.errors import AdscreenError, InputError, NoTextColumn
from adscreen.training.feedback import FeedbackStore

if TYPE_CHECKING:
    from adscreen.analysis.dump import Dump
    from adscreen.scoring import Scorer


app = typer.Typer(
    name="adscreen",
    help="Score job ads for the risk that they are scams or human-trafficking lures, explain why, and say where to get help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="The model registry: list, promote, roll back, convert.", no_args_is_help=True)
app.add_typer(models_app, name="models")
feedback_app = typer.Typer(
    help="Analysts' corrections of wrong results: add, list, export. 'adscreen train --feedback' learns from them.",
    no_args_is_help=True,
)
app.add_typer(feedback_app, name="feedback")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn errors into one line and the contract's exit codes."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except NoTextColumn as error:
            raise fail(f"{error}, with --text-column NAME") from None
        except AdscreenError as error:
            raise fail(str(error)) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            if os.environ.get("ADSCREEN_DEBUG"):
                raise
            raise fail(
                f"unexpected {type(error).__name__}: {error} (set ADSCREEN_DEBUG=1 for the traceback)", 1
            ) from None

    return wrapper


CsvEscapeOption = Annotated[
    bool,
    typer.Option(
        "--csv-escape/--no-csv-escape", help="Prefix CSV cells starting with = + - @ with ' so Excel shows text."
    ),
]
ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        help="Model name in the models folder (adscreen-v1), or a path to a model folder (./my-model);"
        " default: the registry's current model.",
    ),
]
CountryOption = Annotated[
    str | None, typer.Option("--country", "-c", help="Your country (ISO code such as BY, UA, PL) for hotlines.")
]
DbOption = Annotated[
    Path | None, typer.Option("--db", help="Corrections database (default: ADSCREEN_FEEDBACK_DB, see the README).")
]
TextColumnOption = Annotated[str, typer.Option("--text-column", help="Column with the ad text.")]
IdColumnOption = Annotated[str, typer.Option("--id-column", help="Column with the ad's id (else row numbers).")]
CountryColumnOption = Annotated[
    str, typer.Option("--country-column", help="Column with the country (ISO code) for reading phone numbers.")
]
DateColumnOption = Annotated[str, typer.Option("--date-column", help="Column with the date the ad was posted.")]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Processes for reading ads; one per core.")]


def read_ad(text: str) -> str:
    """The ad of a command line: the argument itself, or standard input for ``-``."""
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise AdscreenError("standard input is not UTF-8 text (is it a binary file?)") from None


def dump_of(data: Path, text: str, ad_id: str, country_column: str, date: str, country: str | None) -> Dump:
    from adscreen.analysis.dump import DumpColumns, read_dump
    from adscreen.tables.stream import ReaderLimits

    settings = Settings()
    columns = DumpColumns(text=text, id=ad_id, country=country_column, date=date)
    return read_dump(data, columns, country or settings.default_country, ReaderLimits.of(settings))


def lazy_scorer(model: Path | None) -> Callable[[], Scorer]:
    settings = Settings()
    return lambda: load_model(model or settings.model_path, settings.models_dir, settings.max_ad_chars)


def feedback_store(db: Path | None) -> FeedbackStore:
    settings = Settings()
    return FeedbackStore(db or settings.feedback_db, settings.max_ad_chars)


def export_feedback(db: Path, model_name: str) -> Path:
    """The corrections as a labelled file beside the database, kept so that the model's metadata points at
    the very rows it learnt from (by sha256); no corrections is an error, not a silent no-op."""
    path = db.parent / "training-snapshots" / model_name / "feedback.jsonl"  # source "feedback" in the metadata
    rows = FeedbackStore(db).export(path)
    if rows == 0:
        path.unlink()
        raise InputError(f"{db}: no corrections to train on")
    err.print(f"training also on {rows} corrections from {escape(str(db))} (snapshot: {escape(str(path))})")
    return path
