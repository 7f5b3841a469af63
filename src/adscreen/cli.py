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
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from adscreen import Scorer, load_model
from adscreen.batch import DEFAULT_CHUNK_SIZE, BatchOptions, default_workers
from adscreen.batch import score_file as score_table
from adscreen.campaigns import DEFAULT_THRESHOLD, GroupingParams, ad_campaign_ids
from adscreen.config import Settings
from adscreen.errors import AdscreenError, InputError
from adscreen.feedback import FeedbackStore, correction
from adscreen.model import REGULARISATION_C
from adscreen.registry import Registry
from adscreen.render import batch_progress, render_result
from adscreen.table_stream import write_table
from adscreen.tables import table_format

if TYPE_CHECKING:
    from adscreen.dump import Dump

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
    if engine not in ("local", "dask"):
        raise AdscreenError(f"unknown engine {engine!r}; use local or dask")
    settings = Settings()
    scorer = load_model(model or settings.model_path, settings.models_dir, settings.max_ad_chars)
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
    if campaigns_output is not None:
        table_format(campaigns_output)  # an unknown extension fails before the work, not after
    with batch_progress(quiet or not err.is_terminal) as on_progress:
        summary = score_table(
            source,
            output,
            scorer,
            options,
            engine,
            scheduler,
            on_progress,
            limits=settings.reader_limits(),  # type: ignore[arg-type]
        )
    for example in summary.error_examples:
        err.print(f"  not scored: {escape(example)}")
    if summary.replaced_columns:
        err.print(f"  replaced the input's own {', '.join(summary.replaced_columns)} column(s) with the new scores")
    err.print(
        f"read {summary.rows} rows: {summary.scored} scored, {summary.errors} with errors, "
        f"in {summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s) -> {escape(str(output))}"
    )
    if campaigns_output is not None:
        from adscreen.dump import dump_campaigns

        dump = _dump(output, text_column or "text", id_column or "id", "country", "date", country)
        found = dump_campaigns(dump, _lazy_scorer(model), GroupingParams(), options.workers)
        write_table(found.table, campaigns_output, csv_escape)
        err.print(f"{found.grouping.count} campaigns -> {escape(str(campaigns_output))}")


