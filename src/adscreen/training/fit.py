"""Fitting, calibrating and evaluating the model (``model.AdModel``) on a labelled frame.

Procedure (fixed seeds, so ``adscreen train`` reproduces a model exactly):
1. Every ad gets a training weight: each family (written sample ads, EMSCAD, real
   ads), language and label together weigh as the square root of their size (EMSCAD
   twice that, see ``FAMILY_WEIGHTS``), each source within them as the square root of
   its own, and the two labels weigh the same within each language and in all. Real
   Russian spam outnumbers real Russian vacancies six to one, and there is no Polish
   spam at all: unweighted, the model would learn "Russian = spam" and "Polish = legitimate".
2. Split the ads 80/20, stratified by source and label, grouped by text so that
   reposts of one ad never straddle the split.
3. On the 80%, 5-fold cross-validation gives out-of-fold decision values. Each
   language's values are shifted so that its legitimate ads cross the same
   point at the same rate (``language_offsets``: a risk means the same false-alarm
   rate in every language), then a one-feature logistic regression (Platt
   scaling) calibrates the risk, and the threshold and band edges are chosen on
   those held-out risks.
4. The 20% test split is scored by a model fitted on the 80%: the in-source estimate.
5. Where the data hold real ads from two or more sources, each source is held out
   whole in turn and scored by a model fitted on everything else: the estimate for
   ads from a board or channel the model has never seen.
6. The shipped model is refitted on all ads, with the calibration, offsets,
   threshold and bands of step 3.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from adscreen.features import drop_stop_words
from adscreen.model import REGULARISATION_C, SEED, AdModel, Bands, build_pipeline, decision_values
from adscreen.rules.redflags import FlagSet
from adscreen.text import script_language
from adscreen.training.corpus import EMSCAD, REAL
from adscreen.training.metrics import false_positive_rate, held_out_source_metrics, real_rate_weights, summary_metrics

FOLDS = 5
# The high band is where, in cross-validation, at least this share of flagged ads were scams.
HIGH_BAND_PRECISION = 0.9
# Below the low band edge, cross-validation missed at most this share of scams.
LOW_BAND_MISS_RATE = 0.05
# Each language's decision values are shifted so that this share of its legitimate ads lie above one
# common point; languages with fewer legitimate ads keep a shift pulled towards 0 (their estimate is noisy).
ALIGNED_FALSE_ALARM_RATE = 0.02
# A language's top 2% must hold at least five legitimate ads to be measured: from fewer, the shift followed
# one or two ads (a retrained model's Russian shift swung from -0.4 to -1.1 with 30 English ads added).
MIN_LEGITIMATE_PER_LANGUAGE = 250
# A family's cells weigh this many times their square root. EMSCAD is the only family of real English
# ads, and the square root shrinks its 1,500 ads to little more than the 300 written English ones, so
# the model ranked real English scams below a plain TF-IDF trained on EMSCAD alone. Counting it twice
# raised cross-validated EMSCAD PR-AUC (0.824 -> 0.839) and the held-out-source figures (Polish
# false alarms 12.2% -> 10.6%) at no cost to the written ads; four times cost Ukrainian held-out PR-AUC.
FAMILY_WEIGHTS = {EMSCAD: 2.0}
OFFSET_SHRINKAGE_ADS = 50


@dataclass
class TrainingResult:
    """The shipped model and what was measured while building it."""

    model: AdModel
    metrics: dict
    split: dict
    test_frame: pd.DataFrame
    test_risks: np.ndarray
    cv_frame: pd.DataFrame
    cv_risks: np.ndarray
    # Real ads scored with their whole source held out (empty when the data have fewer than two sources).
    source_frame: pd.DataFrame
    source_risks: np.ndarray


def text_groups(texts: pd.Series) -> np.ndarray:
    """A group id per ad: ads whose letters are the same (reposts) share one."""
    keys = texts.map(lambda text: re.sub(r"[\W\d_]+", "", text.lower()))
    return np.array([int(hashlib.sha1(key.encode()).hexdigest()[:12], 16) for key in keys])


def _strata(frame: pd.DataFrame) -> np.ndarray:
    return (frame["source"].astype(str) + ":" + frame["label"].astype(str)).to_numpy()


def training_weights(frame: pd.DataFrame) -> np.ndarray:
    """Each ad's weight in the fit (step 1 of the module docstring), averaging 1.

    A cell of n ads (one family, language and label) weighs sqrt(n) in all (times its family's
    ``FAMILY_WEIGHTS``), so a large cell still counts for more than a small one but cannot
    drown the others. Within a cell each source of m ads weighs in proportion to sqrt(m):
    one Telegram dataset's 2,092 posts would otherwise teach its own way of writing as "spam",
    and a second source of a few dozen would barely count. Within each
    language the two labels then weigh the same (735 real Polish vacancies against 80
    written Polish lures would teach "Polish = legitimate"), and last each label's weights
    are scaled to half the total, as ``class_weight="balanced"`` would.
    """
    cells = frame["family"].astype(str) + ":" + frame["language"].astype(str) + ":" + frame["label"].astype(str)
    sources = cells + ":" + frame["source"].astype(str)
    cell_sizes = cells.map(cells.value_counts()).to_numpy(dtype=float)
    per_source = 1.0 / np.sqrt(sources.map(sources.value_counts()).to_numpy(dtype=float))
    cell_sums = pd.Series(per_source).groupby(cells.to_numpy()).transform("sum").to_numpy()
    family_weights = frame["family"].map(FAMILY_WEIGHTS).fillna(1.0).to_numpy(dtype=float)
    weights = family_weights * np.sqrt(cell_sizes) * per_source / cell_sums
    labels = frame["label"].to_numpy()
    languages = frame["language"].astype(str).to_numpy()
    for language in np.unique(languages):
        in_language = languages == language
        totals = [weights[in_language & (labels == label)].sum() for label in (0, 1)]
        if all(totals):
            for label, total in zip((0, 1), totals, strict=True):
                weights[in_language & (labels == label)] *= sum(totals) / 2 / total
    for label in (0, 1):
        chosen = labels == label
        if chosen.any():
            weights[chosen] *= 0.5 / weights[chosen].sum()
    return weights * len(frame) / weights.sum()


def _fit_on_prepared(pipeline: Pipeline, prepared: pd.DataFrame, labels: np.ndarray, weights: np.ndarray) -> Pipeline:
    """Fit the features and classifier on already-prepared text (preparation is stateless and slow)."""
    features = pipeline.named_steps["features"]
    classifier = pipeline.named_steps["classifier"]
    matrix = features.fit_transform(prepared)
    classifier.fit(matrix, labels, sample_weight=weights)
    drop_stop_words(features)
    return pipeline


def _held_out_decisions(
    template: Pipeline,
    prepared: pd.DataFrame,
    labels: np.ndarray,
    weights: np.ndarray,
    splits: Iterable[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Decision values of the ads each split holds out, from a model fitted on the rest."""
    decisions = np.full(len(labels), np.nan)
    for train_index, test_index in splits:
        model = _fit_on_prepared(clone(template), prepared.iloc[train_index], labels[train_index], weights[train_index])
        decisions[test_index] = decision_values(model, prepared.iloc[test_index])
    return decisions


