"""Comparing two models on the same held-out ads: numbers checked against direct computation, and disagreements."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, f1_score
from typer.testing import CliRunner

from adscreen.cli import app
from adscreen.errors import InputError
from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.registry import LoadedModel, Registry, load_model_dir
from adscreen.training.compare import compare_files, compare_models, render_comparison
from adscreen.training.corpus import read_labelled
from adscreen.training.metrics import paired_difference

runner = CliRunner()


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sample ads that the small model (every third ad) did not see."""
    rows = []
    for path in sorted(SAMPLE_ADS_DIR.glob("*.jsonl")):
        rows.extend(line for line in path.read_text(encoding="utf-8").splitlines()[1::6] if line.strip())
    target = tmp_path_factory.mktemp("held_out") / "held_out.jsonl"
    target.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def models(small_model: Path) -> dict[str, LoadedModel]:
    return {"new": load_model_dir(small_model), "old": Registry().load_current()}


@pytest.fixture(scope="module")
def comparison(models: dict, held_out: Path) -> dict:
    return compare_files(models["new"], models["old"], [held_out])


@pytest.fixture(scope="module")
def direct(models: dict, held_out: Path) -> tuple[pd.DataFrame, dict]:
    """The held-out ads and each model's risks, computed here without the comparison module."""
    frame = read_labelled([held_out]).frame
    return frame, {role: models[role].model.risk(list(frame["text"])) for role in ("old", "new")}


def test_overall_metrics_equal_direct_computation(comparison: dict, models: dict, direct: tuple) -> None:
    frame, risks = direct
    labels = frame["label"].to_numpy()
    assert comparison["data"]["rows"] == len(frame)
    for role in ("old", "new"):
        threshold = models[role].model.threshold
        flagged = risks[role] >= threshold
        overall = comparison["overall"][role]
        assert overall["pr_auc"] == round(average_precision_score(labels, risks[role]), 4)
        assert overall["f1"] == round(f1_score(labels, flagged), 4)
        assert overall["false_positive_rate"] == round(flagged[labels == 0].mean(), 4)
        assert comparison["models"][role]["threshold"] == threshold


def test_recall_at_the_old_false_alarm_rate_is_the_best_the_new_model_can_do(
    comparison: dict, models: dict, direct: tuple
) -> None:
    frame, risks = direct
    labels = frame["label"].to_numpy()
    target = (risks["old"][labels == 0] >= models["old"].model.threshold).mean()
    best = max(
        (risks["new"][labels == 1] >= cut).mean()
        for cut in [*np.unique(risks["new"]), np.inf]
        if (risks["new"][labels == 0] >= cut).mean() <= target
    )
    at = comparison["new_at_old_false_alarm_rate"]
    assert at["target_false_positive_rate"] == round(target, 4)
    assert at["recall"] == round(best, 4)
    assert at["false_positive_rate"] <= at["target_false_positive_rate"]
    if at["threshold"] is not None:
        assert round((risks["new"][labels == 1] >= at["threshold"]).mean(), 4) == at["recall"]


def test_per_language_and_per_kind_match_direct_computation(comparison: dict, models: dict, direct: tuple) -> None:
    frame, risks = direct
    assert set(comparison["per_language"]) == {"ru", "be", "uk", "pl", "en"}
    assert set(comparison["per_kind"]) == set(frame["kind"])
    for column, value in (("language", "uk"), ("kind", "legit_it"), ("kind", "lure_care_abroad")):
        group = (frame[column] == value).to_numpy()
        labels = frame["label"].to_numpy()[group]
        for role in ("old", "new"):
            rates = comparison[f"per_{column}"][value][role]
            flagged = risks[role][group] >= models[role].model.threshold
            assert rates["n"] == int(group.sum())
            assert rates["recall"] == (round(flagged[labels == 1].mean(), 4) if (labels == 1).any() else None)
            expected_alarms = round(flagged[labels == 0].mean(), 4) if (labels == 0).any() else None
            assert rates["false_positive_rate"] == expected_alarms


def test_disagreements_are_listed_largest_change_first(comparison: dict, models: dict, direct: tuple) -> None:
    frame, risks = direct
    listed = comparison["disagreements"]
    assert listed
    flipped = [ad["old_label"] != ad["new_label"] for ad in listed]
    assert flipped == sorted(flipped, reverse=True)
    for ad in listed:
        index = int(np.flatnonzero((frame["row"] == ad["row"]).to_numpy())[0])
        assert ad["old_risk"] == round(float(risks["old"][index]), 4)
        assert ad["new_risk"] == round(float(risks["new"][index]), 4)
    unflipped = [abs(ad["change"]) for ad in listed if ad["old_label"] == ad["new_label"]]
    assert unflipped == sorted(unflipped, reverse=True)


