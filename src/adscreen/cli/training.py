"""``adscreen train``, ``evaluate``, ``validate`` and ``compare``: building a model and judging it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from adscreen import load_model
from adscreen.cli.app import (
    app,
    err,
    export_feedback,
    fail,
    handles_errors,
    out,
)
from adscreen.config import REGULARISATION_C, Settings
from adscreen.registry import Registry

if TYPE_CHECKING:
    pass


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

    Example: adscreen train data/ads/*.jsonl data/real/*.jsonl ../shared/data/emscad_train.csv -o models/my-model --feedback
    """
    from adscreen.training.report import MODEL_CARD_FILE, REPORT_FILE
    from adscreen.training.runs import train_to_folder

    if feedback or feedback_db:  # first, so a correction wins over the same text with another label elsewhere
        data = [export_feedback(feedback_db or Settings().feedback_db, output.name), *data]
    metadata = train_to_folder(
        data,
        output,
        c=c,
        say=lambda line: err.print(escape(line)),
        false_alarm_rate=false_alarm_rate,
        max_chars=Settings().max_ad_chars,
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
    from adscreen.training.metrics import HOTLINE_FALSE_ALARM_RATE
    from adscreen.training.report import metric_rows
    from adscreen.training.runs import evaluate as evaluate_model

    settings = Settings()
    scorer = load_model(model, settings.models_dir, settings.max_ad_chars)
    report = evaluate_model(scorer.loaded, data, settings.max_ad_chars)
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
    for source, rates in report["per_source"].items():
        parts = [f"recall {rates['recall']:.2%}"] if rates["recall"] is not None else []
        if rates["false_positive_rate"] is not None:
            parts.append(f"false alarms {rates['false_positive_rate']:.2%}")
        out.print(f"  source {source}  n={rates['n']}  " + "  ".join(parts))
    at_rate = report["recall_at_false_alarm_rate"]
    if at_rate is not None:
        cut = "above every risk" if at_rate["threshold"] is None else f"{at_rate['threshold']:.4f}"
        out.print(
            f"  recall at {HOTLINE_FALSE_ALARM_RATE:.0%} false alarms: {at_rate['recall']:.2%}"
            f" (risk cut {cut}, false alarms {at_rate['false_positive_rate']:.2%})"
        )


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
    from adscreen.training.validation import validate_files

    validation = validate_files(data, test, Settings().max_ad_chars)
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
    from adscreen.training.compare import compare_files, output_template, render_comparison

    if not data:
        raise fail("give held-out labelled data with --data FILE (repeat for several files)")
    if output is not None:
        output_template(output)  # a wrong extension fails before the models are loaded
    settings = Settings()
    new_model = load_model(new, settings.models_dir).loaded
    old_model = load_model(old, settings.models_dir).loaded
    comparison = compare_files(new_model, old_model, data, max_chars=settings.max_ad_chars)
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
    for difference in comparison["differences"].values():
        out.print(
            f"  {difference['name']}, new - old: {difference['difference']}"
            f" (95% interval {difference['low']} to {difference['high']}): {difference['meaning']}"
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