def out_of_fold_decisions(
    template: Pipeline, prepared: pd.DataFrame, frame: pd.DataFrame, weights: np.ndarray, folds: int = FOLDS
) -> np.ndarray:
    """Each ad's decision value from a model that did not see it (or its reposts)."""
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    splits = splitter.split(prepared, _strata(frame), text_groups(frame["text"]))
    return _held_out_decisions(template, prepared, frame["label"].to_numpy(), weights, splits)


def source_splits(frame: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    """One split per source of real ads: that source's ads against every other ad (step 5 above).

    Empty when the data have real ads from fewer than two sources: holding out the only one
    would measure nothing but its absence.
    """
    real = (frame["family"] == REAL).to_numpy()
    sources = sorted(frame.loc[real, "source"].unique())
    if len(sources) < 2:
        return []
    every = np.arange(len(frame))
    held = [(frame["source"] == source).to_numpy() & real for source in sources]
    return [(every[~chosen], every[chosen]) for chosen in held]


def language_offsets(
    decisions: np.ndarray, labels: np.ndarray, languages: np.ndarray, weights: np.ndarray
) -> dict[str, float]:
    """Per language, the shift (never up) that puts its legitimate ads' top ``ALIGNED_FALSE_ALARM_RATE`` where
    all languages' top share is, pulled towards 0 for languages with few legitimate ads."""
    legitimate = labels == 0
    if legitimate.sum() < MIN_LEGITIMATE_PER_LANGUAGE:
        return {}
    common = _weighted_quantile(decisions[legitimate], weights[legitimate], 1 - ALIGNED_FALSE_ALARM_RATE)
    offsets = {}
    for language in sorted(set(languages[legitimate])):
        chosen = legitimate & (languages == language)
        count = int(chosen.sum())
        if count < MIN_LEGITIMATE_PER_LANGUAGE:
            continue
        own = _weighted_quantile(decisions[chosen], weights[chosen], 1 - ALIGNED_FALSE_ALARM_RATE)
        # Only ever down: a language whose legitimate ads the held-out folds flag less often than the rest
        # (as happens to one well-known board's ads) is not pushed up to create false alarms on new boards.
        offsets[str(language)] = round(min(0.0, float((common - own) * count / (count + OFFSET_SHRINKAGE_ADS))), 4)
    return offsets


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, quantile: float) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, quantile * cumulative[-1])])


