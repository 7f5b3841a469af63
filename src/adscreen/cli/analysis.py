"""``adscreen campaigns`` and ``adscreen report``: a dump of ads, read as an analyst."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from adscreen.cli.app import (
    CountryColumnOption,
    CountryOption,
    CsvEscapeOption,
    DateColumnOption,
    IdColumnOption,
    JobsOption,
    ModelOption,
    TextColumnOption,
    app,
    dump_of,
    err,
    handles_errors,
    lazy_scorer,
    out,
)
from adscreen.config import CAMPAIGN_THRESHOLD, Settings
from adscreen.errors import AdscreenError
from adscreen.tables.formats import table_format

if TYPE_CHECKING:
    pass


@app.command()
@handles_errors
def campaigns(
    data: Annotated[Path, typer.Argument(help="A dump of ads: CSV, JSONL or Parquet with a text column.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The campaign table (.csv, .jsonl or .parquet).")],
    ads_output: Annotated[
        Path | None, typer.Option("--ads-output", help="Also write every ad of the dump with its campaign_id.")
    ] = None,
    text_column: TextColumnOption = "text",
    id_column: IdColumnOption = "id",
    country_column: CountryColumnOption = "country",
    date_column: DateColumnOption = "date",
    country: CountryOption = None,
    threshold: Annotated[
        float, typer.Option(min=0.1, max=0.95, help="How alike two texts must be (estimated Jaccard) to be copies.")
    ] = CAMPAIGN_THRESHOLD,
    jobs: JobsOption = 1,
    csv_escape: CsvEscapeOption = True,
    model: ModelOption = None,
) -> None:
    """Group a dump of ads into campaigns: near-copies of one text, and ads that share a phone, account or address.

    Each campaign gets an id, its size, its ads, the contacts they share, how they are linked
    (text, contact or both), languages, first and last date, and its highest and median risk
    (the file's risk column, e.g. from score-file, or the model's).

    Example: adscreen campaigns ads.csv -o campaigns.csv --ads-output ads_with_campaigns.csv
    """
    from adscreen.analysis.campaigns import GroupingParams, ad_campaign_ids
    from adscreen.analysis.dump import dump_campaigns, row_errors
    from adscreen.tables.stream import write_table

    for path in (output, ads_output):
        if path is not None:
            table_format(path)  # an unknown extension fails before the work, not after
    dump = dump_of(data, text_column, id_column, country_column, date_column, country)
    found = dump_campaigns(dump, lazy_scorer(model), GroupingParams(threshold=threshold), jobs)
    write_table(found.table, output, csv_escape)
    if ads_output is not None:
        errors = row_errors(dump, Settings().max_ad_chars)
        write_table(
            dump.frame.assign(campaign_id=ad_campaign_ids(found.grouping), error=errors),
            ads_output,
            csv_escape,
            inputs=dump.layout,
        )
    in_campaigns = int((found.grouping.labels >= 0).sum())
    out.print(f"{len(dump)} ads, {found.grouping.count} campaigns with {in_campaigns} of them; wrote {output}")
    say_damaged(dump.problems)


@app.command()
@handles_errors
def report(
    data: Annotated[Path, typer.Argument(help="A dump of ads: CSV, JSONL or Parquet with a text column.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")],
    text_column: TextColumnOption = "text",
    id_column: IdColumnOption = "id",
    country_column: CountryColumnOption = "country",
    date_column: DateColumnOption = "date",
    country: CountryOption = None,
    jobs: JobsOption = 1,
    model: ModelOption = None,
) -> None:
    """Write an analyst's report on a dump of ads: one self-contained HTML file, no server needed.

    Risk distribution, indicators per ad, the most frequent red flags, the largest and the
    riskiest campaigns, the contacts shared across the most ads, languages, and the
    highest-risk ads with their evidence. Uses the file's risk, band and red_flags columns
    when it has them (score-file output), else scores every ad.

    Example: adscreen report ads.csv -o report.html
    """
    from adscreen.analysis.dump_report import build_report

    if output.suffix.lower() not in (".html", ".htm"):
        raise AdscreenError(f"{output}: the report is HTML; name it .html")
    dump = dump_of(data, text_column, id_column, country_column, date_column, country)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = build_report(dump, lazy_scorer(model)(), data.name, generated, jobs=jobs)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    out.print(f"{len(dump)} ads; wrote {output}")
    say_damaged(dump.problems)


def say_damaged(problems: list[str | None]) -> None:
    """One line when rows could not be read whole: they were kept as read, not dropped."""
    damaged = [problem for problem in problems if problem]
    if damaged:
        err.print(f"{len(damaged)} rows could not be read whole and were kept as read (first: {escape(damaged[0])})")
