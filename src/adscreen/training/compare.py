"""Two models side by side on the same held-out ads: is the new one better, and where do they disagree?

The fair question for an NGO swapping models is "at the false-alarm rate we live
with today, how many more scams does the new model catch?", so besides each
model's metrics at its own threshold the comparison finds the new model's
threshold with the old one's false-alarm rate and reports its recall there.
Weighted as in ``metrics`` (EMSCAD's legitimate ads count at its real fraud rate).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from adscreen.config import MAX_AD_CHARS
from adscreen.errors import InputError
from adscreen.registry import LoadedModel
from adscreen.training.corpus import read_labelled
from adscreen.training.metrics import (
    BOOTSTRAP_ROUNDS,
    binary_metrics,
    false_positive_rate,
    group_rates,
    paired_difference,
    real_rate_weights,
    recall_at_false_positive_rate,
)
from adscreen.training.report import snippet, templates

DISAGREEMENTS = 20
# What a difference's interval says (``metrics.paired_difference``), as reports and the terminal word it.
VERDICTS = {
    "better": "the new model is better: the whole interval is above 0",
    "worse": "the new model is worse: the whole interval is below 0",
    "unclear": "no clear difference: another draw of held-out ads could reverse it",
}
DIFFERENCE_NAMES = {"pr_auc": "PR-AUC", "recall_at_old_false_alarm_rate": "recall at the old false-alarm rate"}
ROLES = ("old", "new")
FORMATS = {".html": "compare.html", ".htm": "compare.html", ".md": "compare.md"}


def _describe(loaded: LoadedModel) -> dict:
    return {
        "name": loaded.name,
        "version": loaded.version,
        "path": str(loaded.path),
        "threshold": loaded.model.threshold,
    }


def _by_group(frame: pd.DataFrame, risks: dict, thresholds: dict, column: str) -> dict[str, dict]:
    """Each value of ``column`` with both models' rates; empty when the data lacks the column."""
    rates = {role: group_rates(frame, risks[role], thresholds[role], column) for role in ROLES}
    return {value: {role: rates[role][value] for role in ROLES} for value in rates["new"]}


def disagreements(frame: pd.DataFrame, risks: dict, thresholds: dict, count: int = DISAGREEMENTS) -> list[dict]:
    """Ads whose label the models call differently, then the largest risk changes; largest change first."""
    ads = frame.assign(
        old_risk=risks["old"],
        new_risk=risks["new"],
        old_label=np.where(risks["old"] >= thresholds["old"], "suspicious", "looks_ok"),
        new_label=np.where(risks["new"] >= thresholds["new"], "suspicious", "looks_ok"),
    )
    ads["change"] = ads["new_risk"] - ads["old_risk"]
    ads["flipped"] = ads["old_label"] != ads["new_label"]
    ads["size"] = ads["change"].abs()
    chosen = ads.sort_values(["flipped", "size"], ascending=False, kind="stable").head(count)
    return [
        {
            "file": ad.file,
            "row": int(ad.row),
            "id": ad.id,
            "label": int(ad.label),
            "language": ad.language,
            "kind": ad.kind,
            "old_risk": round(float(ad.old_risk), 4),
            "new_risk": round(float(ad.new_risk), 4),
            "change": round(float(ad.change), 4),
            "old_label": ad.old_label,
            "new_label": ad.new_label,
            "text": snippet(ad.text),
        }
        for ad in chosen.itertuples()
        if ad.flipped or ad.size > 0
    ]


def _recall_gain(labels: np.ndarray, risks: dict, thresholds: dict, weights: np.ndarray, at: np.ndarray) -> float:
    """On the ads at ``at``: the new model's recall at the old one's false-alarm rate, minus the old one's recall."""
    labels, weights = labels[at], weights[at]
    old_risks = risks["old"][at]
    target = false_positive_rate(labels, old_risks, thresholds["old"], weights)
    old_recall = weights[(labels == 1) & (old_risks >= thresholds["old"])].sum() / weights[labels == 1].sum()
    return recall_at_false_positive_rate(labels, risks["new"][at], target, weights)["recall"] - float(old_recall)