def test_label_flips_are_the_ads_between_two_thresholds(models: dict, direct: tuple) -> None:
    frame, risks = direct
    risks = risks["new"]
    base = models["new"]
    strict = LoadedModel(replace(base.model, threshold=0.8), {**base.metadata, "name": "strict"}, base.path)
    lenient = LoadedModel(replace(base.model, threshold=0.2), {**base.metadata, "name": "lenient"}, base.path)
    result = compare_models(strict, lenient, frame, count=1000)
    between = (risks >= 0.2) & (risks < 0.8)
    labels = frame["label"].to_numpy()
    assert result["label_flips"]["total"] == int(between.sum()) > 0
    assert result["label_flips"]["to_looks_ok"] == int(between.sum())
    assert result["label_flips"]["new_right"] == int((between & (labels == 0)).sum())
    assert sorted(ad["row"] for ad in result["disagreements"]) == sorted(frame["row"][between])


def test_the_differences_carry_their_interval_and_say_what_it_means(comparison: dict) -> None:
    pr_auc = comparison["differences"]["pr_auc"]
    gain = comparison["overall"]["new"]["pr_auc"] - comparison["overall"]["old"]["pr_auc"]
    assert pr_auc["difference"] == pytest.approx(gain, abs=2e-4)
    for difference in comparison["differences"].values():
        assert difference["low"] <= difference["difference"] <= difference["high"]
        expected = "better" if difference["low"] > 0 else "worse" if difference["high"] < 0 else "unclear"
        assert difference["verdict"] == expected
        assert difference["meaning"].startswith(
            {"better": "the new", "worse": "the new", "unclear": "no clear"}[expected]
        )


def _pr_auc_gain(labels: np.ndarray, new: np.ndarray, old: np.ndarray):
    return lambda at: average_precision_score(labels[at], new[at]) - average_precision_score(labels[at], old[at])


def test_a_difference_is_called_only_when_its_whole_interval_is_on_one_side() -> None:
    """A model that ranks every scam first is better than chance ranking, with an interval that says so; two chance
    rankers differ by chance only; and the same call gives the same interval (a fixed seed)."""
    rng = np.random.default_rng(0)
    labels = np.array([1] * 60 + [0] * 240)
    perfect = labels + rng.uniform(0, 0.5, len(labels))
    chance, other_chance = rng.uniform(0, 1, len(labels)), rng.uniform(0, 1, len(labels))
    better = paired_difference(labels, _pr_auc_gain(labels, perfect, chance), rounds=200)
    assert better["verdict"] == "better" and 0 < better["low"] <= better["difference"] <= better["high"]
    assert paired_difference(labels, _pr_auc_gain(labels, chance, perfect), rounds=200)["verdict"] == "worse"
    unclear = paired_difference(labels, _pr_auc_gain(labels, chance, other_chance), rounds=200)
    assert unclear["verdict"] == "unclear" and unclear["low"] < 0 < unclear["high"]
    assert paired_difference(labels, _pr_auc_gain(labels, chance, other_chance), rounds=200) == unclear


def test_data_with_one_label_is_refused(models: dict, direct: tuple) -> None:
    frame, _ = direct
    with pytest.raises(InputError, match="both labels"):
        compare_models(models["new"], models["old"], frame[frame["label"] == 1])


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_html_and_markdown_show_the_numbers(comparison: dict, suffix: str) -> None:
    text = render_comparison(comparison, Path("compare" + suffix))
    assert str(comparison["overall"]["new"]["pr_auc"]) in text
    assert str(comparison["new_at_old_false_alarm_rate"]["recall"]) in text
    assert f"{comparison['label_flips']['total']} ads change label" in text
    assert "By kind" in text and "Where they disagree" in text
    assert "More than chance?" in text and comparison["differences"]["pr_auc"]["meaning"] in text
    first = comparison["disagreements"][0]
    assert f":{first['row']} ({first['id']})" in text


def test_cli_compares_with_the_current_model(small_model: Path, held_out: Path, tmp_path: Path) -> None:
    output = tmp_path / "compare.html"
    result = runner.invoke(app, ["compare", str(small_model), "--data", str(held_out), "--json", "-o", str(output)])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert parsed["models"]["old"]["name"] == Registry().read()["current"]
    assert parsed["models"]["new"]["name"] == "small"
    assert f'data-metric="new.f1">{parsed["overall"]["new"]["f1"]}<' in output.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--data", "HELD_OUT", "-o", "out.txt"], "write the comparison to a .html or .md file"),
        ([], "give held-out labelled data with --data"),
        (["models/does-not-exist", "--data", "HELD_OUT"], "no such model folder"),
        (["--data", "nowhere.csv"], "no such file"),
    ],
)
def test_cli_bad_input_gives_one_line_and_exit_2(
    small_model: Path, held_out: Path, arguments: list[str], message: str
) -> None:
    arguments = [str(held_out) if argument == "HELD_OUT" else argument for argument in arguments]
    result = runner.invoke(app, ["compare", str(small_model), *arguments])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
