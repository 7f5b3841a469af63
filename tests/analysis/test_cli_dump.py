"""``adscreen campaigns`` and ``adscreen report`` on dump files: outputs, formats, and one-line errors."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from adscreen.cli import app
from planted import load_material, planted_dump

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def dump_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small planted dump with a risk column, as score-file writes it, so no model is needed."""
    frame = planted_dump(400, seed=11, material=load_material())
    frame["risk"] = [round(0.1 + (index % 9) / 10, 2) for index in range(len(frame))]
    path = tmp_path_factory.mktemp("dump") / "ads.csv"
    frame.drop(columns=["planted"]).to_csv(path, index=False)
    return path


def test_campaigns_writes_the_table_and_each_ads_campaign(dump_file: Path, tmp_path: Path) -> None:
    # The file has risks, so the model is never loaded: a missing one does not matter.
    result = runner.invoke(
        app,
        [
            "campaigns",
            str(dump_file),
            "-o",
            str(tmp_path / "campaigns.jsonl"),
            "--ads-output",
            str(tmp_path / "ads.parquet"),
            "--model",
            "models/does-not-exist",
        ],
    )
    assert result.exit_code == 0, result.output
    campaigns = [json.loads(line) for line in (tmp_path / "campaigns.jsonl").read_text(encoding="utf-8").splitlines()]
    assert campaigns and campaigns[0]["campaign_id"] == "C0001"
    assert campaigns[0]["size"] == len(campaigns[0]["members"]) >= campaigns[-1]["size"] >= 2
    assert {"shared_contacts", "languages", "first_seen", "last_seen", "max_risk", "median_risk"} <= set(campaigns[0])
    ads = pd.read_parquet(tmp_path / "ads.parquet")
    assert len(ads) == 400 and list(ads.columns[:2]) == ["id", "text"]
    first = campaigns[0]
    assert sorted(ads.loc[ads["campaign_id"] == "C0001", "id"]) == sorted(first["members"])
    risks = ads.set_index("id").loc[first["members"], "risk"].astype(float)
    assert first["max_risk"] == pytest.approx(risks.max())
    assert f"{len(campaigns)} campaigns" in result.stdout


def test_campaigns_csv_joins_lists_with_bars(dump_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["campaigns", str(dump_file), "-o", str(tmp_path / "campaigns.csv")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "campaigns.csv")
    assert table.loc[0, "size"] == len(table.loc[0, "members"].split("|"))


@pytest.mark.parametrize(("option", "first_cell"), [([], "'=HYPERLINK"), (["--no-csv-escape"], "=HYPERLINK")])
def test_campaigns_csv_outputs_neutralise_formulas_unless_told_not_to(
    dump_file: Path, tmp_path: Path, option: list[str], first_cell: str
) -> None:
    """Analysts open the ads file in Excel: an ad that starts like a formula must stay text."""
    frame = pd.read_csv(dump_file)
    frame.loc[0, "text"] = '=HYPERLINK("http://x.example","Apply")' + frame.loc[0, "text"]
    source = tmp_path / "with_formula.csv"
    frame.to_csv(source, index=False)
    ads = tmp_path / "ads.csv"
    command = ["campaigns", str(source), "-o", str(tmp_path / "campaigns.csv"), "--ads-output", str(ads), *option]
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    texts = pd.read_csv(ads)["text"]
    assert texts[0].startswith(first_cell)
    if option:
        assert texts.tolist() == frame["text"].tolist()
    else:
        assert not texts.str.match(r"[=+\-@]").any()
        assert texts.str.removeprefix("'").tolist() == frame["text"].tolist()


@pytest.mark.slow
def test_report_writes_one_html_file(dump_file: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.jsonl"
    pd.read_csv(dump_file).head(120).drop(columns=["risk"]).to_json(small, orient="records", lines=True)
    result = runner.invoke(app, ["report", str(small), "-o", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Highest-risk ads and their evidence" in html and "120</strong> ads" in html


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["campaigns", str(DATA / "missing_column.csv"), "-o", "OUT/c.csv"], "no column 'text'"),
        (["campaigns", str(DATA / "good.csv"), "-o", "OUT/c.xlsx"], "unknown file type"),
        (["campaigns", str(DATA / "good.csv"), "-o", "OUT/c.csv", "--text-column", "body"], "no column 'body'"),
        (["campaigns", str(DATA / "no_such_file.csv"), "-o", "OUT/c.csv"], "no such file"),
        (["report", str(DATA / "good.csv"), "-o", "OUT/report.pdf"], "name it .html"),
        (["report", str(DATA / "empty_text.jsonl"), "-o", "OUT/r.html", "--text-column", "nope"], "no column 'nope'"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(arguments: list[str], message: str, tmp_path: Path) -> None:
    arguments = [argument.replace("OUT", str(tmp_path)) for argument in arguments]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output + result.stderr
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_a_risk_column_that_is_not_a_risk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scored.csv"
    pd.DataFrame({"text": ["Работа в Польше, жильё", "Офис-менеджер"], "risk": [0.5, 7]}).to_csv(path, index=False)
    result = runner.invoke(app, ["campaigns", str(path), "-o", str(tmp_path / "c.csv")])
    assert result.exit_code == 2
    assert "row 2: column 'risk' must be a risk between 0 and 1" in result.stderr
