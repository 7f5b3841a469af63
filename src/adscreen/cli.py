"""The ``adscreen`` command: a thin layer over the library.

Every AdscreenError becomes one readable line on stderr and exit code 2; anything
unexpected becomes one line and exit code 1 (``ADSCREEN_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from adscreen import Scorer, load_model
from adscreen.campaigns import DEFAULT_THRESHOLD, GroupingParams, ad_campaign_ids
from adscreen.config import Settings
from adscreen.errors import AdscreenError
from adscreen.model import REGULARISATION_C
from adscreen.registry import Registry
from adscreen.render import render_result
from adscreen.tables import table_format, write_table

if TYPE_CHECKING:
    from adscreen.dump import Dump

app = typer.Typer(
    name="adscreen",
    help="Score job ads for the risk that they are scams or human-trafficking lures, explain why, and say where to get help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="The model registry: list, promote, roll back.", no_args_is_help=True)
app.add_typer(models_app, name="models")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., object])


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def handles_errors(command: F) -> F:
    """Turn errors into one line and the contract's exit codes."""

    @wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return command(*args, **kwargs)
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

    return wrapper  # type: ignore[return-value]


ModelOption = Annotated[
    Path | None, typer.Option("--model", "-m", help="Model folder (default: the registry's current model).")
]
CountryOption = Annotated[
    str | None, typer.Option("--country", "-c", help="Your country (ISO code such as BY, UA, PL) for hotlines.")
]


def _read_ad(text: str) -> str:
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise AdscreenError("standard input is not UTF-8 text (is it a binary file?)") from None


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
        str | None, typer.Option("--lang", help="Language of the explanations (en, ru, be, uk, pl).")
    ] = None,
) -> None:
    """Score one ad.

    Example: adscreen score "Девушки 18-25, работа хостес в Дубае, билеты оплачиваем, пиши в Telegram" --country BY
    """
    settings = Settings()
    ad = _read_ad(text)
    scorer = load_model(model or settings.model_path, settings.models_dir)
    result = scorer.score(ad, country=country or settings.default_country, ui_language=language)
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
    else:
        render_result(out, ad, result)


@app.command()
@handles_errors
def train(
    data: Annotated[list[Path], typer.Argument(help="Labelled files: text+label columns, or the EMSCAD schema.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model folder to write, e.g. models/my-model.")],
    promote: Annotated[bool, typer.Option("--promote", help="Register the model and make it current.")] = False,
    c: Annotated[
        float, typer.Option("--C", help="Inverse regularisation strength of the logistic regression.")
    ] = REGULARISATION_C,
) -> None:
    """Train a model from labelled ads and write it with its metadata.

    Example: adscreen train data/ads/*.jsonl ../shared/data/emscad_train.csv -o models/my-model
    """
    from adscreen.training import train_to_folder

    metadata = train_to_folder(data, output, c=c, say=lambda line: err.print(escape(line)))
    test = metadata["metrics"]["test"]
    out.print(f"wrote {output} (threshold {metadata['threshold']}, bands {metadata['bands']})")
    for section in ("overall", "sample_ads", "emscad_real_rate"):
        if section in test:
            m = test[section]
            out.print(
                f"test {section:17} PR-AUC {m['pr_auc']}  F1 {m['f1']}  precision {m['precision']}  recall {m['recall']}"
            )
    for language, m in metadata["metrics"]["test"]["per_language"].items():
        out.print(f"test language {language:8} PR-AUC {m['pr_auc']}  F1 {m['f1']}")
    if promote:
        registry = Registry(output.parent)
        registry.promote(output.name)
        out.print(f"promoted {output.name} to current in {registry.path}")


