"""Analysts' corrections: validated, deduplicated, stored in SQLite, exported for read_labelled, learnt by train.

Through the store, ``POST /v1/feedback``, ``adscreen feedback ...``, ``adscreen train --feedback-db``
and the web form's opt-in correction.
"""

import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adscreen import Scorer
from adscreen.cli import app
from adscreen.config import Settings
from adscreen.errors import DataFormatError, InputError, InputTooLarge
from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.registry import Registry
from adscreen.serve.app import create_app
from adscreen.training.corpus import read_labelled
from adscreen.training.feedback import FeedbackStore, correction
from adscreen.training.labels import parse_label

LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"
LEGIT = "Бухгалтер в ООО «Альфа», Минск, трудовой договор, оклад 2500 BYN, соцпакет"
runner = CliRunner()


@pytest.fixture()
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite3", max_chars=500)


# --- validation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), (0, 0), ("1", 1), ("0", 0), ("suspicious", 1), ("looks_ok", 0), (" Suspicious ", 1), ("LOOKS_OK", 0)],
)
def test_labels_accepted(value: object, expected: int) -> None:
    assert parse_label(value) == expected
    assert correction(text=LURE, label=value).label == expected


@pytest.mark.parametrize("value", [2, -1, 0.5, "yes", "", None, "scam", "2"])
def test_labels_refused_with_the_accepted_values_named(value: object) -> None:
    with pytest.raises(InputError, match=r"label: label must be 1 or 'suspicious'.*got"):
        correction(text=LURE, label=value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "   ", "label": 1}, "text: the ad text is empty"),
        ({"label": 1}, "text: Field required"),
        ({"text": LURE}, "label: Field required"),
        ({"text": LURE, "label": 1, "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"text": LURE, "label": 1, "note": "x" * 2001}, "note: String should have at most 2000 characters"),
    ],
)
def test_bad_corrections_are_refused_clearly(fields: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        correction(**fields)


def test_text_over_the_limit_is_too_large(store: FeedbackStore) -> None:
    with pytest.raises(InputTooLarge, match="limit is 500"):
        store.add(correction(text="x" * 501, label=1), source="cli")
    assert not store.path.exists()


# --- storing and deduplicating ----------------------------------------------------------------------------------


def test_a_correction_is_stored_with_everything_it_came_with(store: FeedbackStore) -> None:
    item = correction(text=LURE, label="suspicious", note="known lure", kind="hostess_abroad", model_name="m1")
    assert store.add(item, source="api") == (1, "created")
    row = store.frame().iloc[0]
    assert (row.text, row.label, row.note, row.kind, row.source, row.model_name) == (
        LURE,
        1,
        "known lure",
        "hostess_abroad",
        "api",
        "m1",
    )
    assert row.language == "ru"  # detected, since none was given
    assert row.created_at == row.updated_at and row.times_sent == 1 and row.label_changes == 0


def test_the_same_ad_and_label_is_one_row_counted(store: FeedbackStore) -> None:
    first_id, _ = store.add(correction(text=LURE, label=1), source="web")
    respaced = "  " + LURE.upper().replace(" ", "  \n") + " "
    assert store.add(correction(text=respaced, label="suspicious", note="added later"), source="cli") == (
        first_id,
        "duplicate",
    )
    rows = store.frame()
    assert len(rows) == 1
    assert rows.iloc[0].text == LURE and rows.iloc[0].times_sent == 2
    assert rows.iloc[0].note == "added later"  # a missing note is filled in; the first text and source stay
    assert rows.iloc[0].source == "web"


def test_a_conflicting_label_replaces_the_old_one_and_is_counted(store: FeedbackStore) -> None:
    store.add(correction(text=LEGIT, label=1, note="looked odd"), source="web")
    row_id, status = store.add(correction(text=LEGIT, label="looks_ok", note="checked: real employer"), "cli")
    assert status == "relabelled"
    row = store.frame().set_index("id").loc[row_id]
    assert (row.label, row.note, row.source, row.label_changes, row.times_sent) == (
        0,
        "checked: real employer",
        "cli",
        1,
        2,
    )


def test_concurrent_senders_of_one_ad_make_one_row(store: FeedbackStore) -> None:
    results: list[tuple[int, str]] = []

    def send() -> None:
        results.append(store.add(correction(text=LURE, label=1, language="ru"), source="api"))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for _, status in results) == ["created"] + ["duplicate"] * 7
    assert len({row_id for row_id, _ in results}) == 1
    assert store.frame().iloc[0].times_sent == 8


