"""Reading labelled files: both schemas, three formats, and a clear error for each kind of damage."""

from pathlib import Path

import pytest

from adscreen.errors import DataFormatError
from adscreen.training.corpus import EMSCAD_SOURCE, emscad_text, read_labelled

DATA = Path(__file__).resolve().parents[1] / "data"


def test_text_label_csv_and_parquet_are_read() -> None:
    ads = read_labelled([DATA / "good.csv", DATA / "good.parquet"])
    assert list(ads.frame["label"]) == [1, 0, 1, 0]
    assert ads.frame["text"][0] == "Работа в Польше, жильё"
    assert [summary.schema for summary in ads.files] == ["text+label", "text+label"]
    assert all(len(summary.sha256) == 64 for summary in ads.files)


def test_emscad_schema_joins_fields_into_one_text() -> None:
    ads = read_labelled([DATA / "job_posting_schema.csv"])
    first = ads.frame["text"][0]
    assert first.startswith("Data Entry Clerk\nUS, TX, Houston\n40000-60000")
    assert "pay registration fee" in first
    assert list(ads.frame["source"]) == [EMSCAD_SOURCE, EMSCAD_SOURCE]
    assert list(ads.frame["label"]) == [1, 0]


def test_emscad_text_skips_empty_fields() -> None:
    assert (
        emscad_text({"title": "Nurse", "company_profile": float("nan"), "description": " Night shifts "})
        == "Nurse\nNight shifts"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing_column.csv", "missing column: need 'text' and 'label'"),
        ("bad_label.csv", "row 3, column 'label': label must be 0 or 1, got 'yes'"),
        ("empty_text.jsonl", "row 2, column 'text': empty text"),
        ("binary.csv", "binary.csv"),
        ("broken.jsonl", "row 2: line 2 is not valid JSON"),
        ("nowhere.csv", "no such file"),
        ("notes.txt", "unknown file type"),
    ],
)
def test_damaged_files_give_one_clear_error(name: str, message: str) -> None:
    with pytest.raises(DataFormatError) as caught:
        read_labelled([DATA / name])
    assert message in str(caught.value)
    assert name in str(caught.value)
    assert "\n" not in str(caught.value)


def test_duplicate_texts_are_reported_and_conflicting_labels_named() -> None:
    ads = read_labelled([DATA / "duplicates.csv"])
    assert ads.duplicate_texts == 1
    assert len(ads.frame) == 2
    assert any("with another label" in warning for warning in ads.warnings)
    assert any("1 duplicate texts dropped" in warning for warning in ads.warnings)


def test_no_files_is_an_error() -> None:
    with pytest.raises(DataFormatError, match="no labelled data files"):
        read_labelled([])
