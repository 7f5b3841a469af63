"""Training from files: metadata that records what was done, reproducible models, honest metrics."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adscreen.errors import DataFormatError, InputError
from adscreen.registry import load_model_dir
from adscreen.training.corpus import EMSCAD, REAL, WRITTEN, read_labelled
from adscreen.training.fit import FAMILY_WEIGHTS, threshold_at_false_alarm_rate, training_weights
from adscreen.training.runs import evaluate, train_to_folder


def test_metadata_records_data_versions_metrics_and_hash(small_model: Path, small_labelled_file: Path) -> None:
    metadata = json.loads((small_model / "metadata.json").read_text())
    assert metadata["name"] == "small"
    assert metadata["data"]["files"][0]["path"] == str(small_labelled_file)
    assert len(metadata["data"]["files"][0]["sha256"]) == 64
    assert metadata["libraries"]["scikit-learn"]
    assert 0 < metadata["threshold"] < 1
    assert metadata["bands"]["low"] <= metadata["threshold"] <= metadata["bands"]["high"]
    for split in ("cross_validation", "test"):
        for key in ("pr_auc", "roc_auc", "precision", "recall", "f1"):
            assert 0 <= metadata["metrics"][split]["overall"][key] <= 1
        assert set(metadata["metrics"][split]["per_language"]) <= {"ru", "be", "uk", "pl", "en"}
    assert len(metadata["model_sha256"]) == 64


def test_the_model_separates_lures_from_legitimate_ads(small_model: Path) -> None:
    metadata = json.loads((small_model / "metadata.json").read_text())
    assert metadata["metrics"]["cross_validation"]["overall"]["pr_auc"] > 0.8


def test_training_is_reproducible(small_model: Path, small_labelled_file: Path, tmp_path: Path) -> None:
    again = train_to_folder([small_labelled_file], tmp_path / "again", say=lambda line: None)
    first = json.loads((small_model / "metadata.json").read_text())
    assert again["metrics"] == first["metrics"]
    assert again["threshold"] == first["threshold"]


def test_evaluate_measures_at_the_stored_threshold(small_model: Path, small_labelled_file: Path) -> None:
    report = evaluate(load_model_dir(small_model), [small_labelled_file])
    assert report["threshold"] == load_model_dir(small_model).model.threshold
    assert report["metrics"]["overall"]["n"] > 100


def test_evaluate_reports_the_share_of_legitimate_ads_flagged(small_model: Path, small_labelled_file: Path) -> None:
    loaded = load_model_dir(small_model)
    frame = read_labelled([small_labelled_file]).frame
    legitimate = frame.loc[frame["label"] == 0, "text"]
    flagged = np.asarray(loaded.model.risk(list(legitimate))) >= loaded.model.threshold
    assert evaluate(loaded, [small_labelled_file])["false_positive_rate"] == round(flagged.mean(), 4)


def test_evaluate_reads_recall_where_few_legitimate_ads_are_flagged_and_rates_per_source(
    small_model: Path, small_held_out_file: Path, tmp_path: Path
) -> None:
    """Two files from sources the model never saw, one of scams and one of vacancies: the hotline's
    question (recall at 3% false alarms) and each source's own rate, measured at the model's cut."""
    frame = read_labelled([small_held_out_file]).frame
    files = []
    for label, source in ((1, "github:someone/spam:posts.txt@abc"), (0, "github:other/board:ads.csv@def")):
        path = tmp_path / f"{label}.jsonl"
        rows = [{"text": text, "label": label, "source": source} for text in frame.loc[frame["label"] == label, "text"]]
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
        files.append(path)
    loaded = load_model_dir(small_model)
    report = evaluate(loaded, files)
    risks = np.asarray(loaded.model.risk(list(frame["text"])))
    labels = frame["label"].to_numpy()
    at_rate = report["recall_at_false_alarm_rate"]
    assert at_rate["false_positive_rate"] <= 0.03
    assert at_rate["recall"] == round(float((risks[labels == 1] >= at_rate["threshold"]).mean()), 4)
    assert set(report["per_source"]) == {"someone/spam:posts.txt", "other/board:ads.csv"}
    scams, vacancies = report["per_source"]["someone/spam:posts.txt"], report["per_source"]["other/board:ads.csv"]
    threshold = loaded.model.threshold
    assert scams["recall"] == round(float((risks[labels == 1] >= threshold).mean()), 4)
    assert scams["false_positive_rate"] is None and vacancies["recall"] is None
    assert vacancies["false_positive_rate"] == round(float((risks[labels == 0] >= threshold).mean()), 4)
    assert evaluate(loaded, files[:1])["recall_at_false_alarm_rate"] is None  # one label: nothing to trade off


@pytest.mark.parametrize(
    ("rate", "threshold"),
    [(1.0, 0.1), (0.5, 0.5), (0.25, 0.7), (0.0, 0.95)],
    ids=["every-ad", "half", "one-in-four", "none"],
)
def test_threshold_at_a_false_alarm_rate_is_the_lowest_cut_within_it(rate: float, threshold: float) -> None:
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    risks = np.array([0.1, 0.2, 0.6, 0.9, 0.5, 0.7, 0.8, 0.95])
    assert threshold_at_false_alarm_rate(labels, risks, np.ones(8), rate) == threshold


def test_emscad_ads_weigh_their_family_weight_times_written_ads_of_the_same_cell_size() -> None:
    frame = pd.DataFrame(
        {
            "family": [WRITTEN] * 8 + [EMSCAD] * 8,
            "language": ["en"] * 16,
            "label": [0, 1] * 8,
            "source": ["en_ads"] * 8 + ["emscad"] * 8,
        }
    )
    weights = training_weights(frame)
    written, emscad = weights[:8], weights[8:]
    assert emscad / written == pytest.approx(np.full(8, FAMILY_WEIGHTS[EMSCAD]))
    assert weights.mean() == pytest.approx(1.0)
    assert weights[frame["label"] == 1].sum() == pytest.approx(weights[frame["label"] == 0].sum())


def test_within_a_cell_each_source_weighs_as_the_square_root_of_its_size() -> None:
    frame = pd.DataFrame(
        {
            "family": [REAL] * 26,
            "language": ["ru"] * 26,
            "label": [1] * 20 + [0] * 6,
            "source": ["big"] * 16 + ["small"] * 4 + ["vacancies"] * 6,
        }
    )
    weights = training_weights(frame)
    big, small = weights[frame["source"] == "big"], weights[frame["source"] == "small"]
    assert big.sum() / small.sum() == pytest.approx(np.sqrt(16) / np.sqrt(4))
    assert np.ptp(big) == 0 and np.ptp(small) == 0
    assert weights[frame["label"] == 1].sum() == pytest.approx(weights[frame["label"] == 0].sum())
    assert weights.mean() == pytest.approx(1.0)


def test_threshold_at_a_false_alarm_rate_counts_weights_and_can_flag_nothing() -> None:
    labels, risks = np.array([0, 0, 1]), np.array([0.3, 0.8, 0.6])
    assert threshold_at_false_alarm_rate(labels, risks, np.array([3.0, 1.0, 1.0]), 0.25) == 0.6
    assert threshold_at_false_alarm_rate(labels, risks, np.array([1.0, 3.0, 1.0]), 0.25) == 1.0


def test_one_label_only_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "one.csv"
    data.write_text("text,label\nfirst ad,1\nsecond ad,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="both labels"):
        train_to_folder([data], tmp_path / "model", say=lambda line: None)


def test_bad_model_name_is_refused(small_labelled_file: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="model name"):
        train_to_folder([small_labelled_file], tmp_path / "bad name!", say=lambda line: None)


def test_missing_data_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no such file"):
        train_to_folder([tmp_path / "nope.csv"], tmp_path / "model", say=lambda line: None)
