"""Evaluation metrics of the scam class: PR-AUC first, since fraud is rare in real data.

Pure functions of labels, probabilities and weights; the EMSCAD part is weighted
so that its legitimate ads count as often as they occur in the real corpus.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_fscore_support, roc_auc_score, roc_curve

from adscreen.training.corpus import EMSCAD_REAL_FRAUD_RATE, EMSCAD_SOURCE, WRITTEN

MIN_GROUP_SIZE = 10
# A short ad, for the length-matched slice: real spam has a median of 20 words, real vacancies 152.
SHORT_AD_WORDS = 60
# The parts of a metrics section that are one set of metrics each, in the order reports show them.
METRIC_PARTS = ("overall", "sample_ads", "emscad_real_rate", "emscad_unweighted", "short_ads")
# The recall of held-out real spam is read where at most this share of real vacancies is flagged.
HOTLINE_FALSE_ALARM_RATE = 0.03
# Resamples of the held-out ads behind a difference's interval (``paired_difference``), and their seed.
BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 20261208


def real_rate_weights(frame: pd.DataFrame) -> np.ndarray:
    """Weight 1 for every ad except EMSCAD's legitimate ones, which count up to the real fraud rate."""
    weights = np.ones(len(frame))
    emscad = (frame["source"] == EMSCAD_SOURCE).to_numpy()
    labels = frame["label"].to_numpy()
    frauds = int((emscad & (labels == 1)).sum())
    legit = int((emscad & (labels == 0)).sum())
    if frauds and legit:
        factor = frauds * (1 - EMSCAD_REAL_FRAUD_RATE) / EMSCAD_REAL_FRAUD_RATE / legit
        weights[emscad & (labels == 0)] = factor
    return weights


def binary_metrics(labels: np.ndarray, risks: np.ndarray, threshold: float, weights: np.ndarray | None = None) -> dict:
    """PR-AUC, ROC-AUC, and precision/recall/F1 of the scam class at the threshold."""
    labels = np.asarray(labels)
    risks = np.asarray(risks)
    predicted = (risks >= threshold).astype(int)
    both_classes = len(np.unique(labels)) == 2
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, average="binary", pos_label=1, sample_weight=weights, zero_division=0
    )
    return {
        "n": len(labels),
        "positives": int(labels.sum()),
        "pr_auc": round(float(average_precision_score(labels, risks, sample_weight=weights)), 4)
        if both_classes
        else None,
        "roc_auc": round(float(roc_auc_score(labels, risks, sample_weight=weights)), 4) if both_classes else None,
        "precision": round(float(precision), 4),
        "recall": round(float(recall), 4),
        "f1": round(float(f1), 4),
    }


def grouped_metrics(frame: pd.DataFrame, risks: np.ndarray, threshold: float, column: str) -> dict[str, dict]:
    """Metrics for each value of a column (language, kind, source) with at least a few ads."""
    results = {}
    weights = real_rate_weights(frame)
    for value, index in frame.groupby(column).indices.items():
        if len(index) >= MIN_GROUP_SIZE and value:
            results[str(value)] = binary_metrics(
                frame["label"].to_numpy()[index], risks[index], threshold, weights[index]
            )
    return results


def summary_metrics(frame: pd.DataFrame, risks: np.ndarray, threshold: float) -> dict:
    """Overall (real-rate weighted), per language and family, for the written sample ads, for EMSCAD at its
    real rate, on the short ads alone (length-matched: real spam is short, real vacancies long) and the
    false-alarm rate of each language at the threshold."""
    labels = frame["label"].to_numpy()
    weights = real_rate_weights(frame)
    emscad = (frame["source"] == EMSCAD_SOURCE).to_numpy()
    result = {
        "overall": binary_metrics(labels, risks, threshold, weights),
        "per_language": grouped_metrics(frame[~emscad], risks[~emscad], threshold, "language"),
        "per_family": grouped_metrics(frame, risks, threshold, "family"),
        "false_alarms_by_language": false_alarms_by_language(frame, risks, threshold),
    }
    written = (frame["family"] == WRITTEN).to_numpy()
    if written.any():
        result["sample_ads"] = binary_metrics(labels[written], risks[written], threshold)
    if emscad.any():
        result["emscad_real_rate"] = binary_metrics(labels[emscad], risks[emscad], threshold, weights[emscad])
        result["emscad_unweighted"] = binary_metrics(labels[emscad], risks[emscad], threshold)
    short = short_ads(frame) & ~emscad
    if len(np.unique(labels[short])) == 2:
        result["short_ads"] = binary_metrics(labels[short], risks[short], threshold)
    return result


def held_out_source_metrics(frame: pd.DataFrame, risks: np.ndarray, threshold: float) -> dict:
    """Real ads scored with their whole source held out: per language, source, language and kind, on the
    short ads alone, and the recall at the false-alarm rate a hotline can live with."""
    labels = frame["label"].to_numpy()
    short = short_ads(frame)
    return {
        "overall": binary_metrics(labels, risks, threshold),
        "per_language": grouped_metrics(frame, risks, threshold, "language"),
        "recall_at_false_alarm_rate": hotline_recall(labels, risks),
        "short_ads": binary_metrics(labels[short], risks[short], threshold)
        if len(np.unique(labels[short])) == 2
        else None,
        "false_alarms_by_language": false_alarms_by_language(frame, risks, threshold),
        "per_source": group_rates(frame, risks, threshold, "source"),
        "per_language_kind": group_rates(
            frame.assign(language_kind=frame["language"].astype(str) + ":" + frame["kind"].astype(str)),
            risks,
            threshold,
            "language_kind",
        ),
    }


