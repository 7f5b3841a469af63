"""Building, training and calibrating the TF-IDF + logistic-regression model.

Procedure (fixed seeds, so ``adscreen train`` reproduces a model exactly):
1. Split the ads 80/20, stratified by source and label, grouped by text so that
   reposts of one ad never straddle the split.
2. On the 80%, 5-fold cross-validation gives out-of-fold decision values. A
   one-feature logistic regression on them (Platt scaling) calibrates the risk,
   and the decision threshold and band edges are chosen on those held-out risks.
3. The 20% test split is scored by a model fitted on the 80%: the honest estimate.
4. The shipped model is refitted on all ads, with the calibration, threshold
   and bands of step 2.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from adscreen.features import AdPreprocessor, build_features, drop_stop_words, flag_specs, transform_features
from adscreen.metrics import false_positive_rate, real_rate_weights, summary_metrics
from adscreen.redflags import FlagSet

Band = Literal["low", "medium", "high"]
SEED = 20261129
FOLDS = 5
REGULARISATION_C = 30.0
# The high band is where, in cross-validation, at least this share of flagged ads were scams.
HIGH_BAND_PRECISION = 0.9
# Below the low band edge, cross-validation missed at most this share of scams.
LOW_BAND_MISS_RATE = 0.05


@dataclass(frozen=True)
class Bands:
    """Risk band edges: low below ``low``, high from ``high`` on, medium between."""

    low: float
    high: float

    def of(self, risk: float) -> Band:
        return "high" if risk >= self.high else ("low" if risk < self.low else "medium")


@dataclass
class AdModel:
    """A fitted pipeline with its calibration, threshold and bands: everything scoring needs."""

    pipeline: Pipeline
    calibrator: LogisticRegression
    threshold: float
    bands: Bands
    flag_ids: tuple[str, ...] = field(default_factory=tuple)

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """The logistic regression's decision values, before calibration."""
        return self.decisions_of(self.pipeline.named_steps["prepare"].transform(texts))

    def decisions_of(self, prepared: pd.DataFrame) -> np.ndarray:
        """Decision values of already prepared ads (see ``AdPreprocessor``)."""
        matrix = transform_features(self.pipeline.named_steps["features"], prepared)
        return self.pipeline.named_steps["classifier"].decision_function(matrix)

    def calibrate(self, decisions: np.ndarray) -> np.ndarray:
        """The calibrator's ``predict_proba(...)[:, 1]``, computed with the same operations minus
        sklearn's input checks, which cost more than the arithmetic when scoring one ad."""
        column = np.asarray(decisions, dtype=float).reshape(-1, 1)
        return special.expit((column @ self.calibrator.coef_.T + self.calibrator.intercept_).reshape(-1))

    def risk(self, texts: list[str]) -> np.ndarray:
        """Calibrated probability that each ad is a scam or lure."""
        return self.calibrate(self.decision_function(texts))

    def label(self, risk: float) -> str:
        return "suspicious" if risk >= self.threshold else "looks_ok"


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


def build_pipeline(flags: FlagSet, c: float = REGULARISATION_C) -> Pipeline:
    return Pipeline(
        [
            ("prepare", AdPreprocessor(flag_specs(flags))),
            ("features", build_features(flags)),
            ("classifier", LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=SEED)),
        ]
    )


def text_groups(texts: pd.Series) -> np.ndarray:
    """A group id per ad: ads whose letters are the same (reposts) share one."""
    keys = texts.map(lambda text: re.sub(r"[\W\d_]+", "", text.lower()))
    return np.array([int(hashlib.sha1(key.encode()).hexdigest()[:12], 16) for key in keys])


def _strata(frame: pd.DataFrame) -> np.ndarray:
    return (frame["source"].astype(str) + ":" + frame["label"].astype(str)).to_numpy()


def _fit_on_prepared(pipeline: Pipeline, prepared: pd.DataFrame, labels: np.ndarray) -> Pipeline:
    """Fit the features and classifier on already-prepared text (preparation is stateless and slow)."""
    features = pipeline.named_steps["features"]
    classifier = pipeline.named_steps["classifier"]
    matrix = features.fit_transform(prepared)
    classifier.fit(matrix, labels)
    drop_stop_words(features)
    return pipeline


def _decision_on_prepared(pipeline: Pipeline, prepared: pd.DataFrame) -> np.ndarray:
    matrix = pipeline.named_steps["features"].transform(prepared)
    return pipeline.named_steps["classifier"].decision_function(matrix)


def out_of_fold_decisions(
    template: Pipeline, prepared: pd.DataFrame, frame: pd.DataFrame, folds: int = FOLDS
) -> np.ndarray:
    """Each ad's decision value from a model that did not see it (or its reposts)."""
    decisions = np.zeros(len(frame))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    labels = frame["label"].to_numpy()
    for train_index, test_index in splitter.split(prepared, _strata(frame), text_groups(frame["text"])):
        fold_model = _fit_on_prepared(clone(template), prepared.iloc[train_index], labels[train_index])
        decisions[test_index] = _decision_on_prepared(fold_model, prepared.iloc[test_index])
    return decisions


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
    template = build_pipeline(flags, c)
    prepared = template.named_steps["prepare"].transform(frame["text"])

    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    train_index, test_index = next(splitter.split(prepared, _strata(frame), text_groups(frame["text"])))
    train_frame, test_frame = (
        frame.iloc[train_index].reset_index(drop=True),
        frame.iloc[test_index].reset_index(drop=True),
    )

    cv_decisions = out_of_fold_decisions(template, prepared.iloc[train_index], train_frame)
    cv_labels = train_frame["label"].to_numpy()
    calibrator = fit_calibrator(cv_decisions, cv_labels)
    cv_risks = calibrator.predict_proba(cv_decisions.reshape(-1, 1))[:, 1]
    weights = real_rate_weights(train_frame)
    if false_alarm_rate is None:
        threshold = round(choose_threshold(cv_labels, cv_risks, weights), 4)
    else:
        threshold = threshold_at_false_alarm_rate(cv_labels, cv_risks, weights, false_alarm_rate)
    bands = choose_bands(cv_labels, cv_risks, weights, threshold)

    split_model = _fit_on_prepared(clone(template), prepared.iloc[train_index], labels[train_index])
    test_risks = calibrator.predict_proba(_decision_on_prepared(split_model, prepared.iloc[test_index]).reshape(-1, 1))[
        :, 1
    ]

    final = _fit_on_prepared(clone(template), prepared, labels)
    model = AdModel(final, calibrator, threshold, bands, tuple(flags.ids))
    metrics = {
        "cross_validation": summary_metrics(train_frame, cv_risks, threshold),
        "test": summary_metrics(test_frame, test_risks, threshold),
    }
    split = {"train_rows": len(train_index), "test_rows": len(test_index), "folds": FOLDS, "seed": SEED}
    return TrainingResult(model, metrics, split, test_frame, test_risks, train_frame, cv_risks)
