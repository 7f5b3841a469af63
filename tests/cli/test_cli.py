"""The command line: readable output, the JSON contract, one-line errors with exit code 2."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adscreen.cli import app

runner = CliRunner()
LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"
DATA = Path(__file__).resolve().parents[1] / "data"


def test_score_prints_band_flags_terms_and_hotlines() -> None:
    result = runner.invoke(app, ["score", LURE, "--country", "BY", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "High risk" in result.output
    assert "All warning signs" in result.output and "хостес" in result.output.lower()
    assert "Words the model weighed" in result.output
    assert "8 801 201 5555" in result.output


def test_score_warns_that_a_few_words_are_too_short_to_judge() -> None:
    result = runner.invoke(app, ["score", "Требуется грузчик", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Too short to judge (words in the text: 2" in " ".join(result.output.split())


def test_score_json_follows_the_contract() -> None:
    result = runner.invoke(app, ["score", LURE, "--json", "--country", "PL"])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert parsed["band"] == "high"
    assert parsed["guidance"]["country"] == "PL"
    for flag in parsed["red_flags"]:
        for start, end in flag["spans"]:
            assert LURE[start:end]


def test_score_reads_standard_input() -> None:
    result = runner.invoke(app, ["score", "-", "--json"], input=LURE)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["language"] == "ru"


@pytest.mark.parametrize(
    ("arguments", "stdin", "message"),
    [
        (["score", ""], None, "the ad text is empty"),
        (["score", "-"], b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8 text"),
        (["score", LURE, "--model", "models/does-not-exist"], None, "no such model folder"),
        (["train", str(DATA / "missing_column.csv"), "-o", "/tmp/adscreen-never"], None, "missing column"),
        (["evaluate", "models/does-not-exist", str(DATA / "good.csv")], None, "no such model folder"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(arguments: list[str], stdin: bytes | None, message: str) -> None:
    result = runner.invoke(app, arguments, input=stdin)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output + result.stderr


def test_evaluate_prints_every_part_family_language_and_false_alarm_rate(small_model: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    lure = "Работа в Дубае для девушек, билеты за наш счёт, пиши в лс, город {}"
    vacancy = "ООО «Склад-{}» (Минск) ищет кладовщика, оформление по ТК, оклад 2100 BYN"
    rows = [  # at least 10 ads per family and language, or the groups are too small to report
        {"text": text.format(number), "label": label, "source": "s", "language": "ru"}
        for number in range(6)
        for text, label in ((lure, 1), (vacancy, 0))
    ]
    real.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(small_model), str(real), str(DATA / "good.csv")])
    assert result.exit_code == 0, result.output
    assert "  overall " in result.stdout and "  family real " in result.stdout
    assert "  language ru " in result.stdout
    assert "false alarms ru" in result.stdout
    assert "  source s  n=12  recall " in result.stdout and "false alarms " in result.stdout
    assert "recall at 3% false alarms: " in result.stdout


def test_the_console_script_points_at_the_app() -> None:
    """pyproject's ``adscreen`` entry point names the Typer app (a moved module once left it pointing nowhere)."""
    import importlib
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    module, attribute = pyproject["project"]["scripts"]["adscreen"].split(":")
    assert getattr(importlib.import_module(module), attribute) is app
