"""Issue 7, the analyst's path: add ads of a kind the model misses, retrain, compare, promote, roll back.

The new kind is recruitment into online-fraud compounds in South-East Asia, written to look
like a corporate job ad (``data/retraining/``, see ``data/README.md``): the shipped model
misses most of it, since the rules seldom see a compound's signs and the model reads
job-board wording as legitimate.

Which model is the honest "current model" to compare against? Not the shipped one: it
was trained on every sample ad and on EMSCAD, which a fresh clone lacks, so no sample ad
is held out from it and no retraining here can follow its recipe. The test retrains on a
third of the sample ads (to stay fast) plus the 30 new ads, and compares with
``small_model``, trained on the same third without them: the only difference between the
two is what the analyst added, and both are measured on the same ads neither has seen
(the other two thirds, the 15 held-out ads of the new kind and 15 legitimate look-alikes).
The shipped model still plays its real part: it is current in the registry, the running
server serves it first, and ``rollback`` must bring it back.

The retrained model keeps the current model's false-alarm rate (``train --false-alarm-rate``,
measured with ``evaluate`` on the held-out ads): on a few hundred ads the best-F1 threshold
moves with every ad added, and with it the false alarms everywhere (here it fell from 0.67
to 0.41 and doubled them). The rate is kept in cross-validation, so on the held-out ads it
can differ by an ad or two; with fixed seeds the result is reproducible, and if a change to
the data or the features tips it, read ``compare``'s disagreements before touching the test.
"""

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adscreen import Scorer
from adscreen.cli import app
from adscreen.config import Settings
from adscreen.paths import DATA_DIR, MODELS_DIR
from adscreen.registry import load_model_dir
from adscreen.rules.redflags import load_flags
from adscreen.serve.app import create_app
from adscreen.training.quality import near_duplicate_pairs, repeated_sentences
from adscreen.training.sample_ads import LANGUAGES, read_sample_rows, row_problems

RETRAINING_DIR = DATA_DIR / "retraining"
NEW_ADS = RETRAINING_DIR / "compound_train.jsonl"
HELD_OUT_ADS = RETRAINING_DIR / "compound_held_out.jsonl"
KIND, LOOK_ALIKE = "lure_compound_corporate", "legit_support_asia"
SHIPPED = json.loads((MODELS_DIR / "registry.json").read_text())["current"]
RETRAINED = "compound-v2"

runner = CliRunner()


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_new_ads_follow_the_sample_ad_schema() -> None:
    red_flags = frozenset(flag.id for flag in load_flags().flags if flag.spec.effect == "raises")
    rows = read_sample_rows(RETRAINING_DIR)
    problems = [
        f"{row['_where']}: {problem}"
        for row in rows
        for problem in row_problems({key: value for key, value in row.items() if key != "_where"}, red_flags)
    ]
    assert problems == []
    assert len({row["id"] for row in rows}) == len(rows)
    train, held_out = rows_of(NEW_ADS), rows_of(HELD_OUT_ADS)
    assert [(row["kind"], row["label"]) for row in train] == [(KIND, 1)] * 30
    assert sorted((row["kind"], row["label"]) for row in held_out) == [(LOOK_ALIKE, 0)] * 15 + [(KIND, 1)] * 15
    for part in (train, held_out):
        assert {row["language"] for row in part} == set(LANGUAGES)


def test_new_ads_are_neither_copies_nor_in_the_sample_ads() -> None:
    new_texts = [row["text"] for path in (NEW_ADS, HELD_OUT_ADS) for row in rows_of(path)]
    texts = new_texts + [row["text"] for row in read_sample_rows()]
    assert not (set(new_texts) & {row["text"] for row in read_sample_rows()})
    assert [pair for pair in near_duplicate_pairs(texts) if pair[0] < len(new_texts)] == []
    assert {sentence: ads for sentence, ads in repeated_sentences(texts).items() if min(ads) < len(new_texts)} == {}


