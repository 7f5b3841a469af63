"""The training report and the model card: what a model gets right and wrong on ads it did not see.

Everything here is measured on held-out predictions made during training: the 20%
test split, scored by a model fitted on the other 80% (see ``model``). Headline
metrics are read from the model's metadata, so the report and ``metadata.json``
cannot disagree. Plots are PNG files beside ``report.html``, drawn with
matplotlib's object API (no pyplot, so no global state and no display needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from adscreen.features import FLAG_PREFIX
from adscreen.model import AdModel
from adscreen.training.corpus import EMSCAD_SOURCE
from adscreen.training.fit import TrainingResult
from adscreen.training.metrics import METRIC_PARTS, binary_metrics, false_positive_rate, group_rates, real_rate_weights

REPORT_FILE = "report.html"
MODEL_CARD_FILE = "MODEL_CARD.md"
PLOTS_DIR = "plots"
TOP_FEATURES = 30
WORST_MISTAKES = 5
SNIPPET_CHARS = 280
CALIBRATION_BINS = 10
_FEATURE_KINDS = {"word": "words", "char": "characters", "flags": "rule"}

# Markdown's own syntax that a value must not bring in: a backtick would end a code span, a
# pipe a table cell, a line break the table row or paragraph, a bracket would start a link.
# HTML's <, >, & and quotes are escaped by autoescaping before these are.
_MARKDOWN_ESCAPES = str.maketrans({"`": "&#96;", "|": "&#124;", "[": "&#91;", "]": "&#93;", "\r": " ", "\n": " "})


@pass_context
def _escape_markdown_value(context: Context, value: object) -> object:
    """Every ``{{ value }}`` of a ``.md`` template, escaped for Markdown (the HTML part is autoescaping's).

    Values come from data (file names, languages, kinds, sources, ad snippets), and Markdown
    passes raw HTML through: a ``<script>`` in a ``language`` cell ran when the model card was
    rendered in a browser. Applied by the Environment to every placeholder, so sections
    added to the templates later are escaped too. Template text, macro output and values
    marked safe (``Markup``) are left as they are.
    """
    if isinstance(value, Markup) or not (context.name or "").endswith(".md"):
        return value
    return Markup(str(escape(value)).translate(_MARKDOWN_ESCAPES))


templates = Environment(
    loader=PackageLoader("adscreen.training", "templates"),
    # HTML escaping in the Markdown templates too: Markdown renders raw HTML.
    autoescape=select_autoescape(enabled_extensions=("html", "md"), default=False),
    finalize=_escape_markdown_value,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Feature:
    kind: str
    term: str
    weight: float


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """An ad shortened for a table: one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def strongest_features(model: AdModel, count: int = TOP_FEATURES) -> tuple[list[Feature], list[Feature]]:
    """The features with the largest weights towards 'scam' and towards 'legitimate'.

    A weight is the coefficient times its block's ``transformer_weights`` factor: what a value of 1 in that column
    adds to the decision, so that a red flag (weighted 0.35) and a character n-gram (weighted 3) compare fairly.
    """
    union = model.pipeline.named_steps["features"]
    names = union.get_feature_names_out()
    factors = union.transformer_weights or {}
    weights = model.pipeline.named_steps["classifier"].coef_[0] * np.array(
        [factors.get(str(name).partition("__")[0], 1.0) for name in names]
    )
    order = np.argsort(weights)

    def feature(index: int) -> Feature:
        block, _, term = str(names[index]).partition("__")
        return Feature(
            _FEATURE_KINDS.get(block, block), term.removeprefix(FLAG_PREFIX), round(float(weights[index]), 3)
        )

    raising = [feature(index) for index in order[::-1][:count] if weights[index] > 0]
    lowering = [feature(index) for index in order[:count] if weights[index] < 0]
    return raising, lowering


def worst_mistakes(
    frame: pd.DataFrame, risks: np.ndarray, threshold: float, count: int = WORST_MISTAKES
) -> dict[str, list[dict]]:
    """The legitimate ads given the highest risk, and the scams given the lowest, among those misjudged."""
    ads = frame.assign(risk=risks)
    false_alarms = ads[(ads["label"] == 0) & (ads["risk"] >= threshold)].nlargest(count, "risk")
    misses = ads[(ads["label"] == 1) & (ads["risk"] < threshold)].nsmallest(count, "risk")
    return {"false_positives": _ad_rows(false_alarms), "false_negatives": _ad_rows(misses)}


def _ad_rows(ads: pd.DataFrame) -> list[dict]:
    return [
        {
            "where": f"{Path(ad.file).name}:{ad.row}" + (f" ({ad.id})" if ad.id else ""),
            "language": ad.language,
            "kind": ad.kind,
            "risk": round(float(ad.risk), 3),
            "text": snippet(ad.text),
        }
        for ad in ads.itertuples()
    ]


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(5.5, 4.2), dpi=100, layout="constrained")
    return figure, figure.add_subplot()


def _held_out(result: TrainingResult) -> tuple[tuple[str, pd.DataFrame, np.ndarray], ...]:
    return (
        ("test split", result.test_frame, result.test_risks),
        ("cross-validation", result.cv_frame, result.cv_risks),
    )