def fit_calibrator(decisions: np.ndarray, labels: np.ndarray) -> LogisticRegression:
    """Platt scaling: a one-feature logistic regression from decision value to probability."""
    return LogisticRegression(C=1e6, max_iter=1000).fit(decisions.reshape(-1, 1), labels)


def choose_threshold(labels: np.ndarray, risks: np.ndarray, weights: np.ndarray) -> float:
    """The risk cut that maximises the (real-rate weighted) F1 of the scam class on held-out risks."""
    candidates = np.unique(np.round(risks, 4))
    best, best_f1 = 0.5, -1.0
    for cut in candidates:
        predicted = risks >= cut
        true_positive = weights[predicted & (labels == 1)].sum()
        precision = true_positive / max(weights[predicted].sum(), 1e-12)
        recall = true_positive / max(weights[labels == 1].sum(), 1e-12)
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        if f1 > best_f1:
            best, best_f1 = float(cut), f1
    return best


def threshold_at_false_alarm_rate(labels: np.ndarray, risks: np.ndarray, weights: np.ndarray, rate: float) -> float:
    """The lowest risk cut that flags at most ``rate`` of the (weighted) legitimate ads on held-out risks.

    For retraining at the false-alarm rate an NGO already lives with: on a few hundred ads
    the best-F1 cut sits on a flat optimum and moves with every ad added, taking the
    false-alarm rate with it. Above every risk (1.0) when even the highest cut flags too many.
    """
    for cut in np.unique(np.round(risks, 4)):  # ascending; the false-alarm rate only falls as the cut rises
        if false_positive_rate(labels, risks, float(cut), weights) <= rate:
            return float(cut)
    return 1.0