def test_the_shipped_model_misses_most_of_the_new_kind(scorer: Scorer) -> None:
    """The premise of the walk-through (and the figure in data/README.md): pick another kind if this fails."""
    lures = [row["text"] for path in (NEW_ADS, HELD_OUT_ADS) for row in rows_of(path) if row["kind"] == KIND]
    flagged = np.asarray(scorer.loaded.model.risk(lures)) >= scorer.loaded.model.threshold
    assert flagged.mean() < 0.5


def batch_scores(client: TestClient, texts: list[str]) -> list[dict]:
    response = client.post("/v1/score/batch", json={"items": [{"text": text} for text in texts]})
    assert response.status_code == 200
    return response.json()["results"]


def wait_until_serving(client: TestClient, name: str) -> None:
    deadline = time.monotonic() + 60  # a bound so a broken watcher fails instead of hanging
    while client.get("/v1/model").json()["name"] != name:
        assert time.monotonic() < deadline, f"the server never loaded {name}"
        time.sleep(0.05)


def cli(*arguments: object, models: Path) -> str:
    result = runner.invoke(app, [str(argument) for argument in arguments], env={"ADSCREEN_MODELS_DIR": str(models)})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.slow
def test_an_analyst_teaches_the_model_a_new_kind_and_can_undo_it(
    small_model: Path, small_labelled_file: Path, small_held_out_file: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR / SHIPPED, models / SHIPPED)
    shutil.copy(MODELS_DIR / "registry.json", models / "registry.json")
    held_out = [HELD_OUT_ADS, small_held_out_file]
    held_out_options = [option for path in held_out for option in ("--data", path)]

    cli("validate", small_labelled_file, NEW_ADS, "--test", HELD_OUT_ADS, models=models)
    current = json.loads(cli("evaluate", small_model, *held_out, "--json", models=models))
    cli(
        "train", small_labelled_file, NEW_ADS, "-o", models / RETRAINED,
        "--false-alarm-rate", current["false_positive_rate"], models=models,
    )  # fmt: skip
    retrained = json.loads((models / RETRAINED / "metadata.json").read_text())
    assert retrained["parameters"]["false_alarm_rate"] == current["false_positive_rate"]
    comparison = json.loads(cli("compare", models / RETRAINED, small_model, *held_out_options, "--json", models=models))

    kind = comparison["per_kind"][KIND]
    assert kind["new"]["recall"] >= kind["old"]["recall"]
    # At the same false-alarm rate both may flag the same share of the kind; the retrained one rates it higher.
    lures = [row["text"] for row in rows_of(HELD_OUT_ADS) if row["kind"] == KIND]
    old_risks, new_risks = (load_model_dir(folder).model.risk(lures) for folder in (small_model, models / RETRAINED))
    assert np.median(new_risks) > np.median(old_risks)
    overall = comparison["overall"]
    assert overall["old"]["false_positive_rate"] == current["false_positive_rate"]
    # The threshold keeps the old false-alarm rate in cross-validation. On these ~460 held-out legitimate ads
    # a rate carries about 0.007 of sampling noise (one standard error), so two of those are allowed, and the
    # ranking of all held-out ads may not get worse beyond the noise of a few ads.
    assert overall["new"]["false_positive_rate"] <= overall["old"]["false_positive_rate"] + 0.015
    assert overall["new"]["pr_auc"] >= overall["old"]["pr_auc"] - 0.005

    settings = Settings(models_dir=models, reload_interval=0.05, feedback_db=tmp_path / "feedback.sqlite3")
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/model").json()["name"] == SHIPPED
        before = batch_scores(client, lures)

        cli("models", "promote", RETRAINED, models=models)
        wait_until_serving(client, RETRAINED)
        after = batch_scores(client, lures)
        assert {result["model"]["name"] for result in after} == {RETRAINED}
        suspicious = [sum(result["label"] == "suspicious" for result in results) for results in (before, after)]
        assert suspicious[1] > suspicious[0]
        assert np.median([result["risk"] for result in after]) > np.median([result["risk"] for result in before])

        cli("models", "rollback", models=models)
        wait_until_serving(client, SHIPPED)
        assert batch_scores(client, lures) == before