def plot_curves(result: TrainingResult, kind: str, path: Path) -> None:
    """PR (``kind="pr"``) or ROC curves of the test split and of cross-validation, the threshold marked by a dot."""
    figure, axes = _figure()
    threshold = result.model.threshold
    for name, frame, risks in _held_out(result):
        labels, weights = frame["label"].to_numpy(), real_rate_weights(frame)
        at_threshold = binary_metrics(labels, risks, threshold, weights)
        if kind == "pr":
            precision, recall, _ = precision_recall_curve(labels, risks, sample_weight=weights)
            (line,) = axes.plot(recall, precision, label=name)
            point = (at_threshold["recall"], at_threshold["precision"])
        else:
            fpr, tpr, _ = roc_curve(labels, risks, sample_weight=weights)
            (line,) = axes.plot(fpr, tpr, label=name)
            point = (false_positive_rate(labels, risks, threshold, weights), at_threshold["recall"])
        axes.plot(*point, "o", color=line.get_color())
    if kind == "pr":
        axes.set(xlabel="recall (share of scams flagged)", ylabel="precision", title="Precision-recall")
    else:
        axes.plot([0, 1], [0, 1], ":", color="grey")
        axes.set(xlabel="false-alarm rate", ylabel="recall", title="ROC")
    axes.set(xlim=(0, 1.01), ylim=(0, 1.01))
    axes.legend(title=f"dot: threshold {threshold}", loc="lower left" if kind == "pr" else "lower right")
    figure.savefig(path)


def plot_calibration(result: TrainingResult, path: Path) -> None:
    """Predicted risk against the observed share of scams, in bins of equal size."""
    figure, axes = _figure()
    axes.plot([0, 1], [0, 1], ":", color="grey", label="perfect")
    for name, frame, risks in _held_out(result):
        observed, predicted = calibration_curve(frame["label"], risks, n_bins=CALIBRATION_BINS, strategy="quantile")
        axes.plot(predicted, observed, "o-", label=name)
    axes.set(xlabel="predicted risk", ylabel="observed share of scams", title="Calibration", xlim=(0, 1), ylim=(0, 1))
    axes.legend(loc="upper left")
    figure.savefig(path)


def confusion_counts(labels: np.ndarray, risks: np.ndarray, threshold: float) -> dict[str, int]:
    predicted = risks >= threshold
    return {
        "true_negatives": int(((labels == 0) & ~predicted).sum()),
        "false_positives": int(((labels == 0) & predicted).sum()),
        "false_negatives": int(((labels == 1) & ~predicted).sum()),
        "true_positives": int(((labels == 1) & predicted).sum()),
    }


def plot_confusion(counts: dict[str, int], threshold: float, path: Path) -> None:
    """Test-split ads by true label and by the model's call at the threshold (counts, unweighted)."""
    figure, axes = _figure()
    grid = np.array(
        [[counts["true_negatives"], counts["false_positives"]], [counts["false_negatives"], counts["true_positives"]]]
    )
    axes.imshow(grid, cmap="Blues")
    for (row, column), value in np.ndenumerate(grid):
        axes.text(
            column, row, str(value), ha="center", va="center", color="white" if value > grid.max() / 2 else "black"
        )
    axes.set(
        xticks=[0, 1],
        yticks=[0, 1],
        xticklabels=["looks_ok", "suspicious"],
        yticklabels=["legitimate", "scam or lure"],
        xlabel="model's call",
        ylabel="true label",
        title=f"Test split at threshold {threshold}",
    )
    figure.savefig(path)


def metric_rows(section: dict) -> list[tuple[str, str, dict]]:
    """The rows of a metrics section that are one set of metrics each, as (label, key path, metrics): the
    named parts, then each family."""
    named = [(part.replace("_", " "), part, section[part]) for part in METRIC_PARTS if section.get(part)]
    families = section.get("per_family", {}).items()
    return named + [(f"family {family}", f"per_family.{family}", metrics) for family, metrics in families]


def write_report(result: TrainingResult, metadata: dict, directory: Path) -> Path:
    """Write ``report.html`` and its plots into the model folder; returns the report's path."""
    plots = directory / PLOTS_DIR
    plots.mkdir(parents=True, exist_ok=True)
    threshold = result.model.threshold
    counts = confusion_counts(result.test_frame["label"].to_numpy(), result.test_risks, threshold)
    plot_curves(result, "pr", plots / "precision_recall.png")
    plot_curves(result, "roc", plots / "roc.png")
    plot_calibration(result, plots / "calibration.png")
    plot_confusion(counts, threshold, plots / "confusion.png")
    raising, lowering = strongest_features(result.model)
    html = templates.get_template("report.html").render(
        metadata=metadata,
        plots_dir=PLOTS_DIR,
        confusion=counts,
        per_kind={
            "test": group_rates(result.test_frame, result.test_risks, threshold, "kind"),
            "cross_validation": group_rates(result.cv_frame, result.cv_risks, threshold, "kind"),
        },
        metric_rows=metric_rows,
        raising=raising,
        lowering=lowering,
        mistakes=worst_mistakes(result.test_frame, result.test_risks, threshold),
    )
    path = directory / REPORT_FILE
    path.write_text(html, encoding="utf-8")
    return path


def render_model_card(metadata: dict) -> str:
    """The model card (Markdown) of a model, from its metadata alone."""
    counts = metadata["data"]["by_source_and_label"]
    scams = sum(count for key, count in counts.items() if key.endswith(":1"))
    return templates.get_template("model_card.md").render(
        metadata=metadata,
        metric_rows=metric_rows,
        scam_share=scams / max(metadata["data"]["rows"], 1),
        has_emscad=any(key.startswith(f"{EMSCAD_SOURCE}:") for key in counts),
    )


def write_model_card(metadata: dict, directory: Path) -> Path:
    path = directory / MODEL_CARD_FILE
    path.write_text(render_model_card(metadata), encoding="utf-8")
    return path