def test_reading_before_any_correction_or_a_foreign_file_is_a_clear_error(store: FeedbackStore) -> None:
    with pytest.raises(DataFormatError, match="no feedback database yet"):
        store.frame()
    store.path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DataFormatError, match="not a usable feedback database"):
        store.frame()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_export_reads_back_through_read_labelled(store: FeedbackStore, tmp_path: Path, suffix: str) -> None:
    store.add(correction(text=LURE, label="suspicious", kind="hostess_abroad"), source="cli")
    store.add(correction(text=LEGIT, label=0, note='quotes " and, commas\nand lines'), source="web")
    target = tmp_path / f"corrections{suffix}"
    assert store.export(target) == 2
    frame = read_labelled([target]).frame
    assert list(frame["text"]) == [LURE, LEGIT]
    assert list(frame["label"]) == [1, 0]
    assert list(frame["language"]) == ["ru", "ru"]
    assert frame["kind"].iloc[0] == "hostess_abroad"


# --- HTTP API -----------------------------------------------------------------------------------------------------


@pytest.fixture()
def client(scorer: Scorer, tmp_path: Path) -> TestClient:
    settings = Settings(max_ad_chars=500, feedback_db=tmp_path / "api.sqlite3")
    with TestClient(create_app(settings, scorer=scorer)) as client:
        yield client


def test_post_feedback_stores_and_answers_201_then_200(client: TestClient, scorer: Scorer, tmp_path: Path) -> None:
    created = client.post("/v1/feedback", json={"text": LURE, "label": "suspicious", "note": "known lure"})
    assert created.status_code == 201
    assert created.json() == {"id": 1, "status": "created"}
    again = client.post("/v1/feedback", json={"text": LURE, "label": 1})
    assert (again.status_code, again.json()) == (200, {"id": 1, "status": "duplicate"})
    relabelled = client.post("/v1/feedback", json={"text": LURE, "label": 0, "model_name": "older-model"})
    assert (relabelled.status_code, relabelled.json()["status"]) == (200, "relabelled")
    client.post("/v1/feedback", json={"text": LEGIT, "label": "looks_ok"})
    rows = FeedbackStore(tmp_path / "api.sqlite3").frame().set_index("id")
    assert rows.loc[1, "model_name"] == "older-model"  # named by the sender
    assert rows.loc[2, "model_name"] == scorer.loaded.name  # else the model serving
    assert rows.loc[2, "model_version"] == scorer.loaded.version
    assert set(rows["source"]) == {"api"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"text": "", "label": 1}, 422, "text: the ad text is empty"),
        ({"text": LURE, "label": "maybe"}, 422, "label must be 1 or 'suspicious'"),
        ({"text": LURE}, 422, "label: Field required"),
        ({"text": LURE, "label": 1, "extra": True}, 422, "extra: Extra inputs are not permitted"),
        ({"text": ["not", "text"], "label": 1}, 422, "text"),
        ({"text": "x" * 501, "label": 1}, 413, "limit is 500"),
    ],
)
def test_post_feedback_refuses_bad_input(
    client: TestClient, tmp_path: Path, body: dict, status: int, message: str
) -> None:
    response = client.post("/v1/feedback", json=body)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert not (tmp_path / "api.sqlite3").exists()


# --- web form -----------------------------------------------------------------------------------------------------


def test_checking_an_ad_stores_nothing_and_offers_an_opt_in_correction(client: TestClient, tmp_path: Path) -> None:
    page = client.post("/", data={"text": LURE, "country": "BY", "lang": "en"}).text
    assert "Nothing you paste is stored or logged unless you choose to send it as a correction" in page
    assert '<form method="post" action="/feedback">' in page
    assert '<input type="hidden" name="label" value="0">' in page  # the result said suspicious
    assert "this ad is a legitimate job" in page
    legit_page = client.post("/", data={"text": LEGIT, "country": "BY", "lang": "en"}).text
    assert '<input type="hidden" name="label" value="1">' in legit_page
    assert not (tmp_path / "api.sqlite3").exists()


def test_sending_a_correction_from_the_form_stores_it_and_thanks(
    client: TestClient, scorer: Scorer, tmp_path: Path
) -> None:
    form = {"text": LURE, "label": "0", "note": "my cousin works there", "lang": "ru", "country": "BY"}
    form |= {"model_name": scorer.loaded.name, "model_version": scorer.loaded.version}
    sent = client.post("/feedback", data=form, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/?lang=ru&thanks=1"
    thanks = client.get(sent.headers["location"])
    assert "Спасибо" in thanks.text and 'role="status"' in thanks.text
    row = FeedbackStore(tmp_path / "api.sqlite3").frame().iloc[0]
    assert (row.text, row.label, row.note, row.source, row.model_name) == (
        LURE,
        0,
        "my cousin works there",
        "web",
        scorer.loaded.name,
    )


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"text": "  ", "label": "1"}, 422, "the ad text is empty"),
        ({"text": LURE, "label": "2"}, 422, "label must be 1"),
        ({"text": "x" * 501, "label": "1"}, 413, "limit is 500"),
    ],
)
def test_a_bad_correction_from_the_form_shows_why(
    client: TestClient, tmp_path: Path, form: dict, status: int, message: str
) -> None:
    response = client.post("/feedback", data={**form, "lang": "en"})
    assert response.status_code == status
    assert 'role="alert"' in response.text and message in response.text
    assert not (tmp_path / "api.sqlite3").exists()


