"""Batch scoring of files: nothing lost, nothing reordered, same scores as one-by-one, both engines, the API."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from adscreen import Scorer
from adscreen.batch.chunk import BatchOptions
from adscreen.batch.files import Progress, score_file, worker_start_method
from adscreen.cli import app
from adscreen.cli.render import batch_progress
from adscreen.config import Settings
from adscreen.errors import ModelIntegrityError
from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.registry import load_model_dir
from adscreen.rules.guidance import load_guide
from adscreen.serve.app import create_app
from adscreen.tables.stream import escape_formula, iter_chunks, plan_parts, read_layout, read_part

runner = CliRunner()


@pytest.fixture(scope="module")
def ads() -> pd.DataFrame:
    """Forty sample ads of all languages, both labels, with an id and a note column."""
    rows = []
    for path in sorted(SAMPLE_ADS_DIR.glob("*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:6])
    frame = pd.DataFrame(rows)[["id", "text", "language"]]
    frame["note"] = [f"n{index}" for index in range(len(frame))]
    return frame


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=object, keep_default_na=False, encoding_errors="surrogateescape")


def run(source: Path, target: Path, *options: str) -> object:
    """The CLI in this process (worker processes get a test of their own)."""
    return runner.invoke(app, ["score-file", str(source), "-o", str(target), "--quiet", "--workers", "1", *options])


def test_csv_keeps_every_row_and_column_with_the_single_ad_scores(
    ads: pd.DataFrame, scorer: Scorer, tmp_path: Path
) -> None:
    source = tmp_path / "ads.csv"
    ads.to_csv(source, index=False)
    result = run(source, tmp_path / "out.csv", "--chunk-size", "7", "--workers", "1")
    assert result.exit_code == 0, result.output
    scored = read_csv(tmp_path / "out.csv")
    assert list(scored.columns) == [
        *ads.columns,
        "risk",
        "band",
        "label",
        "red_flags",
        "indicators",
        "contacts",
        "caveats",
        "error",
    ]
    assert scored["id"].tolist() == ads["id"].tolist()
    assert scored["note"].tolist() == ads["note"].tolist()
    for text, risk, band, flags in zip(ads["text"], scored["risk"], scored["band"], scored["red_flags"], strict=True):
        single = scorer.score(text)
        assert float(risk) == single["risk"]
        assert band == single["band"]
        assert flags.split("|") == sorted(flag["id"] for flag in single["red_flags"]) or flags == ""
    for text, count, contacts in zip(ads["text"], scored["indicators"], scored["contacts"], strict=True):
        single = scorer.score(text)
        assert int(count) == single["indicators"]["count"]
        assert contacts.split("|") == [f"{c['kind']}:{c['value']}" for c in single["contacts"]] or contacts == ""
    assert f"read {len(ads)} rows: {len(ads)} scored, 0 with errors" in result.output


def test_a_text_too_short_to_judge_is_marked_in_the_caveats_column(
    ads: pd.DataFrame, scorer: Scorer, tmp_path: Path
) -> None:
    """An analyst counting risks over a dump of short posts must be able to leave out those scored on priors."""
    texts = ["Требуется грузчик", ads["text"].iloc[0], "", "Praca w Holandii, dobre zarobki"]
    source = tmp_path / "short.jsonl"
    source.write_text(
        "".join(json.dumps({"text": text}, ensure_ascii=False) + "\n" for text in texts), encoding="utf-8"
    )
    assert run(source, tmp_path / "out.csv").exit_code == 0
    assert run(source, tmp_path / "out.parquet").exit_code == 0
    single = [[caveat["id"] for caveat in scorer.score(text)["caveats"]] for text in texts if text]
    assert single == [["too_short"], [], ["too_short"]]
    assert read_csv(tmp_path / "out.csv")["caveats"].tolist() == ["too_short", "", "", "too_short"]
    assert pq.read_table(tmp_path / "out.parquet").column("caveats").to_pylist() == [
        ["too_short"],
        [],
        None,  # the empty text is an error row: no score, so nothing to qualify
        ["too_short"],
    ]


def test_a_damaged_csv_loses_no_row(tmp_path: Path) -> None:
    source = tmp_path / "damaged.csv"
    lines = [
        b"id,text,note",
        b"1,Work in Dubai for girls 18-25 with flights paid,ok",
        b"2,,empty text",
        b"3,Too few fields",
        b"4,Too,many,fields,here",
        "5,Caf\u00e9 job in Paris with housing paid,latin-1".encode("latin-1"),
        b'6,"A quoted ad\nover two lines, with a comma",multi',
        b"7," + b"x" * 30_000 + b",long",
        b"8,Cleaner wanted in Warsaw; contract and ZUS,ok",
    ]
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = run(source, tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    scored = read_csv(tmp_path / "out.csv")
    assert scored["id"].tolist() == [str(number) for number in range(1, 9)]
    errors = dict(zip(scored["id"], scored["error"], strict=True))
    assert errors["1"] == errors["6"] == errors["8"] == ""
    assert "empty" in errors["2"]
    assert "2 fields where the header has 3" in errors["3"]
    assert "5 fields where the header has 3" in errors["4"]
    assert "UTF-8" in errors["5"]
    assert "limit" in errors["7"]
    assert scored.loc[scored["id"] == "4", "note"].item() == "many,fields,here"  # the extra fields are kept
    assert all(scored.loc[scored["error"] != "", "risk"] == "")
    assert "Caf\xe9".encode("latin-1") in (tmp_path / "out.csv").read_bytes()  # the bytes survive as they were
    assert "read 8 rows: 3 scored, 5 with errors" in result.output


def test_a_damaged_jsonl_loses_no_row(tmp_path: Path) -> None:
    source = tmp_path / "damaged.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "Girls wanted for Dubai, tickets paid, write on Telegram"}).encode(),
        b'{"id": "b", "text": "broken',
        b"[1, 2, 3]",
        json.dumps({"id": "d", "text": 42}).encode(),
        json.dumps({"id": "e"}).encode(),
        b"",
        '{"id": "f", "text": "Praca w Niemczech, zakwaterowanie gratis \xb3"}'.encode("latin-1"),
        json.dumps({"id": "g", "text": "Cook wanted, contract, Minsk", "extra": {"nested": [1, 2]}}).encode(),
    ]
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = run(source, tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.output
    written = (tmp_path / "out.jsonl").read_bytes()
    assert b"gratis \xb3" in written  # the line's bytes are kept as they were
    scored = [json.loads(line) for line in written.decode("utf-8", "surrogateescape").splitlines()]
    assert len(scored) == 7  # the blank line is not a row
    assert [row["error"] is None for row in scored] == [True, False, False, False, False, False, True]
    assert "line 2 is not valid JSON" in scored[1]["error"]
    assert scored[1]["text"] == '{"id": "b", "text": "broken'
    assert "not an object" in scored[2]["error"]
    assert "must be a string" in scored[3]["error"] and scored[3]["text"] == 42
    assert "empty" in scored[4]["error"]
    assert scored[6]["extra"] == {"nested": [1, 2]} and scored[6]["risk"] is not None
    assert "read 7 rows: 2 scored, 5 with errors" in result.output


def test_parquet_keeps_its_types_and_order(ads: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "ads.parquet"
    table = pa.table(
        {
            "n": pa.array(range(len(ads)), pa.int64()),
            "text": pa.array([*ads["text"][:-1], None]),
            "seen": pa.array(pd.date_range("2026-01-01", periods=len(ads), freq="h")),
            "tags": pa.array([["a", "b"]] * len(ads)),
        }
    )
    pq.write_table(table, source, row_group_size=9)
    assert run(source, tmp_path / "out.parquet", "--chunk-size", "5").exit_code == 0
    scored = pq.read_table(tmp_path / "out.parquet")
    assert scored.schema.field("n").type == pa.int64()
    assert scored.schema.field("seen").type == table.schema.field("seen").type
    assert scored.schema.field("red_flags").type == pa.list_(pa.string())
    assert scored.column("n").to_pylist() == list(range(len(ads)))
    assert scored.column("tags").to_pylist() == [["a", "b"]] * len(ads)
    errors = scored.column("error").to_pylist()
    assert errors[:-1] == [None] * (len(ads) - 1) and "empty" in errors[-1]


def test_gzip_in_and_out_and_a_format_change(ads: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "ads.jsonl.gz"
    with gzip.open(source, "wt", encoding="utf-8") as stream:
        for record in ads.to_dict("records"):
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    assert run(source, tmp_path / "out.csv.gz").exit_code == 0
    with gzip.open(tmp_path / "out.csv.gz", "rt", encoding="utf-8") as stream:
        scored = pd.read_csv(stream, dtype=object, keep_default_na=False)
    assert scored["id"].tolist() == ads["id"].tolist()
    assert (scored["error"] == "").all()


def test_formula_cells_are_neutralised_unless_asked_not_to(tmp_path: Path) -> None:
    source = tmp_path / "ads.csv"
    pd.DataFrame(
        {
            "text": ["Waiter wanted in Minsk, contract, salary 1500 BYN"] * 4,
            "note": ['=HYPERLINK("http://x")', "@SUM(A1)", "-5", "+375 29 123 45 67"],
        }
    ).to_csv(source, index=False)
    assert run(source, tmp_path / "safe.csv").exit_code == 0
    assert read_csv(tmp_path / "safe.csv")["note"].tolist() == [
        '\'=HYPERLINK("http://x")',
        "'@SUM(A1)",
        "-5",
        "+375 29 123 45 67",
    ]
    assert run(source, tmp_path / "raw.csv", "--no-csv-escape").exit_code == 0
    assert read_csv(tmp_path / "raw.csv")["note"].tolist()[:2] == ['=HYPERLINK("http://x")', "@SUM(A1)"]


@pytest.mark.parametrize(
    ("cell", "escaped"), [("=1+1", True), ("+1", False), ("-1.5", False), ("-x", True), ("@a", True), ("a=", False)]
)
def test_escape_formula(cell: str, escaped: bool) -> None:
    assert (escape_formula(cell) == "'" + cell) is escaped


def test_emscad_schema_is_scored_from_its_fields(tmp_path: Path) -> None:
    source = tmp_path / "emscad.csv"
    pd.DataFrame(
        {"title": ["Data entry clerk", ""], "description": ["Work from home, no experience, $5000 a week", ""]}
    ).to_csv(source, index=False)
    assert run(source, tmp_path / "out.csv").exit_code == 0
    scored = read_csv(tmp_path / "out.csv")
    assert scored["error"].tolist()[0] == "" and "empty" in scored["error"].tolist()[1]


def test_rescoring_replaces_the_old_score_columns(ads: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "ads.csv"
    ads.assign(risk="old").to_csv(source, index=False)
    result = run(source, tmp_path / "out.csv")
    assert result.exit_code == 0
    scored = read_csv(tmp_path / "out.csv")
    assert list(scored.columns).count("risk") == 1 and "old" not in scored["risk"].tolist()
    assert "replaced the input's own risk column" in result.output


@pytest.mark.parametrize(
    ("name", "content", "options", "message"),
    [
        ("missing.csv", None, [], "no such file"),
        ("ads.txt", b"text\nhello\n", [], "unknown file type"),
        ("ads.csv", b"body\nhello\n", [], "no 'text' column"),
        ("ads.csv", b"body\nhello\n", ["--text-column", "ad"], "no column 'ad'"),
        ("ads.csv", b"", [], "empty file"),
        ("ads.parquet", b"not parquet", [], "cannot read as parquet"),
        ("ads.csv", b"text\nhello\n", ["--engine", "spark"], "unknown engine"),
    ],
)
def test_an_unreadable_input_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes | None, options: list[str], message: str
) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    result = run(source, tmp_path / "out.csv", *options)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


def test_the_output_may_not_overwrite_the_input(tmp_path: Path) -> None:
    source = tmp_path / "ads.csv"
    source.write_text("text\nhello there\n", encoding="utf-8")
    result = run(source, source)  # the same path
    assert result.exit_code == 2 and "overwrite the input" in result.output
    assert source.read_text(encoding="utf-8") == "text\nhello there\n"


def test_chunks_stream_with_growing_positions(ads: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "ads.csv"
    ads.to_csv(source, index=False)
    layout = read_layout(source)
    chunks = list(iter_chunks(source, layout, 8, "text"))
    assert [len(chunk.frame) for chunk in chunks] == [8] * (len(ads) // 8) + ([len(ads) % 8] if len(ads) % 8 else [])
    positions = [chunk.position for chunk in chunks]
    assert positions == sorted(positions) and positions[-1] == source.stat().st_size


def test_reading_parquet_in_chunks_holds_a_chunk_not_the_file(tmp_path: Path) -> None:
    """What Arrow holds while chunks are read stays far below the file's size. pyarrow's default
    pre-buffering reads the file's column chunks ahead and keeps them: on a million ads, memory grew
    by 30 MB per 100k ads read."""
    source = tmp_path / "ads.parquet"
    letters = np.array(list("абвгдежзиклмнопрстуфхцчшыэюя abcdefghijklmnopqrstuvwxyz"))
    rng = np.random.default_rng(7)  # text that does not compress: the file is as large as what it holds
    texts = ["".join(row) for row in letters[rng.integers(0, len(letters), (60_000, 300))]]
    pq.write_table(pa.table({"id": range(len(texts)), "text": texts}), source, row_group_size=5_000)
    held = [pa.total_allocated_bytes() for _ in iter_chunks(source, read_layout(source), 2_000, "text")]
    assert len(held) == 30
    assert max(held) < source.stat().st_size / 3, (max(held), source.stat().st_size)


@contextmanager
def another_thread() -> Iterator[None]:
    """A second thread alive in this process for the duration."""
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        yield
    finally:
        release.set()
        other.join()


@pytest.mark.slow
def test_spawned_worker_processes_give_the_same_file(ads: pd.DataFrame, scorer: Scorer, tmp_path: Path) -> None:
    source = tmp_path / "ads.csv"
    ads.to_csv(source, index=False)
    one = score_file(source, tmp_path / "one.csv", scorer, BatchOptions(chunk_size=6, workers=1))
    with another_thread():
        assert worker_start_method() == "spawn"
        two = score_file(source, tmp_path / "two.csv", scorer, BatchOptions(chunk_size=6, workers=2))
    assert (one.rows, one.scored) == (two.rows, two.scored) == (len(ads), len(ads))
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()


@pytest.mark.slow
def test_a_spawned_worker_that_cannot_read_the_model_says_why(
    ads: pd.DataFrame, scorer: Scorer, tmp_path: Path
) -> None:
    """The model file changed after this process verified it: the worker's own check fails with its message."""
    folder = tmp_path / "model"
    shutil.copytree(scorer.loaded.path, folder)
    named_only = Scorer(load_model_dir(folder, deferred=True), load_guide())
    with (folder / scorer.loaded.metadata["model_file"]).open("ab") as stream:
        stream.write(b"\0")
    source = tmp_path / "ads.csv"
    ads.to_csv(source, index=False)
    with another_thread(), pytest.raises(ModelIntegrityError, match="sha256"):
        score_file(source, tmp_path / "out.csv", named_only, BatchOptions(chunk_size=6, workers=2))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_forked_worker_processes_give_the_same_file(ads: pd.DataFrame, scorer: Scorer, tmp_path: Path) -> None:
    """A fresh ``score-file`` runs one thread, so its workers are forked with its warmed-up scorer."""
    source = tmp_path / "ads.csv"
    ads.to_csv(source, index=False)
    score_file(source, tmp_path / "one.csv", scorer, BatchOptions(chunk_size=6, workers=1))
    fresh = [sys.executable, "-c", "from adscreen.batch.files import worker_start_method; print(worker_start_method())"]
    assert subprocess.run(fresh, capture_output=True, text=True, check=True).stdout.strip() == "fork"
    command = [sys.executable, "-m", "adscreen.cli", "score-file", str(source), "-o", str(tmp_path / "two.csv")]
    command += ["--model", str(scorer.loaded.path), "--chunk-size", "6", "--workers", "2", "--quiet"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert f"{len(ads)} scored, 0 with errors" in completed.stderr
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()


def write_damaged(big: pd.DataFrame, source: Path) -> None:
    """The ads (many span several lines) with a short line, a long line and a broken line among them."""
    if source.suffix == ".parquet":
        big.to_parquet(source, row_group_size=25)
        return
    half = len(big) // 2
    if source.suffix == ".csv":
        first, second = big[:half].to_csv(index=False), big[half:].to_csv(index=False, header=False)
        damage = "x1,too few\nx2,a,b,c,d,e,f\n"
    else:
        first = big[:half].to_json(orient="records", lines=True, force_ascii=False)
        second = big[half:].to_json(orient="records", lines=True, force_ascii=False)
        damage = '{"id": "x1", "text": \n[1]\n'
    source.write_text(first + damage + second, encoding="utf-8")


@pytest.fixture(scope="module")
def dask_scheduler() -> str:
    """One local Dask cluster for the module: its workers load the model once, as on a real cluster."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_dask_engine_gives_the_same_file_as_local(
    ads: pd.DataFrame, scorer: Scorer, tmp_path: Path, suffix: str, dask_scheduler: str
) -> None:
    source = tmp_path / f"ads{suffix}"
    big = pd.concat([ads] * 3, ignore_index=True)
    write_damaged(big, source)
    options = BatchOptions(chunk_size=20)
    local = score_file(source, tmp_path / f"local{suffix}", scorer, options)
    dask = score_file(source, tmp_path / f"dask{suffix}", scorer, options, engine="dask", scheduler=dask_scheduler)
    damaged = 0 if suffix == ".parquet" else 2
    assert (local.rows, local.errors) == (dask.rows, dask.errors) == (len(big) + damaged, damaged)
    if suffix == ".parquet":
        assert pq.read_table(tmp_path / "local.parquet").equals(pq.read_table(tmp_path / "dask.parquet"))
    else:
        assert (tmp_path / f"local{suffix}").read_bytes() == (tmp_path / f"dask{suffix}").read_bytes()


def test_parts_cut_on_record_boundaries(ads: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "ads.csv"
    write_damaged(pd.concat([ads] * 2, ignore_index=True), source)
    layout = read_layout(source)
    whole = pd.concat([chunk.frame for chunk in iter_chunks(source, layout, 1000, "text")], ignore_index=True)
    parts = plan_parts(source, layout, 7)
    assert sum(part.rows for part in parts) == len(whole) and len(parts) > 5
    pieced = pd.concat([read_part(source, layout, part, "text").frame for part in parts], ignore_index=True)
    assert pieced.equals(whole)


def test_dask_refuses_a_compressed_text_file(tmp_path: Path) -> None:
    source = tmp_path / "ads.csv.gz"
    with gzip.open(source, "wt", encoding="utf-8") as stream:
        stream.write("text\nhello there\n")
    result = run(source, tmp_path / "out.csv", "--engine", "dask")
    assert result.exit_code == 2 and "decompress it or score it with the local engine" in result.output


def test_explain_adds_the_evidence(ads: pd.DataFrame, scorer: Scorer, tmp_path: Path) -> None:
    source = tmp_path / "ads.jsonl"
    ads.head(3).to_json(source, orient="records", lines=True, force_ascii=False)
    assert run(source, tmp_path / "out.jsonl", "--explain").exit_code == 0
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    for row in rows:
        evidence = json.loads(row["explanation"])
        single = scorer.score(row["text"])
        assert [flag["id"] for flag in evidence["red_flags"]] == [flag["id"] for flag in single["red_flags"]]
        assert [term["term"] for term in evidence["top_terms"]] == [term["term"] for term in single["top_terms"]]


@pytest.fixture(scope="module")
def client(scorer: Scorer) -> TestClient:
    with TestClient(create_app(Settings(max_upload_bytes=20_000), scorer=scorer)) as client:
        yield client


@pytest.mark.parametrize("name", ["ads.csv", "ads.jsonl", "ads.parquet"])
def test_the_api_scores_an_uploaded_file_like_the_cli(
    client: TestClient, ads: pd.DataFrame, tmp_path: Path, name: str
) -> None:
    small = ads.head(4)
    source = tmp_path / name
    {
        ".csv": lambda: small.to_csv(source, index=False),
        ".jsonl": lambda: small.to_json(source, orient="records", lines=True, force_ascii=False),
        ".parquet": lambda: small.to_parquet(source),
    }[source.suffix]()
    response = client.post("/v1/score/file", files={"file": (name, source.read_bytes())})
    assert response.status_code == 200, response.text
    assert response.headers["x-adscreen-rows"] == "4"
    assert f'filename="scored-{name}"' in response.headers["content-disposition"]
    (tmp_path / f"api-{name}").write_bytes(response.content)
    assert run(source, tmp_path / f"cli-{name}").exit_code == 0
    assert (tmp_path / f"api-{name}").read_bytes() == (tmp_path / f"cli-{name}").read_bytes() or name.endswith(
        ".parquet"
    )
    if name.endswith(".parquet"):
        assert pq.read_table(tmp_path / f"api-{name}").equals(pq.read_table(tmp_path / f"cli-{name}"))


@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [
        ("ads.txt", b"text\nhello\n", 422, "unknown file type"),
        (
            "ads.csv",
            b"body\nhello\n",
            422,
            "say which column holds the ad's text (columns: body), with the text_column form field",
        ),
        ("ads.parquet", b"nope", 422, "cannot read as parquet"),
        ("ads.csv", b"text\n" + b"a" * 30_000 + b"\n", 413, "limit"),
    ],
)
def test_the_api_refuses_bad_uploads_with_a_message(
    client: TestClient, name: str, content: bytes, status: int, message: str
) -> None:
    response = client.post("/v1/score/file", files={"file": (name, content)})
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert "/tmp/" not in response.json()["detail"]


def test_progress_is_reported_per_chunk_up_to_the_whole_file(ads: pd.DataFrame, scorer: Scorer, tmp_path: Path) -> None:
    source = tmp_path / "ads.csv"
    ads.to_csv(source, index=False)
    seen: list[Progress] = []
    score_file(source, tmp_path / "out.jsonl", scorer, BatchOptions(chunk_size=9), on_progress=seen.append)
    assert [progress.rows for progress in seen] == [min(9 * (i + 1), len(ads)) for i in range(len(seen))]
    assert seen[-1].position == seen[-1].size == source.stat().st_size and seen[-1].unit == "bytes"


def test_the_progress_bar_draws_rows_per_second_on_a_terminal() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    threads = threading.active_count()
    with batch_progress(False, console) as update:
        assert threading.active_count() == threads  # no refresh thread: workers fork from a one-thread process
        update(Progress(rows=500, position=50, size=100, unit="bytes"))
        drawn = console.file.getvalue()
        assert "500 rows" in drawn and "50%" in drawn  # drawn as each chunk lands, not only at the end
    drawn = console.file.getvalue()
    assert "500 rows" in drawn and "rows/s" in drawn and "50%" in drawn
    with batch_progress(True) as update:
        assert update is None


def test_campaigns_of_the_scored_file(tmp_path: Path) -> None:
    lure = "Girls 18-25 wanted for hostess work in Dubai, 3000 USD a month, tickets paid. Write on Telegram @{}"
    other = "Cook wanted in a Minsk cafe, official contract, salary 2000 BYN, call +375 17 {} 45 67"
    frame = pd.DataFrame(
        {
            "id": [f"a{i}" for i in range(6)],
            "text": [
                lure.format("dubai_jobs"),
                lure.format("dubai_jobs"),
                other.format(111),
                lure.format("uae_work"),
                other.format(222),
                "Nanny for twins, Warsaw, umowa o pracę, 30 zł/h",
            ],
        }
    )
    source = tmp_path / "ads.csv"
    frame.to_csv(source, index=False)
    result = run(source, tmp_path / "out.csv", "--campaigns", str(tmp_path / "campaigns.csv"))
    assert result.exit_code == 0, result.output
    campaigns = read_csv(tmp_path / "campaigns.csv")
    biggest = campaigns.iloc[campaigns["size"].astype(int).idxmax()]
    assert int(biggest["size"]) >= 3 and "a0" in biggest.to_string() and "a3" in biggest.to_string()
