"""Every command reads tables through the one lossless reader and applies the same limits.

Each test here failed before the readers were one: ``campaigns``, ``report``, ``train`` and
``validate`` read with pandas and refused a CSV that ``score-file`` keeps; ``score-file --campaigns``
re-read its own output, assumed a ``text`` column and stopped on bytes the writer preserved;
``ADSCREEN_MAX_AD_CHARS`` was ignored outside ``score-file`` and the server; and ``train`` knew
fewer label words than the corrections did.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from adscreen.cli import app
from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.training.corpus import read_labelled

runner = CliRunner()
LURE = "Девушки 18-25, работа хостес в Дубае, билеты и жильё оплачиваем, пишите в Telegram @dubai_job"
VACANCY = "ООО «Складские системы», г. Минск: требуются кладовщики, оформление по ТК, оклад 2100 рублей."
DAMAGED_LINE = 'x,"a line, with, too, many, fields",1,extra,fields\n'


def labelled_csv(path: Path, rows: int = 40, damaged: bool = False) -> Path:
    """A labelled CSV of sample ads, one line each; ``damaged`` puts a line with too many fields at line 6."""
    texts = [json.loads(line) for line in (SAMPLE_ADS_DIR / "ru_risky.jsonl").read_text(encoding="utf-8").splitlines()]
    legit = [json.loads(line) for line in (SAMPLE_ADS_DIR / "ru_legit.jsonl").read_text(encoding="utf-8").splitlines()]
    frame = pd.DataFrame(
        [{"text": " ".join(ad["text"].split()), "label": 1} for ad in texts[: rows // 2]]
        + [{"text": " ".join(ad["text"].split()), "label": 0} for ad in legit[: rows // 2]]
    )
    frame.insert(0, "id", [f"ad{index}" for index in range(len(frame))])
    content = frame.to_csv(index=False)
    if damaged:
        lines = content.splitlines(keepends=True)
        content = "".join(lines[:5]) + DAMAGED_LINE + "".join(lines[5:])
    path.write_text(content, encoding="utf-8")
    return path


def dump_csv(path: Path, damaged: bool) -> Path:
    lines = ["id,text\n", f'1,"{LURE}"\n', f'2,"{VACANCY}"\n']
    if damaged:
        lines.append('3,"one","two","three"\n')
    lines.append(f'4,"{LURE} Звоните!"\n')
    path.write_text("".join(lines), encoding="utf-8")
    return path


# --- A damaged line: kept by every reader, named by the commands that must refuse it --------------------------


def test_campaigns_keeps_a_damaged_row_in_its_place_with_its_error(tmp_path: Path) -> None:
    source = dump_csv(tmp_path / "dump.csv", damaged=True)
    result = runner.invoke(
        app, ["campaigns", str(source), "-o", str(tmp_path / "c.csv"), "--ads-output", str(tmp_path / "ads.csv")]
    )
    assert result.exit_code == 0, result.output
    ads = pd.read_csv(tmp_path / "ads.csv", dtype=str)
    assert ads["id"].tolist() == ["1", "2", "3", "4"]
    assert "line 4 has 4 fields where the header has 2" in ads.loc[2, "error"]
    assert ads["error"].isna().tolist() == [True, True, False, True]
    assert "1 rows could not be read whole" in result.output


def test_report_reads_a_damaged_csv(tmp_path: Path) -> None:
    source = dump_csv(tmp_path / "dump.csv", damaged=True)
    result = runner.invoke(app, ["report", str(source), "-o", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    assert "4 ads" in result.output
    assert (tmp_path / "report.html").stat().st_size > 1000


def test_train_names_the_damaged_line_instead_of_a_pandas_error(tmp_path: Path) -> None:
    source = labelled_csv(tmp_path / "ads.csv", damaged=True)
    result = runner.invoke(app, ["train", str(source), "-o", str(tmp_path / "models" / "m")])
    assert result.exit_code == 2
    assert "row 6: line 6 has 5 fields where the header has 3" in result.output
    assert "tokenizing" not in result.output


def test_validate_lists_the_damaged_row_as_an_error(tmp_path: Path) -> None:
    source = labelled_csv(tmp_path / "ads.csv", damaged=True)
    result = runner.invoke(app, ["validate", str(source), "--json"])
    assert result.exit_code == 2
    findings = json.loads(result.stdout)["findings"]
    damaged = next(finding for finding in findings if finding["check"] == "damaged_row")
    assert damaged["severity"] == "error" and [row["row"] for row in damaged["rows"]] == [6]


def test_a_file_that_reads_whole_reads_the_same_as_pandas_read_it(tmp_path: Path) -> None:
    """The one reader changes nothing for a clean file: texts, labels and ids as before."""
    source = labelled_csv(tmp_path / "ads.csv")
    frame = read_labelled([source]).frame
    expected = pd.read_csv(source, dtype=str)
    assert frame["text"].tolist() == expected["text"].tolist()
    assert frame["label"].tolist() == expected["label"].astype(int).tolist()
    assert frame["id"].tolist() == expected["id"].tolist()


# --- score-file --campaigns groups what it scored --------------------------------------------------------------


def test_score_file_campaigns_on_an_emscad_schema_file(tmp_path: Path) -> None:
    """No ``text`` column: the campaigns come from the EMSCAD fields joined, as the ads were scored."""
    ad = {"title": "Hostess in Dubai", "description": "Flights and housing paid, write on Telegram @dubai_job"}
    frame = pd.DataFrame(
        [{**ad, "job_id": str(number)} for number in range(1, 4)]
        + [{"title": "Warehouse clerk", "description": "Logistics company in Minsk, contract, 2100 BYN", "job_id": "4"}]
    )
    frame.to_csv(tmp_path / "jobs.csv", index=False)
    result = runner.invoke(
        app,
        [
            "score-file", str(tmp_path / "jobs.csv"), "-o", str(tmp_path / "scored.csv"),
            "--id-column", "job_id", "--campaigns", str(tmp_path / "campaigns.jsonl"), "--quiet",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    campaigns = [json.loads(line) for line in (tmp_path / "campaigns.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [sorted(campaign["members"]) for campaign in campaigns] == [["1", "2", "3"]]
    scored = pd.read_csv(tmp_path / "scored.csv", dtype={"job_id": str})
    assert campaigns[0]["max_risk"] == pytest.approx(scored["risk"][:3].max())


def test_score_file_campaigns_on_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    """A cell in another encoding is that row's error; the rest are scored and grouped."""
    lure = LURE.encode("utf-8")
    vacancy = VACANCY.encode("cp1251")
    content = b'id,text\n1,"' + lure + b'"\n2,"' + vacancy + b'"\n3,"' + lure + b'"\n'
    (tmp_path / "mixed.csv").write_bytes(content)
    result = runner.invoke(
        app,
        [
            "score-file", str(tmp_path / "mixed.csv"), "-o", str(tmp_path / "scored.csv"),
            "--campaigns", str(tmp_path / "campaigns.csv"), "--quiet",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    campaigns = pd.read_csv(tmp_path / "campaigns.csv", dtype=str)
    assert campaigns["members"].tolist() == ["1|3"]
    assert "2 scored, 1 with errors" in result.output
    with (tmp_path / "scored.csv").open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        errors = [row["error"] for row in csv.DictReader(handle)]
    assert errors[0] == errors[2] == "" and "not valid UTF-8" in errors[1]


# --- One ad-length limit for every command ---------------------------------------------------------------------


@pytest.fixture()
def short_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("ADSCREEN_MAX_AD_CHARS", "60")
    return 60


def test_score_applies_the_ad_length_limit(short_limit: int) -> None:
    result = runner.invoke(app, ["score", LURE])
    assert result.exit_code == 2 and f"the limit is {short_limit}" in result.output


@pytest.mark.parametrize("command", ["evaluate", "train", "validate"])
def test_labelled_data_commands_apply_the_ad_length_limit(command: str, short_limit: int, tmp_path: Path) -> None:
    source = labelled_csv(tmp_path / "ads.csv")
    arguments = {
        "evaluate": ["evaluate", "adscreen-v2", str(source)],
        "train": ["train", str(source), "-o", str(tmp_path / "models" / "m")],
        "validate": ["validate", str(source)],
    }[command]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2
    assert f"the limit is {short_limit}" in result.output


def test_compare_applies_the_ad_length_limit(short_limit: int, tmp_path: Path) -> None:
    source = labelled_csv(tmp_path / "ads.csv")
    result = runner.invoke(app, ["compare", "adscreen-v2", "adscreen-v2", "--data", str(source)])
    assert result.exit_code == 2 and f"the limit is {short_limit}" in result.output


@pytest.mark.parametrize("command", ["campaigns", "report"])
def test_dump_commands_skip_an_ad_over_the_limit_instead_of_stopping(
    command: str, short_limit: int, tmp_path: Path
) -> None:
    source = dump_csv(tmp_path / "dump.csv", damaged=False)
    target = tmp_path / ("out.html" if command == "report" else "out.csv")
    extra = ["--ads-output", str(tmp_path / "ads.csv")] if command == "campaigns" else []
    result = runner.invoke(app, [command, str(source), "-o", str(target), *extra])
    assert result.exit_code == 0, result.output
    if command == "campaigns":
        ads = pd.read_csv(tmp_path / "ads.csv", dtype=str)
        assert all(f"the limit is {short_limit}" in error for error in ads["error"])


# --- One label vocabulary --------------------------------------------------------------------------------------


def test_training_files_accept_the_words_corrections_accept(tmp_path: Path) -> None:
    source = labelled_csv(tmp_path / "ads.csv")
    frame = pd.read_csv(source, dtype=str)
    frame["label"] = frame["label"].map({"1": "suspicious", "0": "looks_ok"})
    frame.to_csv(tmp_path / "words.csv", index=False)
    assert (
        read_labelled([tmp_path / "words.csv"]).frame["label"].tolist()
        == frame["label"].map({"suspicious": 1, "looks_ok": 0}).tolist()
    )


def test_campaigns_reads_list_and_object_cells_as_their_text(tmp_path: Path) -> None:
    """A JSONL dump may hold a list or an object where text is expected: it is read as text, not a crash."""
    rows = [
        {"id": ["a", 1], "text": LURE},
        {"id": "b", "text": {"body": VACANCY}},
        {"id": "c", "text": LURE, "country": ["BY"]},
    ]
    source = tmp_path / "dump.jsonl"
    source.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["campaigns", str(source), "-o", str(tmp_path / "c.csv"), "--ads-output", str(tmp_path / "ads.jsonl")]
    )
    assert result.exit_code == 0, result.output
    ads = [json.loads(line) for line in (tmp_path / "ads.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [ad["id"] for ad in ads] == [["a", 1], "b", "c"]  # written back as they came
    assert ads[0]["campaign_id"] == ads[2]["campaign_id"] is not None  # the two copies of the lure, grouped
    assert ads[1]["text"] == {"body": VACANCY}