def test_the_correction_route_is_post_only(client: TestClient) -> None:
    assert client.get("/feedback").status_code == 405


# --- command line -------------------------------------------------------------------------------------------------


def test_cli_add_list_and_export(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    added = runner.invoke(app, ["feedback", "add", LURE, "--label", "suspicious", "--kind", "hostess", "--db", str(db)])
    assert added.exit_code == 0, added.output
    assert "created: correction 1" in added.stdout
    piped = runner.invoke(app, ["feedback", "add", "-", "-l", "0", "--note", "real", "--db", str(db)], input=LEGIT)
    assert piped.exit_code == 0, piped.output
    runner.invoke(app, ["feedback", "add", LEGIT, "-l", "1", "--db", str(db)])
    listed = runner.invoke(app, ["feedback", "list", "--db", str(db)])
    assert listed.exit_code == 0 and "2 corrections" in listed.stdout and "Бухгалтер" in listed.stdout
    relabelled = runner.invoke(app, ["feedback", "list", "--relabelled", "--db", str(db)])
    assert "1 corrections relabelled" in relabelled.stdout and "Девушки" not in relabelled.stdout
    target = tmp_path / "out.jsonl"
    exported = runner.invoke(app, ["feedback", "export", "-o", str(target), "--db", str(db)])
    assert exported.exit_code == 0 and "wrote 2 corrections" in exported.stdout
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [(row["text"], row["label"], row["source"]) for row in rows] == [(LURE, 1, "cli"), (LEGIT, 1, "cli")]
    assert rows[0]["model_name"] == Registry(Settings().models_dir).read()["current"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["feedback", "add", LURE, "--label", "maybe"], "label must be 1 or 'suspicious'"),
        (["feedback", "add", "   ", "--label", "1"], "the ad text is empty"),
        (["feedback", "list"], "no feedback database yet"),
        (["feedback", "export", "-o", "out.txt"], "unknown file type"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code_2(tmp_path: Path, arguments: list[str], message: str) -> None:
    result = runner.invoke(app, [*arguments, "--db", str(tmp_path / "none.sqlite3")])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


# --- training on corrections ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_labelled_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every tenth sample ad: about a hundred, enough to train on, quick to train."""
    rows = []
    for path in sorted(SAMPLE_ADS_DIR.glob("*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[::10])
    target = tmp_path_factory.mktemp("tiny") / "tiny.jsonl"
    target.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    return target


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The least populated class")  # one correction per label in a tiny data set
def test_train_with_feedback_learns_the_corrections(tiny_labelled_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    first_ad = json.loads(tiny_labelled_file.read_text(encoding="utf-8").splitlines()[0])
    store = FeedbackStore(db)
    store.add(correction(text=first_ad["text"], label=1 - first_ad["label"], note="relabelled"), source="cli")
    store.add(correction(text=LURE, label=1), source="web")
    output = tmp_path / "models" / "with-feedback"
    result = runner.invoke(app, ["train", str(tiny_labelled_file), "-o", str(output), "--feedback-db", str(db)])
    assert result.exit_code == 0, result.output
    assert "training also on 2 corrections" in result.stderr
    data = json.loads((output / "metadata.json").read_text())["data"]
    snapshot = data["files"][0]
    assert snapshot["path"] == str(tmp_path / "training-snapshots" / "with-feedback" / "feedback.jsonl")
    assert snapshot["rows"] == 2
    # Corrections are real ads, each row naming the channel it came by: the family that is weighed and held out by source.
    assert data["by_family"]["real"]["rows"] == 2
    assert data["by_family"]["real"]["sources"] == 2
    assert data["duplicate_texts_dropped"] >= 1  # the sample ad's old label lost to the correction
    kept = read_labelled([Path(snapshot["path"]), tiny_labelled_file]).frame.set_index("text")
    assert kept.loc[first_ad["text"], "label"] == 1 - first_ad["label"]


@pytest.mark.parametrize(
    ("create", "message"), [(False, "no feedback database yet"), (True, "no corrections to train on")]
)
def test_train_with_feedback_but_no_corrections_is_an_error(
    tiny_labelled_file: Path, tmp_path: Path, create: bool, message: str
) -> None:
    db = tmp_path / "empty.sqlite3"
    if create:
        db.touch()  # an empty file is an empty SQLite database
    result = runner.invoke(app, ["train", str(tiny_labelled_file), "-o", str(tmp_path / "m"), "--feedback-db", str(db)])
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "m").exists()
    assert not (tmp_path / "training-snapshots" / "m" / "feedback.jsonl").exists()