@app.command()
@handles_errors
def evaluate(
    model: Annotated[Path, typer.Argument(help="Model folder.")],
    data: Annotated[list[Path], typer.Argument(help="Labelled files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Metrics of a model on labelled data, at the model's own threshold.

    Example: adscreen evaluate models/adscreen-v1 held_out.csv --json
    """
    from adscreen.training import evaluate as evaluate_model

    scorer = load_model(model, Settings().models_dir)
    report = evaluate_model(scorer.loaded, data)
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    out.print(f"model {report['model']['name']} ({report['model']['version']}), threshold {report['threshold']}")
    for section, m in report["metrics"].items():
        if section == "per_language":
            for language, lm in m.items():
                out.print(f"  language {language:6} n={lm['n']:5}  PR-AUC {lm['pr_auc']}  F1 {lm['f1']}")
        else:
            out.print(
                f"  {section:18} n={m['n']:5}  PR-AUC {m['pr_auc']}  ROC-AUC {m['roc_auc']}  F1 {m['f1']}  P {m['precision']}  R {m['recall']}"
            )


@models_app.command("list")
@handles_errors
def models_list() -> None:
    """List registered models; the current one is marked with *."""
    registry = Registry(Settings().models_dir).read()
    for name, entry in registry["models"].items():
        marker = "*" if name == registry.get("current") else " "
        out.print(
            f"{marker} {name:30} {entry.get('version')}  trained {entry.get('trained_at')}  sha256 {entry['sha256'][:12]}"
        )


@models_app.command("promote")
@handles_errors
def models_promote(name: Annotated[str, typer.Argument(help="Model folder name under the models folder.")]) -> None:
    """Make a model current (it is verified first)."""
    registry = Registry(Settings().models_dir)
    registry.promote(name)
    out.print(f"current model: {name}")


@models_app.command("rollback")
@handles_errors
def models_rollback() -> None:
    """Make the previously current model current again."""
    registry = Registry(Settings().models_dir).rollback()
    out.print(f"current model: {registry['current']}")


@app.command()
@handles_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes; scoring is CPU-bound, so one per core.")] = 1,
) -> None:
    """Serve the API and the web form.

    Example: adscreen serve --port 8000, then open http://127.0.0.1:8000/
    """
    import uvicorn

    from adscreen.api import create_app

    settings = Settings()
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    err.print(f"adscreen serving on http://{settings.host}:{settings.port}/ (API docs at /docs)")
    if workers > 1:  # each worker process builds its own app (and loads the model) from ADSCREEN_* settings
        uvicorn.run("adscreen.api:create_app", factory=True, host=settings.host, port=settings.port, workers=workers)
    else:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=True)


# --- The analyst's view of a dump: campaigns and the report ---

TextColumnOption = Annotated[str, typer.Option("--text-column", help="Column with the ad text.")]
IdColumnOption = Annotated[str, typer.Option("--id-column", help="Column with the ad's id (else row numbers).")]
CountryColumnOption = Annotated[
    str, typer.Option("--country-column", help="Column with the country (ISO code) for reading phone numbers.")
]
DateColumnOption = Annotated[str, typer.Option("--date-column", help="Column with the date the ad was posted.")]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Processes for reading ads; one per core.")]


def _dump(data: Path, text: str, ad_id: str, country_column: str, date: str, country: str | None) -> Dump:
    from adscreen.dump import DumpColumns, read_dump

    settings = Settings()
    columns = DumpColumns(text=text, id=ad_id, country=country_column, date=date)
    return read_dump(data, columns, country or settings.default_country)


def _lazy_scorer(model: Path | None) -> Callable[[], Scorer]:
    settings = Settings()
    return lambda: load_model(model or settings.model_path, settings.models_dir)


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
    ] = DEFAULT_THRESHOLD,
    jobs: JobsOption = 1,
    model: ModelOption = None,
) -> None:
    """Group a dump of ads into campaigns: near-copies of one text, and ads that share a phone, account or address.

    Each campaign gets an id, its size, its ads, the contacts they share, how they are linked
    (text, contact or both), languages, first and last date, and its highest and median risk
    (the file's risk column, e.g. from score-file, or the model's).

    Example: adscreen campaigns ads.csv -o campaigns.csv --ads-output ads_with_campaigns.csv
    """
    from adscreen.dump import dump_campaigns

    for path in (output, ads_output):
        if path is not None:
            table_format(path)  # an unknown extension fails before the work, not after
    dump = _dump(data, text_column, id_column, country_column, date_column, country)
    found = dump_campaigns(dump, _lazy_scorer(model), GroupingParams(threshold=threshold), jobs)
    write_table(found.table, output)
    if ads_output is not None:
        write_table(dump.frame.assign(campaign_id=ad_campaign_ids(found.grouping)), ads_output)
    in_campaigns = int((found.grouping.labels >= 0).sum())
    out.print(f"{len(dump)} ads, {found.grouping.count} campaigns with {in_campaigns} of them; wrote {output}")


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
    from adscreen.dump_report import build_report

    if output.suffix.lower() not in (".html", ".htm"):
        raise AdscreenError(f"{output}: the report is HTML; name it .html")
    dump = _dump(data, text_column, id_column, country_column, date_column, country)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = build_report(dump, _lazy_scorer(model)(), data.name, generated, jobs=jobs)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    out.print(f"{len(dump)} ads; wrote {output}")


if __name__ == "__main__":
    app()