def choose_bands(labels: np.ndarray, risks: np.ndarray, weights: np.ndarray, threshold: float) -> Bands:
    """Band edges from held-out risks: high where precision is high, low where few scams hide."""
    order = np.sort(np.unique(risks))
    high = threshold
    for cut in order[order >= threshold]:
        flagged = risks >= cut
        precision = weights[flagged & (labels == 1)].sum() / max(weights[flagged].sum(), 1e-12)
        if precision >= HIGH_BAND_PRECISION:
            high = float(cut)
            break
    scam_risks = np.sort(risks[labels == 1])
    low = float(scam_risks[int(len(scam_risks) * LOW_BAND_MISS_RATE)]) if len(scam_risks) else threshold
    return Bands(low=round(min(low, threshold), 4), high=round(max(high, threshold), 4))


def train(
    frame: pd.DataFrame, flags: FlagSet, c: float = REGULARISATION_C, false_alarm_rate: float | None = None
) -> TrainingResult:
    """Train, calibrate and evaluate as described in the module docstring.

    The threshold maximises F1 in cross-validation, or, given ``false_alarm_rate``, is the
    lowest that flags at most that share of the legitimate ads there.
    """
    frame = frame.reset_index(drop=True)
    labels = frame["label"].to_numpy()
    weights = training_weights(frame)
    languages = np.array([script_language(text) for text in frame["text"]])
    template = build_pipeline(flags, c)
    prepared = template.named_steps["prepare"].transform(frame["text"])

    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    train_index, test_index = next(splitter.split(prepared, _strata(frame), text_groups(frame["text"])))
    train_frame, test_frame = (
        frame.iloc[train_index].reset_index(drop=True),
        frame.iloc[test_index].reset_index(drop=True),
    )

    cv_decisions = out_of_fold_decisions(template, prepared.iloc[train_index], train_frame, weights[train_index])
    cv_labels = train_frame["label"].to_numpy()
    metric_weights = real_rate_weights(train_frame)
    offsets = language_offsets(cv_decisions, cv_labels, languages[train_index], metric_weights)
    row_offsets = np.array([offsets.get(language, 0.0) for language in languages])
    calibrator = fit_calibrator(cv_decisions + row_offsets[train_index], cv_labels)

    def risks_of(decisions: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Calibrated risks of the ads at ``index`` from their decision values, shifted by their language."""
        return calibrator.predict_proba((decisions + row_offsets[index]).reshape(-1, 1))[:, 1]

    cv_risks = risks_of(cv_decisions, train_index)
    if false_alarm_rate is None:
        threshold = round(choose_threshold(cv_labels, cv_risks, metric_weights), 4)
    else:
        threshold = threshold_at_false_alarm_rate(cv_labels, cv_risks, metric_weights, false_alarm_rate)
    bands = choose_bands(cv_labels, cv_risks, metric_weights, threshold)

    split_model = _fit_on_prepared(
        clone(template), prepared.iloc[train_index], labels[train_index], weights[train_index]
    )
    test_risks = risks_of(decision_values(split_model, prepared.iloc[test_index]), test_index)

    held_sources = source_splits(frame)
    source_index = np.concatenate([test for _, test in held_sources]) if held_sources else np.array([], dtype=int)
    source_frame = frame.iloc[source_index].reset_index(drop=True)
    source_risks = (
        risks_of(_held_out_decisions(template, prepared, labels, weights, held_sources)[source_index], source_index)
        if held_sources
        else np.array([])
    )

    final = _fit_on_prepared(clone(template), prepared, labels, weights)
    model = AdModel(final, calibrator, threshold, bands, tuple(flags.ids), offsets)
    metrics = {
        "cross_validation": summary_metrics(train_frame, cv_risks, threshold),
        "test": summary_metrics(test_frame, test_risks, threshold),
    }
    if held_sources:
        metrics["held_out_sources"] = held_out_source_metrics(source_frame, source_risks, threshold)
    split = {"train_rows": len(train_index), "test_rows": len(test_index), "folds": FOLDS, "seed": SEED}
    return TrainingResult(
        model, metrics, split, test_frame, test_risks, train_frame, cv_risks, source_frame, source_risks
    )
