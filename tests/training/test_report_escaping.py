"""Values from the data never reach a report raw: the model card (Markdown) and the HTML reports escape them.

The training data here is hostile: its file name and its ``language`` and ``kind`` cells carry
HTML. Markdown renders raw HTML, so a ``<script>`` in a ``language`` cell ran when the model
card was opened in a browser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adscreen.paths import MODELS_DIR
from adscreen.registry import Registry, load_model_dir
from adscreen.training.compare import compare_files, render_comparison
from adscreen.training.report import MODEL_CARD_FILE, REPORT_FILE, render_model_card
from adscreen.training.runs import train_to_folder

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(2)>"
RAW = ("<script", "<img src=x")


@pytest.fixture(scope="module")
def hostile_file(small_labelled_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small labelled ads, every third with a script as its language and an image tag as its kind."""
    rows = [json.loads(line) for line in small_labelled_file.read_text(encoding="utf-8").splitlines()]
    for index, row in enumerate(rows):
        if index % 3 == 0:
            row.update(language=SCRIPT, kind=IMAGE)
    target = tmp_path_factory.mktemp("hostile") / "<script>alert(3)|`x`.jsonl"
    target.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def hostile_model(hostile_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "hostile"
    train_to_folder([hostile_file], folder, say=lambda line: None)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("name", [MODEL_CARD_FILE, REPORT_FILE])
def test_training_outputs_never_hold_data_html_raw(hostile_model: Path, name: str) -> None:
    written = (hostile_model / name).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in written  # the language is there, escaped
    assert "alert(3)" in written  # and so is the file name
    assert not any(tag in written for tag in RAW)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_comparison_reports_never_hold_data_html_raw(hostile_model: Path, hostile_file: Path, suffix: str) -> None:
    loaded = load_model_dir(hostile_model)
    written = render_comparison(compare_files(loaded, loaded, [hostile_file]), Path(f"compare{suffix}"))
    assert "alert(1)" in written
    assert not any(tag in written for tag in RAW)


def test_markdown_syntax_in_a_value_cannot_break_out_of_its_place() -> None:
    """A backtick would end the code span around a file name, a pipe the table cell, a line break the row."""
    metadata = json.loads((Registry(MODELS_DIR).current_path()[0] / "metadata.json").read_text())
    metadata["data"]["files"][0]["path"] = "ads`" + SCRIPT + "|\n| injected | row |.jsonl"
    card = render_model_card(metadata)
    line = next(line for line in card.splitlines() if "ads&#96;" in line)
    assert line.startswith("| `ads&#96;&lt;script&gt;") and line.count("|") == 5
    assert "| injected | row |" not in card and "<script" not in card
