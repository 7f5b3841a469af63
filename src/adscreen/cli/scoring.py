"""``adscreen score`` and ``adscreen score-file``: one ad, or a file of ads."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from adscreen import load_model
from adscreen.cli.app import (
    CountryOption,
    CsvEscapeOption,
    ModelOption,
    app,
    err,
    handles_errors,
    out,
    read_ad,
)
from adscreen.cli.render import batch_progress, render_result
from adscreen.config import DEFAULT_CHUNK_SIZE, Settings, default_workers
from adscreen.errors import AdscreenError
from adscreen.language import detect_language
from adscreen.localized import UI_LANGUAGES
from adscreen.tables.formats import table_format
from adscreen.ui import ui_strings

if TYPE_CHECKING:
    pass


def locale_language(environ: Mapping[str, str]) -> str | None:
    """The language of the terminal's locale, as POSIX orders it (LC_ALL, then LC_MESSAGES, then LANG):
    "uk_UA.UTF-8" -> "uk"; None for "C", "POSIX" or a language we do not speak."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            code = value.split(".")[0].split("@")[0].split("_")[0].lower()
            return code if code in UI_LANGUAGES else None
    return None


def output_language(requested: str | None, ad_language: str, environ: Mapping[str, str]) -> str:
    """The one language of an output: the one asked for, else the ad's own, else the locale's, else English."""
    if requested is not None:
        code = requested.strip().lower()
        if code not in UI_LANGUAGES:
            raise AdscreenError(f"unknown language {requested!r}; use one of {', '.join(UI_LANGUAGES)}")
        return code
    if ad_language in UI_LANGUAGES:
        return ad_language
    return locale_language(environ) or "en"


@app.command()
@handles_errors
def score(
    text: Annotated[str, typer.Argument(help="The ad text, or - to read it from standard input.")],
    country: CountryOption = None,
    model: ModelOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON result instead of the readable summary.")
    ] = False,
    language: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of the whole output: en, ru, be, uk or pl"
            " (default: the ad's language if one of these, else the locale's from LC_ALL/LANG, else en).",
        ),
    ] = None,
) -> None:
    """Score one ad.

    Example: adscreen score "Девушки 18-25, работа хостес в Дубае, билеты оплачиваем, пиши в Telegram" --country BY --lang be
    """
    settings = Settings()
    ad = read_ad(text)
    # Chosen before scoring, so the scorer writes flags and guidance in the language the headings use.
    shown = output_language(language, detect_language(ad) if ad.strip() else "", os.environ)
    scorer = load_model(model or settings.model_path, settings.models_dir, settings.max_ad_chars)
    result = scorer.score(ad, country=country or settings.default_country, ui_language=shown)
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
    else:
        country_names = {code: entry.name.get(shown) for code, entry in scorer.guide.hotlines.countries.items()}
        render_result(out, ad, result, ui_strings()[shown], country_names)


@app.command("score-file")
@handles_errors
def score_file(
    source: Annotated[Path, typer.Argument(help="CSV, JSONL or Parquet file of ads (.csv.gz and .jsonl.gz too).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write; its extension gives the format.")],
    text_column: Annotated[
        str | None,
        typer.Option(help="Column with the ad text (default: 'text', or the EMSCAD fields joined)."),
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Column that names rows in the error summary.")] = None,
    engine: Annotated[
        str, typer.Option(help="local: worker processes on this machine; dask: a Dask cluster.")
    ] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:8786); default: a local cluster.")
    ] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Rows per chunk: memory use grows with it, not the file.")] = (
        DEFAULT_CHUNK_SIZE
    ),
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: every core).")] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add an 'explanation' column (red-flag spans, top terms); slower.")
    ] = False,
    csv_escape: CsvEscapeOption = True,
    country: Annotated[
        str | None, typer.Option("--country", "-c", help="Read national-format phone numbers as this country's.")
    ] = None,
    campaigns_output: Annotated[
        Path | None,
        typer.Option("--campaigns", help="Also group the scored ads into campaigns and write the table here."),
    ] = None,
    model: ModelOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Score every ad in a file; the output has every input row, in order, with risk, band, label, red_flags, error.

    Rows that cannot be scored keep their place with 'error' filled; only an unreadable file stops the run.

    Example: adscreen score-file ads.csv -o scored.parquet --text-column body --id-column ad_id
    """
    from adscreen.batch.chunk import BatchOptions
    from adscreen.batch.files import is_engine
    from adscreen.batch.files import score_file as score_table
    from adscreen.tables.stream import ReaderLimits

    if not is_engine(engine):
        raise AdscreenError(f"unknown engine {engine!r}; use local or dask")
    settings = Settings()
    # Deferred: with worker processes this one only names the model; it reads the file if it scores itself.
    scorer = load_model(model or settings.model_path, settings.models_dir, settings.max_ad_chars, deferred=True)
    options = BatchOptions(
        text_column=text_column,
        id_column=id_column,
        chunk_size=chunk_size,
        workers=workers or default_workers(),
        explain=explain,
        csv_escape=csv_escape,
        max_chars=settings.max_ad_chars,
        country=country,
    )
    collector = None
    if campaigns_output is not None:
        from adscreen.analysis.dump import DumpCollector

        table_format(campaigns_output)  # an unknown extension fails before the work, not after
        collector = DumpCollector(id_column or "id", country or settings.default_country)
    with batch_progress(quiet or not err.is_terminal) as on_progress:
        summary = score_table(
            source,
            output,
            scorer,
            options,
            engine,
            scheduler,
            on_progress,
            limits=ReaderLimits.of(settings),
            on_chunk=collector.add if collector is not None else None,
        )
    for example in summary.error_examples:
        err.print(f"  not scored: {escape(example)}")
    if summary.replaced_columns:
        err.print(f"  replaced the input's own {', '.join(summary.replaced_columns)} column(s) with the new scores")
    err.print(
        f"read {summary.rows} rows: {summary.scored} scored, {summary.errors} with errors, "
        f"in {summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s) -> {escape(str(output))}"
    )
    if collector is not None and campaigns_output is not None:
        from adscreen.analysis.campaigns import GroupingParams
        from adscreen.analysis.dump import dump_campaigns
        from adscreen.tables.stream import write_table

        dump = collector.dump()
        found = dump_campaigns(dump, lambda: scorer, GroupingParams(), options.workers, risks=dump.risks)
        write_table(found.table, campaigns_output, csv_escape)
        err.print(f"{found.grouping.count} campaigns -> {escape(str(campaigns_output))}")