@app.command()
@handles_errors
def train(
    data: Annotated[list[Path], typer.Argument(help="Labelled files: text+label columns, or the EMSCAD schema.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model folder to write, e.g. models/my-model.")],
    promote: Annotated[bool, typer.Option("--promote", help="Register the model and make it current.")] = False,
    c: Annotated[
        float, typer.Option("--C", help="Inverse regularisation strength of the logistic regression.")
    ] = REGULARISATION_C,
    feedback: Annotated[
        bool, typer.Option("--feedback", help="Also train on the analysts' corrections (ADSCREEN_FEEDBACK_DB).")
    ] = False,
    feedback_db: Annotated[
        Path | None, typer.Option("--feedback-db", help="Corrections database to train on (implies --feedback).")
    ] = None,
    false_alarm_rate: Annotated[
        float | None,
        typer.Option(
            "--false-alarm-rate",
            min=0.0,
            max=1.0,
            help="Set the threshold to flag at most this share of legitimate ads in cross-validation, instead of"
            " the best F1: e.g. the current model's rate from 'adscreen evaluate', to keep it when retraining.",
        ),
    ] = None,
) -> None:
    """Train a model from labelled ads and write it with its metadata.

    Example: adscreen train data/ads/*.jsonl ../shared/data/emscad_train.csv -o models/my-model --feedback
    """
    from adscreen.report import MODEL_CARD_FILE, REPORT_FILE
    from adscreen.training import train_to_folder

    if feedback or feedback_db:  # first, so a correction wins over the same text with another label elsewhere
        data = [_export_feedback(feedback_db or Settings().feedback_db, output.name), *data]
    metadata = train_to_folder(
        data, output, c=c, say=lambda line: err.print(escape(line)), false_alarm_rate=false_alarm_rate
    )
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
    out.print(f"report: {output / REPORT_FILE}, model card: {output / MODEL_CARD_FILE}")
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

    Example: adscreen evaluate models/adscreen-v2 held_out.csv --json
    """
    from adscreen.report import metric_rows
    from adscreen.training import evaluate as evaluate_model

    scorer = load_model(model, Settings().models_dir)
    report = evaluate_model(scorer.loaded, data)
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    out.print(
        f"model {report['model']['name']} ({report['model']['version']}), threshold {report['threshold']},"
        f" false-alarm rate {report['false_positive_rate']}"
    )
    metrics = report["metrics"]
    for label, _, m in metric_rows(metrics):
        out.print(
            f"  {label:18} n={m['n']:5}  PR-AUC {m['pr_auc']}  ROC-AUC {m['roc_auc']}  F1 {m['f1']}"
            f"  P {m['precision']}  R {m['recall']}"
        )
    for language, lm in metrics["per_language"].items():
        out.print(f"  language {language:9} n={lm['n']:5}  PR-AUC {lm['pr_auc']}  F1 {lm['f1']}")
    for language, alarms in metrics["false_alarms_by_language"].items():
        out.print(
            f"  false alarms {language:5} {alarms['false_alarm_rate']:.2%} of {alarms['legitimate']} legitimate ads"
        )


@models_app.command("list")
@handles_errors
def models_list() -> None:
    """List registered models; the current one is marked with *."""
    registry = Registry(Settings().models_dir).read()
    for name, entry in registry["models"].items():
        marker = "*" if name == registry.get("current") else " "
        out.print(
            f"{marker} {name:30} {entry.get('version')}  trained {entry.get('trained_at')}"
            f"  sha256 {str(entry.get('sha256'))[:12]}"
        )


@models_app.command("promote")
@handles_errors
def models_promote(name: Annotated[str, typer.Argument(help="Model folder name under the models folder.")]) -> None:
    """Make a model current (it is verified first)."""
    registry = Registry(Settings().models_dir)
    registry.promote(name)
    out.print(f"current model: {name}")


@models_app.command("convert")
@handles_errors
def models_convert(
    name: Annotated[str, typer.Argument(help="Model folder name under the models folder.")],
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle",
            help="Required: you built this model yourself; converting unpickles it, which runs its code.",
        ),
    ] = False,
) -> None:
    """Rewrite a model.joblib of adscreen 0.1 as model.skops, which loads without running code.

    A pickle runs any code in it while it is read, so adscreen no longer loads one; this
    reads it once more (after checking its sha256), only for a model you trust.

    Example: adscreen models convert my-model --trust-pickle
    """
    if not trust_pickle:
        raise fail(
            f"converting unpickles {name}'s model.joblib, which runs any code in it; if you built it, add --trust-pickle"
        )
    metadata = Registry(Settings().models_dir).convert(name)
    out.print(f"converted {name}: {metadata['model_file']} sha256 {metadata['model_sha256'][:12]}")


@models_app.command("rollback")
@handles_errors
def models_rollback() -> None:
    """Make the previously current model current again."""
    registry = Registry(Settings().models_dir).rollback()
    out.print(f"current model: {registry['current']}")


DbOption = Annotated[
    Path | None, typer.Option("--db", help="Corrections database (default: ADSCREEN_FEEDBACK_DB, see the README).")
]


def _feedback_store(db: Path | None) -> FeedbackStore:
    settings = Settings()
    return FeedbackStore(db or settings.feedback_db, settings.max_ad_chars)


def _export_feedback(db: Path, model_name: str) -> Path:
    """The corrections as a labelled file beside the database, kept so that the model's metadata points at
    the very rows it learnt from (by sha256); no corrections is an error, not a silent no-op."""
    path = db.parent / "training-snapshots" / model_name / "feedback.jsonl"  # source "feedback" in the metadata
    rows = FeedbackStore(db).export(path)
    if rows == 0:
        path.unlink()
        raise InputError(f"{db}: no corrections to train on")
    err.print(f"training also on {rows} corrections from {escape(str(db))} (snapshot: {escape(str(path))})")
    return path


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
        text=_read_ad(text),
        label=label,
        note=note,
        kind=kind,
        language=language,
        model_name=name,
        model_version=current["models"].get(name, {}).get("version") if name else None,
    )
    store = _feedback_store(db)
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
    frame = _feedback_store(db).frame()
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
    table_format(output)  # a wrong extension is the first thing to say
    frame = _feedback_store(db).frame()
    write_table(frame, output, csv_escape)
    out.print(f"wrote {len(frame)} corrections to {escape(str(output))}")


class LogLevel(StrEnum):
    """Levels uvicorn accepts."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


def _served_workers(settings: Settings) -> int:
    """Scoring processes when --workers is not given: ADSCREEN_WORKERS if set, else one per core."""
    return settings.workers if "workers" in settings.model_fields_set else default_workers()


@app.command()
@handles_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Processes that score ads, first come first served (default: one per core; 0: none, score in the server).",
        ),
    ] = None,
    log_level: Annotated[LogLevel, typer.Option(help="Server log level.")] = LogLevel.info,
    access_log: Annotated[
        bool, typer.Option(help="Log one line per request (method, path, status; never the ad).")
    ] = True,
) -> None:
    """Serve the API and the web form; a model promoted or rolled back meanwhile is picked up without a restart.

    One server process speaks HTTP; single ads are scored in --workers processes beside it.
    Example: adscreen serve --port 8000, then open http://127.0.0.1:8000/
    """
    from adscreen.api import create_app, run_server

    settings = Settings()
    settings = settings.model_copy(
        update={
            "host": host or settings.host,
            "port": port or settings.port,
            "workers": workers if workers is not None else _served_workers(settings),
        }
    )
    app = create_app(settings)  # loads and checks every data file: a broken one stops here, with one line
    err.print(f"adscreen serving on http://{settings.host}:{settings.port}/ (API docs at /docs)")
    run_server(app, settings, log_level.value, access_log)


# --- Before and after training: validate the data, compare two models. ---

VALIDATION_ROWS_SHOWN = 8
COMPARE_ADS_SHOWN = 5


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key}: {value}" for key, value in counts.items())


