"""Validating labelled data before training: each kind of problem in deliberately broken files, and the exit codes."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from adscreen.cli import app
from adscreen.errors import DataFormatError
from adscreen.training.validation import Finding, Validation, validate_files, validate_frame

DATA = Path(__file__).resolve().parents[1] / "data"
TRAIN = DATA / "validate_train.csv"
HELD_OUT = DATA / "validate_test.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def with_test_file() -> Validation:
    return validate_files([TRAIN], [HELD_OUT])


def _finding(validation: Validation, check: str) -> Finding:
    matches = [finding for finding in validation.findings if finding.check == check]
    assert len(matches) == 1, [finding.check for finding in validation.findings]
    return matches[0]


@pytest.mark.parametrize(
    ("check", "severity", "ids"),
    [
        ("bad_label", "error", {"t07"}),
        ("empty_text", "error", {"t08"}),
        ("conflicting_labels", "error", {"t04", "t05"}),
        ("leakage", "error", {"t01", "t03", "h01"}),
        ("short_text", "warning", {"t09"}),
        ("duplicate", "warning", {"t01", "t03"}),
        ("near_duplicate", "warning", {"t02", "t06"}),
        ("near_leakage", "warning", {"t11", "h02"}),
        ("unsupported_language", "warning", {"t10"}),
        ("language_one_label", "warning", {"p01", "p02", "p03", "p04", "p05"}),
        ("language_mismatch", "warning", {"t11"}),
    ],
)
def test_each_problem_is_found_with_its_rows(with_test_file: Validation, check: str, severity: str, ids: set) -> None:
    finding = _finding(with_test_file, check)
    assert finding.severity == severity
    assert {row.id for row in finding.rows} == ids
    assert all(row.row >= 2 for row in finding.rows)  # spreadsheet rows: the CSV header is row 1


def test_bad_label_row_and_value_are_named(with_test_file: Validation) -> None:
    finding = _finding(with_test_file, "bad_label")
    assert "'yes'" in finding.message
    assert [(Path(row.file).name, row.row) for row in finding.rows] == [("validate_train.csv", 8)]


def test_errors_come_before_warnings(with_test_file: Validation) -> None:
    severities = [finding.severity for finding in with_test_file.findings]
    assert severities == sorted(severities, key=lambda severity: severity != "error")
    assert with_test_file.to_dict()["errors"] > 0


def test_summary_counts_labels_and_languages(with_test_file: Validation) -> None:
    train = with_test_file.summary["train"]
    assert train["rows"] == 16
    assert train["labels"] == {"0": 6, "1": 9, "invalid": 1}
    assert train["languages"]["pl"] == {"1": 5}
    assert with_test_file.summary["test"]["rows"] == 3


def test_copies_across_files_are_named_without_a_test_file() -> None:
    validation = validate_files([TRAIN, HELD_OUT])
    assert {row.id for row in _finding(validation, "across_files").rows} == {"t01", "t03", "h01"}
    assert not [finding for finding in validation.findings if finding.check == "leakage"]


def _frame(texts: list[str], labels: list[int | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": texts,
            "label": pd.array(labels, dtype="Int64"),
            "language": "",
            "file": "ads.csv",
            "row": range(2, 2 + len(texts)),
            "id": "",
            "raw_label": labels,
        }
    )


def test_one_label_only_is_an_error_and_a_rare_label_a_warning() -> None:
    texts = [f"Ad number {index}: warehouse work in town {index}, contract and named employer" for index in range(30)]
    one_label = validate_frame(_frame(texts, [1] * 30), detect=lambda text: "en")
    assert _finding(one_label, "one_label").severity == "error"
    rare = validate_frame(_frame(texts, [1] * 28 + [0] * 2), detect=lambda text: "en")
    imbalance = _finding(rare, "imbalance")
    assert imbalance.severity == "warning" and "only 2 ads (7%) have label 0" in imbalance.message


def test_unreadable_file_is_an_error_finding_and_the_rest_is_still_checked() -> None:
    validation = validate_files([DATA / "missing_column.csv", TRAIN])
    unreadable = _finding(validation, "unreadable_file")
    assert "missing_column.csv" in unreadable.message and unreadable.severity == "error"
    assert _finding(validation, "bad_label")


def test_no_files_is_a_data_error() -> None:
    with pytest.raises(DataFormatError, match="no labelled data files"):
        validate_files([])


def test_cli_exits_2_on_errors_with_one_line_on_stderr() -> None:
    result = runner.invoke(app, ["validate", str(TRAIN), "--test", str(HELD_OUT)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: 4 errors in the data; fix them before training"
    assert "bad_label" in result.stdout and "validate_train.csv:8 (t07)" in result.stdout


def test_cli_exits_0_with_warnings_only(small_labelled_file: Path) -> None:
    result = runner.invoke(app, ["validate", str(small_labelled_file), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["errors"] == 0
    assert report["summary"]["train"]["rows"] > 300
    assert set(report["summary"]["train"]["languages"]) >= {"ru", "be", "uk", "pl", "en"}


def test_cli_json_lists_every_row() -> None:
    result = runner.invoke(app, ["validate", str(TRAIN), "--json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    by_check = {finding["check"]: finding for finding in report["findings"]}
    assert by_check["language_one_label"]["rows"][0] == {"file": str(TRAIN), "row": 13, "id": "p01"}
    assert report["errors"] == 3  # no test file, so no leakage


@pytest.mark.parametrize(("name", "message"), [("nowhere.csv", "no such file"), ("notes.txt", "unknown file type")])
def test_cli_unreadable_file_exits_2(name: str, message: str) -> None:
    result = runner.invoke(app, ["validate", str(DATA / name)])
    assert result.exit_code == 2
    assert message in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
