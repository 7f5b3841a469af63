"""The fitted model: TF-IDF + logistic-regression pipeline, calibration, threshold and bands.

These are the runtime classes a model file holds (``AdModel``, ``Bands``; see ``artefact``), and
``decision_values``, the one decision function that scoring and training's cross-validation share.
How a model is fitted and calibrated is ``training.fit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from adscreen.config import REGULARISATION_C
from adscreen.features import AdPreprocessor, build_features, flag_specs, transform_features
from adscreen.rules.redflags import FlagSet
from adscreen.scoring_model import Bands, calibrated, label_of, language_offsets

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AdModel", "Bands", "build_pipeline", "decision_values"]  # Bands: older model files name it here
SEED = 20261129


@dataclass
class AdModel:
    """A fitted pipeline with its calibration, threshold and bands: everything scoring needs."""

    pipeline: Pipeline
    calibrator: LogisticRegression
    threshold: float
    bands: Bands
    flag_ids: tuple[str, ...] = field(default_factory=tuple)
    # Added to an ad's decision value by its language (``text.script_language``) before calibration.
    language_offsets: dict[str, float] = field(default_factory=dict)

    def decisions_of(self, prepared: pd.DataFrame) -> np.ndarray:
        """Decision values of already prepared ads (see ``AdPreprocessor``); see ``decision_values``."""
        return decision_values(self.pipeline, prepared)

    def offsets_of(self, texts: Iterable[str]) -> np.ndarray:
        """Each ad's language offset (0 for a language the model has none for)."""
        return language_offsets(texts, self.language_offsets)

    def calibrate(self, decisions: np.ndarray, offsets: np.ndarray | float = 0.0) -> np.ndarray:
        """The calibrator's probability of the shifted decisions (``scoring_model.calibrated``)."""
        return calibrated(decisions, offsets, self.calibrator.coef_, self.calibrator.intercept_)

    def risk(self, texts: list[str]) -> np.ndarray:
        """Calibrated probability that each ad is a scam or lure."""
        texts = list(texts)
        prepared = self.pipeline.named_steps["prepare"].transform(texts)
        return self.calibrate(self.decisions_of(prepared), self.offsets_of(texts))

    def label(self, risk: float) -> str:
        return label_of(risk, self.threshold)


def decision_values(pipeline: Pipeline, prepared: pd.DataFrame) -> np.ndarray:
    """The classifier's decision values of already prepared ads through the fitted union: cross-validation's
    path (its pipelines are fitted per fold) and the reference that scoring's ``ScoringModel.decisions``
    is tested against."""
    matrix = transform_features(pipeline.named_steps["features"], prepared)
    return pipeline.named_steps["classifier"].decision_function(matrix)


def build_pipeline(flags: FlagSet, c: float = REGULARISATION_C) -> Pipeline:
    """The untrained pipeline: prepare the text, build the features, fit the classifier.

    The solver keeps scikit-learn's default tolerance. On this data lbfgs stops there after 15-25 iterations,
    far from the optimum, and that early stop regularises better than C does: fitted to a tolerance of 1e-7
    (65-75 iterations) at C 100, 10 or 1, the recall on held-out real sources at 3% false alarms fell from 0.79
    to 0.68, 0.68 and 0.65 (December 2026: adscreen-v12's data, with a few more red-flag patterns than it has).
    The price is a model that small changes of data or rules move more than they would move a converged one.
    """
    return Pipeline(
        [
            ("prepare", AdPreprocessor(flag_specs(flags))),
            ("features", build_features(flags)),
            ("classifier", LogisticRegression(C=c, max_iter=5000, random_state=SEED)),
        ]
    )