@app.command()
@handles_errors
def validate(
    data: Annotated[list[Path], typer.Argument(help="Labelled files to train on.")],
    test: Annotated[
        list[Path] | None, typer.Option("--test", help="Held-out file to check for copies of training ads (repeat).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check labelled ads before training: bad labels, empty texts, duplicates, leakage, balance, languages.

    Exit code 2 when there are errors (training would fail or mislead), 0 when there are only warnings.

    Example: adscreen validate my_ads.csv data/ads/*.jsonl --test my_held_out.csv
    """
    from adscreen.validation import validate_files

    validation = validate_files(data, test)
    if as_json:
        out.print_json(json.dumps(validation.to_dict(), ensure_ascii=False))
    else:
        for finding in validation.findings:
            colour = "red" if finding.severity == "error" else "yellow"
            out.print(f"[bold {colour}]{finding.severity}[/] [dim]{finding.check}[/] {escape(finding.message)}")
            if finding.rows:
                shown = ", ".join(str(row) for row in finding.rows[:VALIDATION_ROWS_SHOWN])
                more = len(finding.rows) - VALIDATION_ROWS_SHOWN
                out.print(f"    {escape(shown)}" + (f" and {more} more (--json lists all)" if more > 0 else ""))
        for part, summary in validation.summary.items():
            languages = "; ".join(f"{code} ({_counts(counts)})" for code, counts in summary["languages"].items())
            out.print(f"{part}: {summary['rows']} ads; labels {_counts(summary['labels'])}; languages {languages}")
    errors = sum(finding.severity == "error" for finding in validation.findings)
    if errors:
        raise fail(f"{errors} errors in the data; fix them before training")
    if not as_json:
        out.print(f"no errors, {len(validation.findings)} warnings")


@app.command()
@handles_errors
def compare(
    new: Annotated[Path, typer.Argument(help="The new model folder.")],
    old: Annotated[Path | None, typer.Argument(help="The old model folder (default: the registry's current).")] = None,
    data: Annotated[
        list[Path] | None, typer.Option("--data", "-d", help="Labelled held-out file (repeat for several).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the comparison to a .html or .md file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Compare two models on the same held-out ads: metrics, recall at the old false-alarm rate, disagreements.

    Example: adscreen compare models/my-model --data held_out.csv -o compare.html
    """
    from adscreen.comparison import compare_files, output_template, render_comparison

    if not data:
        raise fail("give held-out labelled data with --data FILE (repeat for several files)")
    if output is not None:
        output_template(output)  # a wrong extension fails before the models are loaded
    settings = Settings()
    new_model = load_model(new, settings.models_dir).loaded
    old_model = load_model(old, settings.models_dir).loaded
    comparison = compare_files(new_model, old_model, data)
    if output is not None:
        output.write_text(render_comparison(comparison, output), encoding="utf-8")
    if as_json:
        out.print_json(json.dumps(comparison, ensure_ascii=False))
        return
    models = comparison["models"]
    out.print(
        f"old {models['old']['name']} ({models['old']['version']})  vs  new {models['new']['name']} ({models['new']['version']})"
    )
    out.print(f"on {comparison['data']['rows']} held-out ads, {comparison['data']['positives']} scams")
    out.print(f"  {'':20} {'old':>8} {'new':>8}")
    for key in ("pr_auc", "roc_auc", "precision", "recall", "f1", "false_positive_rate"):
        out.print(f"  {key:20} {comparison['overall']['old'][key]!s:>8} {comparison['overall']['new'][key]!s:>8}")
    at = comparison["new_at_old_false_alarm_rate"]
    out.print(
        f"at the old false-alarm rate {at['target_false_positive_rate']}: recall old {at['old_recall']}, new {at['recall']}"
    )
    for column in ("per_language", "per_kind"):
        for value, m in comparison[column].items():
            if column == "per_kind" and m["old"] == m["new"]:
                continue  # dozens of kinds: show only those that changed (--json and -o show all)
            out.print(
                f"  {column[4:]} {value:28} n={m['new']['n']:4}  recall {m['old']['recall']} -> {m['new']['recall']}"
                f"  false alarms {m['old']['false_positive_rate']} -> {m['new']['false_positive_rate']}"
            )
    flips = comparison["label_flips"]
    out.print(
        f"{flips['total']} ads change label; the new model is right on {flips['new_right']}, the old on {flips['old_right']}"
    )
    for ad in comparison["disagreements"][:COMPARE_ADS_SHOWN]:
        where = f"{Path(ad['file']).name}:{ad['row']}" + (f" ({ad['id']})" if ad["id"] else "")
        out.print(
            f"  {escape(where)} label {ad['label']}: risk {ad['old_risk']} -> {ad['new_risk']}"
            f" ({ad['old_label']} -> {ad['new_label']})"
        )
    if output is not None:
        out.print(f"wrote {output}")


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
    csv_escape: CsvEscapeOption = True,
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
    write_table(found.table, output, csv_escape)
    if ads_output is not None:
        write_table(dump.frame.assign(campaign_id=ad_campaign_ids(found.grouping)), ads_output, csv_escape)
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
