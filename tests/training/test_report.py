"""The training report and model card written beside a trained model."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from adscreen.features import CHAR_WEIGHT, FLAG_PREFIX, FLAG_WEIGHT, block_weights
from adscreen.paths import MODELS_DIR
from adscreen.registry import Registry, load_model_dir
from adscreen.training.fit import TrainingResult
from adscreen.training.report import (
    MODEL_CARD_FILE,
    PLOTS_DIR,
    REPORT_FILE,
    render_model_card,
    strongest_features,
    worst_mistakes,
    write_report,
)

PLOTS = ("precision_recall.png", "roc.png", "calibration.png", "confusion.png")
CARD_SECTIONS = (
    "## Intended use",
    "## Who should not rely on it",
    "## Training data",
    "## Metrics",
    "## Limits",
    "## Date and versions",
)


@pytest.fixture(scope="module")
def metadata(small_model: Path) -> dict:
    return json.loads((small_model / "metadata.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report(small_model: Path) -> str:
    return (small_model / REPORT_FILE).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PLOTS)
def test_plots_are_real_images_referenced_by_the_report(small_model: Path, report: str, name: str) -> None:
    path = small_model / PLOTS_DIR / name
    assert f'src="{PLOTS_DIR}/{name}"' in report
    assert path.stat().st_size > 5_000
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width >= 400 and image.height >= 300
        pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 5, "the plot is blank"


def test_every_metric_in_the_report_equals_the_metadata(report: str, metadata: dict) -> None:
    cells = re.findall(r'data-metric="([^"]+)">([^<]*)<', report)
    assert len(cells) > 40
    keys = set()
    for key, shown in cells:
        value = metadata["metrics"]
        for part in key.split("."):
            value = value[part]
        assert shown == ("–" if value is None else str(value)), key
        keys.add(key)
    for split in ("test", "cross_validation"):
        assert f"{split}.overall.pr_auc" in keys
        for language in metadata["metrics"][split]["per_language"]:
            assert f"{split}.per_language.{language}.f1" in keys


def test_report_has_threshold_kinds_features_and_mistakes(report: str, metadata: dict) -> None:
    assert f"<strong>{metadata['threshold']}</strong>" in report
    for heading in ("By language", "By kind of ad", "What the model learned", "Worst mistakes on the test split"):
        assert f"<h2>{heading}</h2>" in report
    assert "<td>lure_hostess_abroad</td>" in report
    assert "Towards scam or lure" in report and "Towards legitimate" in report


def test_ad_text_is_escaped_in_the_report(small_model: Path, metadata: dict, tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script> Office assistant in Minsk, contract, named employer"
    frame = pd.DataFrame(
        {
            "text": [hostile, "Girls wanted for Dubai, tickets paid", "Driver in Brest", "Pay a fee to start"],
            "label": [0, 1, 0, 1],
            "language": "en",
            "kind": "k",
            "source": "ads",
            "file": "ads.csv",
            "row": range(2, 6),
            "id": "",
        }
    )
    risks = np.array([0.99, 0.9, 0.1, 0.2])
    model = load_model_dir(small_model).model
    result = TrainingResult(model, metadata["metrics"], {}, frame, risks, frame, risks, frame.iloc[:0], risks[:0])
    html = write_report(result, metadata, tmp_path).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


def test_model_card_has_every_section_filled_from_metadata(small_model: Path, metadata: dict) -> None:
    card = (small_model / MODEL_CARD_FILE).read_text(encoding="utf-8")
    positions = [card.index(section) for section in CARD_SECTIONS]
    assert positions == sorted(positions)
    test = metadata["metrics"]["test"]["overall"]
    assert f"| overall | {test['n']} | {test['positives']} | {test['pr_auc']} |" in card
    assert metadata["model_sha256"] in card
    assert metadata["trained_at"] in card
    assert f"scikit-learn {metadata['libraries']['scikit-learn']}" in card
    assert str(metadata["threshold"]) in card
    assert "{{" not in card and "{%" not in card


def test_strongest_features_point_both_ways(small_model: Path) -> None:
    raising, lowering = strongest_features(load_model_dir(small_model).model, count=10)
    assert len(raising) == 10 and len(lowering) == 10
    assert [feature.weight for feature in raising] == sorted((feature.weight for feature in raising), reverse=True)
    assert all(feature.weight > 0 for feature in raising) and all(feature.weight < 0 for feature in lowering)
    assert {feature.kind for feature in raising + lowering} <= {"words", "characters", "rule"}


def test_a_strongest_features_weight_is_what_a_value_of_one_adds(small_model: Path) -> None:
    """Coefficients times their block's factor: a weighted block's features are not under- or over-stated."""
    model = load_model_dir(small_model).model
    union = model.pipeline.named_steps["features"]
    coefficients = dict(
        zip(union.get_feature_names_out(), model.pipeline.named_steps["classifier"].coef_[0], strict=True)
    )
    raising, lowering = strongest_features(model, count=len(coefficients))
    factors = {"rule": ("flags", FLAG_WEIGHT), "characters": ("char", CHAR_WEIGHT), "words": ("word", 1.0)}
    assert FLAG_WEIGHT != 1.0 and CHAR_WEIGHT != 1.0 and union.transformer_weights == block_weights()
    seen = set()
    for feature in raising + lowering:
        block, factor = factors[feature.kind]
        prefix = f"{block}__{FLAG_PREFIX}" if block == "flags" else f"{block}__"
        assert feature.weight == round(float(coefficients[prefix + feature.term]) * factor, 3)
        seen.add(feature.kind)
    assert seen == set(factors)


def test_worst_mistakes_are_the_most_confident_errors() -> None:
    frame = pd.DataFrame(
        {
            "text": [f"ad {index} " + "word " * 100 for index in range(6)],
            "label": [0, 0, 0, 1, 1, 1],
            "language": "en",
            "kind": "k",
            "file": "/data/ads.jsonl",
            "row": range(1, 7),
            "id": [f"a{index}" for index in range(6)],
        }
    )
    risks = np.array([0.9, 0.6, 0.1, 0.2, 0.05, 0.95])
    mistakes = worst_mistakes(frame, risks, threshold=0.5, count=5)
    assert [ad["where"] for ad in mistakes["false_positives"]] == ["ads.jsonl:1 (a0)", "ads.jsonl:2 (a1)"]
    assert [ad["where"] for ad in mistakes["false_negatives"]] == ["ads.jsonl:5 (a4)", "ads.jsonl:4 (a3)"]
    assert all(len(ad["text"]) <= 280 and ad["text"].endswith("…") for ad in mistakes["false_positives"])


def test_the_shipped_model_card_is_what_its_metadata_renders() -> None:
    shipped = Registry(MODELS_DIR).current_path()[0]
    metadata = json.loads((shipped / "metadata.json").read_text(encoding="utf-8"))
    assert (shipped / MODEL_CARD_FILE).read_text(encoding="utf-8") == render_model_card(metadata), (
        "regenerate it: python -c 'import json, pathlib; from adscreen.training.report import write_model_card;"
        ' d = pathlib.Path("models/NAME"); write_model_card(json.loads((d / "metadata.json").read_text()), d)\''
    )