def compare_models(new: LoadedModel, old: LoadedModel, frame: pd.DataFrame, count: int = DISAGREEMENTS) -> dict:
    """Both models' metrics on the same labelled ads, the new one at the old one's false-alarm rate, and disagreements."""
    frame = frame.reset_index(drop=True)
    labels = frame["label"].to_numpy()
    if len(np.unique(labels)) < 2:
        raise InputError("comparing models needs held-out ads with both labels (0 and 1)")
    texts = list(frame["text"])
    loaded = {"old": old, "new": new}
    risks = {role: np.asarray(loaded[role].model.risk(texts)) for role in ROLES}
    thresholds = {role: loaded[role].model.threshold for role in ROLES}
    weights = real_rate_weights(frame)
    overall = {
        role: {
            **binary_metrics(labels, risks[role], thresholds[role], weights),
            "false_positive_rate": round(false_positive_rate(labels, risks[role], thresholds[role], weights), 4),
        }
        for role in ROLES
    }
    old_rate = false_positive_rate(labels, risks["old"], thresholds["old"], weights)
    differences = {
        "pr_auc": paired_difference(
            labels,
            lambda at: (
                average_precision_score(labels[at], risks["new"][at], sample_weight=weights[at])
                - average_precision_score(labels[at], risks["old"][at], sample_weight=weights[at])
            ),
        ),
        "recall_at_old_false_alarm_rate": paired_difference(
            labels, partial(_recall_gain, labels, risks, thresholds, weights)
        ),
    }
    for name, difference in differences.items():
        difference |= {"name": DIFFERENCE_NAMES[name], "meaning": VERDICTS[difference["verdict"]]}
    new_flags = risks["new"] >= thresholds["new"]
    flips = new_flags != (risks["old"] >= thresholds["old"])
    new_right = new_flags == (labels == 1)
    return {
        "models": {role: _describe(loaded[role]) for role in ROLES},
        "data": {"rows": len(frame), "positives": int(labels.sum()), "files": sorted(set(frame["file"]))},
        "overall": overall,
        "new_at_old_false_alarm_rate": {
            "target_false_positive_rate": round(old_rate, 4),
            "old_recall": overall["old"]["recall"],
            **recall_at_false_positive_rate(labels, risks["new"], old_rate, weights),
        },
        # Is a gain more than the draw of held-out ads? Each with its 95% interval (``metrics.paired_difference``).
        "differences": differences,
        "bootstrap_rounds": BOOTSTRAP_ROUNDS,
        "per_language": _by_group(frame, risks, thresholds, "language"),
        "per_kind": _by_group(frame, risks, thresholds, "kind"),
        "label_flips": {
            "total": int(flips.sum()),
            "to_suspicious": int((flips & new_flags).sum()),
            "to_looks_ok": int((flips & ~new_flags).sum()),
            "new_right": int((flips & new_right).sum()),
            "old_right": int((flips & ~new_right).sum()),
        },
        "disagreements": disagreements(frame, risks, thresholds, count),
    }


def compare_files(
    new: LoadedModel, old: LoadedModel, data: list[Path], count: int = DISAGREEMENTS, max_chars: int = MAX_AD_CHARS
) -> dict:
    """Read labelled held-out files and compare the two models on them."""
    return compare_models(new, old, read_labelled(data, max_chars).frame, count)


def output_template(path: Path) -> str:
    """The template that renders a comparison into ``path``, chosen by its extension."""
    template = FORMATS.get(path.suffix.lower())
    if template is None:
        raise InputError(f"{path}: write the comparison to a .html or .md file")
    return template


def render_comparison(comparison: dict, path: Path) -> str:
    """The comparison as HTML or Markdown, for the file ``path``."""
    return templates.get_template(output_template(path)).render(c=comparison)