def short_ads(frame: pd.DataFrame) -> np.ndarray:
    """Ads of at most ``SHORT_AD_WORDS`` words: where real spam and informal real posts meet."""
    return (frame["text"].str.split().str.len() <= SHORT_AD_WORDS).to_numpy()


def false_alarms_by_language(frame: pd.DataFrame, risks: np.ndarray, threshold: float) -> dict[str, dict]:
    """Share of each language's legitimate ads flagged at the threshold (EMSCAD at its real rate)."""
    weights = real_rate_weights(frame)
    labels = frame["label"].to_numpy()
    result = {}
    for language, index in sorted(frame.groupby("language").indices.items()):
        legitimate = index[labels[index] == 0]
        if len(legitimate) and language:
            result[str(language)] = {
                "legitimate": len(legitimate),
                "false_alarm_rate": round(
                    false_positive_rate(labels[legitimate], risks[legitimate], threshold, weights[legitimate]), 4
                ),
            }
    return result


def false_positive_rate(
    labels: np.ndarray, risks: np.ndarray, threshold: float, weights: np.ndarray | None = None
) -> float:
    """Share of legitimate ads (weighted) flagged at the threshold: the false-alarm rate."""
    labels, risks = np.asarray(labels), np.asarray(risks)
    weights = np.ones(len(labels)) if weights is None else np.asarray(weights)
    legitimate = labels == 0
    return float(weights[legitimate & (risks >= threshold)].sum() / max(weights[legitimate].sum(), 1e-12))


def hotline_recall(labels: np.ndarray, risks: np.ndarray, weights: np.ndarray | None = None) -> dict | None:
    """``recall_at_false_positive_rate`` at ``HOTLINE_FALSE_ALARM_RATE``; None where the ads have one label."""
    if len(np.unique(labels)) < 2:
        return None
    return recall_at_false_positive_rate(labels, risks, HOTLINE_FALSE_ALARM_RATE, weights)


def recall_at_false_positive_rate(
    labels: np.ndarray, risks: np.ndarray, target: float, weights: np.ndarray | None = None
) -> dict:
    """The lowest threshold whose false-alarm rate does not exceed ``target``, and the recall there.

    Compares two models fairly: each flags the same share of legitimate ads. The
    threshold is None when only flagging nothing stays within the target.
    """
    fpr, tpr, thresholds = roc_curve(labels, risks, sample_weight=weights, drop_intermediate=False)
    index = int(np.flatnonzero(fpr <= target + 1e-12).max())
    return {
        "threshold": float(thresholds[index]) if np.isfinite(thresholds[index]) else None,
        "recall": round(float(tpr[index]), 4),
        "false_positive_rate": round(float(fpr[index]), 4),
    }


def group_rates(frame: pd.DataFrame, risks: np.ndarray, threshold: float, column: str) -> dict[str, dict]:
    """For each value of a column (even small groups, and groups of one label only, like an ad kind):
    size, recall, false-alarm rate, and PR-AUC and F1 where the group has both labels."""
    results = {}
    weights = real_rate_weights(frame)
    labels = frame["label"].to_numpy()
    for value, index in sorted(frame.groupby(column).indices.items()):
        if not value:
            continue
        group_labels, group_risks, group_weights = labels[index], risks[index], weights[index]
        metrics = binary_metrics(group_labels, group_risks, threshold, group_weights)
        has_scams, has_legitimate = metrics["positives"] > 0, metrics["positives"] < len(index)
        results[str(value)] = {
            "n": len(index),
            "positives": metrics["positives"],
            "pr_auc": metrics["pr_auc"],
            "f1": metrics["f1"] if has_scams and has_legitimate else None,
            "recall": metrics["recall"] if has_scams else None,
            "false_positive_rate": round(false_positive_rate(group_labels, group_risks, threshold, group_weights), 4)
            if has_legitimate
            else None,
        }
    return results


def paired_difference(
    labels: np.ndarray,
    difference: Callable[[np.ndarray], float],
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = BOOTSTRAP_SEED,
) -> dict:
    """A difference between two models on the same ads (``difference(index)`` computes it on the ads at
    ``index``), with its 95% interval over resamples of the ads: scams and legitimate ads each drawn with
    replacement from their own, both models scored on the same draw.

    Why: on a few hundred held-out ads a gain of 0.01 to 0.05 can be the draw of ads, not the model.
    ``verdict`` is "better" or "worse" only when the whole interval lies on one side of 0. The interval
    covers the draw of held-out ads only: two fits that differ slightly in their data can differ by more
    (in December 2026, relabelling 20 ads' language moved held-out recall by 0.05), which it cannot show.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    scams, legitimate = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    draws = np.array(
        [
            difference(np.concatenate([rng.choice(scams, len(scams)), rng.choice(legitimate, len(legitimate))]))
            for _ in range(rounds)
        ]
    )
    low, high = (float(value) for value in np.quantile(draws, [0.025, 0.975]))
    verdict = "better" if low > 0 else ("worse" if high < 0 else "unclear")
    return {  # + 0.0: a gain that rounds to nothing reads 0.0, not -0.0
        "difference": round(float(difference(np.arange(len(labels)))), 4) + 0.0,
        "low": round(low, 4) + 0.0,
        "high": round(high, 4) + 0.0,
        "verdict": verdict,
    }
