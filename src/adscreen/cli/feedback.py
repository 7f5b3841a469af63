"""``adscreen feedback``: analysts' corrections (add, list, export)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from adscreen.cli.app import (
    CsvEscapeOption,
    DbOption,
    feedback_app,
    feedback_store,
    handles_errors,
    out,
    read_ad,
)
from adscreen.config import Settings
from adscreen.registry import Registry
from adscreen.tables.formats import table_format
from adscreen.training.feedback import correction

if TYPE_CHECKING:
    pass


@feedback_app.command("add")
@handles_errors
def feedback_add(
    text: Annotated[str, typer.Argument(help="The ad text, or - to read it from standard input.")],
    label: Annotated[str, typer.Option("--label", "-l", help="The right label: suspicious (or 1), looks_ok (or 0).")],
    note: Annotated[str | None, typer.Option("--note", help="Why the result was wrong.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Kind of ad, e.g. hostess_abroad.")] = None,
    language: Annotated[str | None, typer.Option("--lang", help="Language code (detected when absent).")] = None,
    db: DbOption = None,
) -> None:
    """Store a correction, recorded against the registry's current model.

    Example: adscreen feedback add "Работа в Дубае, билеты за наш счёт" --label suspicious --note "known lure"
    """
    settings = Settings()
    current = Registry(settings.models_dir).read()
    name = current.get("current")
    item = correction(
        text=read_ad(text),
        label=label,
        note=note,
        kind=kind,
        language=language,
        model_name=name,
        model_version=current["models"].get(name, {}).get("version") if name else None,
    )
    store = feedback_store(db)
    row_id, status = store.add(item, source="cli")
    out.print(f"{status}: correction {row_id} in {escape(str(store.path))}")


@feedback_app.command("list")
@handles_errors
def feedback_list(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")] = 20,
    relabelled: Annotated[
        bool, typer.Option("--relabelled", help="Only ads whose label was changed by a later correction.")
    ] = False,
    db: DbOption = None,
) -> None:
    """The latest corrections: id, label, times sent, label changes, source, date and the start of the text.

    Example: adscreen feedback list --relabelled
    """
    frame = feedback_store(db).frame()
    if relabelled:
        frame = frame[frame["label_changes"] > 0]
    for row in frame.iloc[::-1].head(limit).itertuples():
        excerpt = " ".join(row.text.split())[:70]
        name = "suspicious" if row.label == 1 else "looks_ok"
        out.print(
            f"{row.id:5}  {name:10}  sent {row.times_sent}x  relabelled {row.label_changes}x  {row.source:3}"
            f"  {row.created_at[:10]}  {escape(excerpt)}"
        )
    out.print(f"{len(frame)} corrections" + (" relabelled" if relabelled else ""))


@feedback_app.command("export")
@handles_errors
def feedback_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write: .csv, .jsonl or .parquet.")],
    db: DbOption = None,
    csv_escape: CsvEscapeOption = True,
) -> None:
    """Write every correction to a labelled file (text, label, language, kind, note, ...) that 'train' reads.

    The texts come from anyone who can reach the form or the API, so CSV cells that look like
    formulas are neutralised as in score-file; JSONL and Parquet keep every text exactly as sent.

    Example: adscreen feedback export -o corrections.csv
    """
    from adscreen.tables.stream import write_table

    table_format(output)  # a wrong extension is the first thing to say
    frame = feedback_store(db).frame()
    write_table(frame, output, csv_escape)
    out.print(f"wrote {len(frame)} corrections to {escape(str(output))}")
