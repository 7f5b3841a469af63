"""Training and evaluating from files: the edge around ``model`` that reads data and writes artefacts."""

from __future__ import annotations

import platform
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path

import numpy as np

from adscreen.config import MAX_AD_CHARS
from adscreen.datafiles import file_sha256
from adscreen.errors import InputError
from adscreen.model import REGULARISATION_C
from adscreen.paths import REDFLAGS_DIR
from adscreen.registry import LoadedModel, save_model
from adscreen.rules.redflags import load_flags
from adscreen.training.corpus import LabelledAds, read_labelled
from adscreen.training.fit import train
from adscreen.training.metrics import (
    false_positive_rate,
    group_rates,
    hotline_recall,
    real_rate_weights,
    summary_metrics,
)
from adscreen.training.report import write_model_card, write_report

LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "pyarrow", "lingua-language-detector", "adscreen")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def data_summary(ads: LabelledAds) -> dict:
    frame = ads.frame
    return {
        "files": [asdict(summary) for summary in ads.files],
        "rows": len(frame),
        "duplicate_texts_dropped": ads.duplicate_texts,
        "by_source_and_label": {
            f"{source}:{label}": int(count)
            for (source, label), count in frame.groupby(["source", "label"]).size().items()
        },
        "by_language": {str(key): int(value) for key, value in frame["language"].value_counts().items()},
        "by_family": {
            str(family): {
                "rows": len(rows),
                "scams": int(rows["label"].sum()),
                "sources": int(rows["source"].nunique()),
                "median_words": int(rows["text"].str.split().str.len().median()),
            }
            for family, rows in frame.groupby("family")
        },
    }


def train_to_folder(
    data: list[Path],
    output: Path,
    c: float = REGULARISATION_C,
    say: Callable[[str], None] = print,
    false_alarm_rate: float | None = None,
    max_chars: int = MAX_AD_CHARS,
) -> dict:
    """Read labelled files, train, and write ``output/`` (model, metadata, report, model card); returns the metadata.

    ``false_alarm_rate`` chooses the threshold by that rate instead of the best F1 (see ``training.fit.train``).
    """
    if not _NAME.match(output.name):
        raise InputError(f"model name {output.name!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    ads = read_labelled(data, max_chars)
    for warning in ads.warnings:
        say(f"warning: {warning}")
    if ads.frame["label"].nunique() < 2:
        raise InputError("training needs both labels (0 and 1) in the data")
    flags = load_flags()
    say(f"training on {len(ads.frame)} ads from {len(data)} files (5-fold cross-validation, then the final fit)...")
    result = train(ads.frame, flags, c, false_alarm_rate)
    weights = result.model.pipeline.named_steps["features"].transformer_weights or {}
    parameters = {
        "C": c,
        "char_weight": weights.get("char", 1.0),
        "flag_weight": weights.get("flags", 1.0),
        **result.split,
    }
    if false_alarm_rate is not None:
        parameters["false_alarm_rate"] = false_alarm_rate
    trained_at = datetime.now(UTC)
    metadata = {
        "name": output.name,
        "version": f"{output.name}@{trained_at:%Y%m%d}",
        "trained_at": trained_at.isoformat(timespec="seconds"),
        "libraries": library_versions(),
        "data": data_summary(ads),
        "redflags": {path.name: file_sha256(path) for path in sorted(REDFLAGS_DIR.glob("*.yaml"))},
        "parameters": parameters,
        "threshold": result.model.threshold,
        "bands": asdict(result.model.bands),
        "language_offsets": result.model.language_offsets,
        "metrics": result.metrics,
    }
    metadata = save_model(result.model, output, metadata)
    write_report(result, metadata, output)
    write_model_card(metadata, output)
    return metadata


def evaluate(loaded: LoadedModel, data: list[Path], max_chars: int = MAX_AD_CHARS) -> dict:
    """Metrics of a loaded model on labelled files, at its own threshold, and its false-alarm rate there
    (the share of legitimate ads flagged: what ``train --false-alarm-rate`` can keep).

    Also, for data from sources the model never saw (one file of scam posts, one of vacancies),
    what a hotline asks: each source's recall or false-alarm rate, and the recall where at most
    ``metrics.HOTLINE_FALSE_ALARM_RATE`` (3%) of the legitimate ads are flagged (None with one label only).
    """
    ads = read_labelled(data, max_chars)
    risks = np.asarray(loaded.model.risk(list(ads.frame["text"])))
    threshold = loaded.model.threshold
    labels = ads.frame["label"].to_numpy()
    weights = real_rate_weights(ads.frame)
    return {
        "model": {"name": loaded.name, "version": loaded.version},
        "threshold": threshold,
        "data": data_summary(ads),
        "metrics": summary_metrics(ads.frame, risks, threshold),
        "false_positive_rate": round(false_positive_rate(labels, risks, threshold, weights), 4),
        "recall_at_false_alarm_rate": hotline_recall(labels, risks, weights),
        "per_source": group_rates(ads.frame, risks, threshold, "source"),
    }
