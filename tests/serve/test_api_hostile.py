"""Hostile input against the served app (issue 15): nothing blocks the server, every wait and upload is bounded,
corrections cannot flood, a broken data file stops start-up, and server faults name no server path.

The scoring processes of the first tests run ``slow_scorers.slow_scorer``: an ad that
carries ``SLOW-AD`` keeps its process in a C regex (holding the GIL) until it is killed.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import adscreen.serve.app
from adscreen.cli import app as cli
from adscreen.config import Settings
from adscreen.errors import RuleConfigError
from adscreen.paths import DATA_DIR
from adscreen.scoring import Scorer
from adscreen.serve.app import create_app
from adscreen.serve.reload import ScorerSource
from slow_scorers import REFUSE_ENV, SLOW_MARK, refusing_scorer, slow_scorer

LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"
SLOW = f"{SLOW_MARK} работа в Дубае, пиши в Telegram"
TESTS = Path(__file__).resolve().parents[1]
SRC = TESTS.parent / "src"


def wait_for(condition, what: str, seconds: float = 120) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` until true: a bound so that a broken server fails the test instead of hanging it."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def in_thread(call):  # type: ignore[no-untyped-def]
    """Run ``call`` in a thread; returns the thread and a list that receives its result."""
    box: list = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    return thread, box


# --- 1. Nothing blocks the server; every wait is bounded. ---


@pytest.fixture(scope="module")
def slow_client(scorer: Scorer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        workers=2,
        score_seconds=3,
        request_seconds=120,
        feedback_db=tmp_path_factory.mktemp("feedback") / "feedback.sqlite3",
    )
    source = ScorerSource(scorer, processes=2, make_scorer=slow_scorer)
    with TestClient(create_app(settings, source=source)) as client:
        yield client


def pool_of(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.scorer_source.serving().pool


def busy(client: TestClient) -> bool:
    return bool(pool_of(client)._busy)


def idle(client: TestClient, processes: int = 2) -> bool:
    return len(pool_of(client)._idle) == processes


@contextmanager
def budgets(client: TestClient, **seconds: float) -> Iterator[None]:
    """The app's time budgets changed for one test, then restored."""
    app = client.app
    kept = app.state.settings
    app.state.settings = kept.model_copy(update=seconds)
    try:
        yield
    finally:
        app.state.settings = kept


@pytest.mark.slow
def test_healthz_answers_while_a_slow_batch_runs(slow_client: TestClient, scorer: Scorer) -> None:
    wait_for(lambda: idle(slow_client), "both scoring processes idle")
    items = [{"id": "a", "text": LURE}, {"id": "slow", "text": SLOW}, {"id": "c", "text": LURE}]
    thread, box = in_thread(lambda: slow_client.post("/v1/score/batch", json={"items": items}))
    wait_for(lambda: busy(slow_client), "the batch reached the scoring processes")
    health = slow_client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert thread.is_alive()  # answered while the slow item was still being scored
    thread.join(150)
    results = box[0].json()["results"]
    assert [result["id"] for result in results] == ["a", "slow", "c"]
    assert "longer than this server allows (3 s)" in results[1]["error"] and results[1]["risk"] is None
    assert results[0]["risk"] == results[2]["risk"] == scorer.score(LURE, country="BY")["risk"]


@pytest.mark.slow
def test_a_slow_single_ad_gets_503_and_the_server_goes_on(slow_client: TestClient) -> None:
    wait_for(lambda: idle(slow_client), "both scoring processes idle")
    thread, box = in_thread(lambda: slow_client.post("/v1/score", json={"text": SLOW}))
    wait_for(lambda: busy(slow_client), "the slow ad reached a scoring process")
    assert slow_client.post("/v1/score", json={"text": LURE}).status_code == 200  # the other process answers
    thread.join(150)
    response = box[0]
    assert response.status_code == 503 and response.headers["retry-after"]
    assert "longer than this server allows (3 s)" in response.json()["detail"]
    wait_for(lambda: idle(slow_client), "the stuck process replaced")


@pytest.mark.slow
def test_an_upload_with_a_slow_row_is_scored_off_the_event_loop_within_its_budget(slow_client: TestClient) -> None:
    wait_for(lambda: idle(slow_client), "both scoring processes idle")
    with budgets(slow_client, request_seconds=3):
        upload = pd.DataFrame({"text": [LURE, SLOW, LURE]}).to_csv(index=False).encode()
        files = {"file": ("ads.csv", upload, "text/csv")}
        thread, box = in_thread(lambda: slow_client.post("/v1/score/file", files=files))
        wait_for(lambda: busy(slow_client), "the file reached a scoring process")
        assert slow_client.get("/healthz").status_code == 200
        assert thread.is_alive()
        thread.join(150)
    response = box[0]
    assert response.status_code == 503
    assert "the file took longer to score than this server allows (3 s)" in response.json()["detail"]
    wait_for(lambda: idle(slow_client), "the stuck process replaced")


@pytest.mark.slow
def test_a_batch_over_the_request_budget_is_503(slow_client: TestClient) -> None:
    wait_for(lambda: idle(slow_client), "both scoring processes idle")
    with budgets(slow_client, request_seconds=2, score_seconds=60):
        response = slow_client.post("/v1/score/batch", json={"items": [{"text": SLOW}, {"text": LURE}]})
    assert response.status_code == 503
    assert "the batch took longer than this server allows (2 s)" in response.json()["detail"]
    wait_for(lambda: idle(slow_client), "the stuck process replaced")


@pytest.mark.slow
def test_an_empty_pool_is_degraded_refuses_at_once_and_refills(
    scorer: Scorer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Processes that cannot be replaced leave none: /healthz says so (503), ads get 503 instead of
    hanging, and the pool keeps trying, with pauses, until a process loads again."""
    refuse = tmp_path / "refuse"
    monkeypatch.setenv(REFUSE_ENV, str(refuse))
    source = ScorerSource(scorer, processes=1, make_scorer=refusing_scorer)
    settings = Settings(workers=1, feedback_db=tmp_path / "feedback.sqlite3")
    with TestClient(create_app(settings, source=source)) as client:
        assert client.post("/v1/score", json={"text": LURE}).status_code == 200
        refuse.touch()
        pool_of(client)._idle[0].process.kill()
        wait_for(lambda: client.get("/healthz").status_code == 503, "healthz degraded")
        health = client.get("/healthz").json()
        assert health["status"] == "degraded" and "no scoring process is running" in health["reason"]
        wait_for(lambda: "last attempt" in client.get("/healthz").json()["reason"], "a failed replacement")
        refused = client.post("/v1/score", json={"text": LURE})
        assert refused.status_code == 503 and "cannot score now" in refused.json()["detail"]
        assert client.post("/v1/score/batch", json={"items": [{"text": LURE}]}).status_code == 503
        refuse.unlink()
        wait_for(lambda: client.get("/healthz").status_code == 200, "the pool refilled")
        assert client.post("/v1/score", json={"text": LURE}).status_code == 200
    assert source.serving().pool.alive == 0


# --- 2. Bounded uploads. ---

LIMIT = 200_000


@pytest.fixture(scope="module")
def client(scorer: Scorer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        max_ad_chars=5000,
        max_upload_bytes=LIMIT,
        max_decompressed_bytes=2_000_000,
        max_line_bytes=100_000,
        max_field_chars=50_000,
        max_row_group_bytes=1_000_000,
        feedback_db=tmp_path_factory.mktemp("feedback") / "feedback.sqlite3",
    )
    with TestClient(create_app(settings, scorer=scorer)) as client:
        yield client


def upload(client: TestClient, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return client.post("/v1/score/file", files={"file": (name, content, "application/octet-stream")})


def csv_of(rows: int, text: str = "Бухгалтер в ООО «Альфа», Минск") -> bytes:
    return pd.DataFrame({"text": [text] * rows}).to_csv(index=False).encode()


def test_the_limit_counts_the_files_bytes_not_the_forms(client: TestClient) -> None:
    """A file of the limit less 100 bytes is taken although the multipart body around it is larger."""
    rows = b"text\n" + (b"a" * 99 + b"\n") * 1998 + b"b" * 94 + b"\n"
    assert len(rows) == LIMIT - 100
    response = upload(client, "ads.csv", rows)
    assert response.status_code == 200, response.text
    assert response.headers["x-adscreen-rows"] == "1999"
    over = upload(client, "ads.csv", rows + b"c" * 101)
    assert over.status_code == 413 and f"the limit is {LIMIT}" in over.json()["detail"]


def test_a_chunked_body_is_refused_before_it_is_read_whole(client: TestClient) -> None:
    """No Content-Length (Transfer-Encoding: chunked): the bytes are counted as they arrive, and
    the 413 comes once the count passes the limit, with most of the body never read."""
    chunk, chunks, received, sent = b"x" * 65_536, 1000, 0, []
    preamble = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="ads.csv"\r\n\r\ntext\n'

    async def receive() -> dict:
        nonlocal received
        received += 1
        body = preamble if received == 1 and scope["path"].endswith("file") else chunk
        return {"type": "http.request", "body": body, "more_body": received < chunks}

    async def send(message: dict) -> None:
        sent.append(message)

    for path, headers in [
        ("/v1/score/batch", [(b"content-type", b"application/json")]),
        ("/v1/score/file", [(b"content-type", b"multipart/form-data; boundary=xyz")]),
    ]:
        received, sent = 0, []
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"transfer-encoding", b"chunked"), *headers],
            "client": ("127.0.0.1", 1234),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        asyncio.run(client.app(scope, receive, send))
        assert sent[0]["status"] == 413
        assert b"the limit" in sent[1]["body"]
        assert received * len(chunk) < LIMIT + 64 * 1024 + 2 * len(chunk)  # not the 64 MB offered


def test_a_batch_of_many_tiny_items_is_refused_before_it_is_parsed(client: TestClient) -> None:
    """Four million tiny items fit in 50 MB and would become gigabytes of objects before the item
    limit is checked: the values are counted in the raw body first (commas inside texts do not count)."""
    tiny = b'{"items":[' + b'{"text":"a"},' * 14_000 + b'{"text":"a"}]}'
    assert len(tiny) < LIMIT
    response = client.post("/v1/score/batch", content=tiny, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "at most 1000 items" in response.json()["detail"]
    commas = "Работа, жильё, билеты, " * 200  # many commas inside texts: a valid batch still passes
    items = [{"id": str(n), "text": commas, "country": None} for n in range(20)]
    assert client.post("/v1/score/batch", json={"items": items}).status_code == 200


def gz(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as stream:
        stream.write(data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bomb.csv.gz", gz(b"text\n" + b"a" * 50_000_000), "longer than 100000 bytes"),
        ("bomb.jsonl.gz", gz(b'{"text": "' + b"a" * 50_000_000 + b'"}\n'), "longer than 100000 bytes"),
        ("many.csv.gz", gz(csv_of(200_000)), "unpacks to more than 2000000 bytes"),
        ("cell.csv", b'text\n"' + b"a\n" * 30_000 + b'"\n', "longer than 50000 characters"),
    ],
)
def test_files_that_unpack_past_a_limit_are_refused_as_they_are_read(
    client: TestClient, name: str, content: bytes, message: str
) -> None:
    assert len(content) < LIMIT
    response = upload(client, name, content)
    assert response.status_code == 413
    assert message in response.json()["detail"] and "/tmp" not in response.json()["detail"]


def test_a_parquet_row_group_too_big_to_read_is_refused_from_the_footer(client: TestClient) -> None:
    table = pa.table({"text": ["a" * 1_000_000, "b" * 1_000_000]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    assert len(buffer.getvalue()) < LIMIT
    response = upload(client, "ads.parquet", buffer.getvalue())
    assert response.status_code == 413
    assert "row group 0 unpacks to" in response.json()["detail"]


def test_score_file_refuses_a_file_over_the_reader_limits_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "bomb.csv.gz"
    source.write_bytes(gz(b"text\n" + b"a" * 5_000_000))
    monkeypatch.setenv("ADSCREEN_MAX_LINE_BYTES", "100000")
    result = CliRunner().invoke(cli, ["score-file", str(source), "-o", str(tmp_path / "out.csv"), "-q"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "longer than 100000 bytes" in lines[0]


# --- 3. Corrections: an off switch, a rate, a size cap, a clear 503. ---


def feedback_client(scorer: Scorer, **overrides: object) -> TestClient:
    return TestClient(create_app(Settings(**overrides), scorer=scorer))  # type: ignore[arg-type]


def correction(number: int) -> dict:
    return {"text": f"Работа в Дубае номер {number}, пиши в Telegram", "label": "suspicious"}


def test_corrections_can_be_turned_off(scorer: Scorer, tmp_path: Path) -> None:
    with feedback_client(scorer, feedback=False, feedback_db=tmp_path / "f.sqlite3") as client:
        response = client.post("/v1/feedback", json=correction(1))
        assert response.status_code == 404 and "does not take corrections" in response.json()["detail"]
        page = client.post("/", data={"text": LURE, "country": "BY", "lang": "en"}).text
        assert 'action="/feedback"' not in page
        assert client.post("/feedback", data={"text": LURE, "label": "1", "lang": "en"}).status_code == 404
        assert client.get("/healthz").json()["feedback"] == "off"
    assert not (tmp_path / "f.sqlite3").exists()


def test_one_client_cannot_flood_corrections(scorer: Scorer, tmp_path: Path) -> None:
    with feedback_client(scorer, feedback_per_minute=3, feedback_db=tmp_path / "f.sqlite3") as client:
        assert [client.post("/v1/feedback", json=correction(n)).status_code for n in range(3)] == [201] * 3
        refused = client.post("/v1/feedback", json=correction(4))
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "at most 3 a minute" in refused.json()["detail"]


def test_a_full_corrections_database_refuses_new_ones_with_507(scorer: Scorer, tmp_path: Path) -> None:
    database = tmp_path / "f.sqlite3"
    with feedback_client(scorer, feedback_max_bytes=20_000, feedback_per_minute=1000, feedback_db=database) as client:
        statuses = [client.post("/v1/feedback", json=correction(n)).status_code for n in range(300)]
        assert statuses[0] == 201 and statuses[-1] == 507
        full = client.post("/v1/feedback", json=correction(99))
        assert "database is full" in full.json()["detail"]
        assert client.get("/healthz").json()["feedback"] == "the corrections database is full"
    assert database.stat().st_size < 30_000


def test_an_unwritable_corrections_database_is_503_and_shows_in_healthz(scorer: Scorer, tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    database = tmp_path / "not-a-folder" / "f.sqlite3"
    with feedback_client(scorer, feedback_db=database) as client:
        response = client.post("/v1/feedback", json=correction(1))
        assert response.status_code == 503 and "cannot be stored" in response.json()["detail"]
        assert str(tmp_path) not in response.text
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["feedback"] == "the corrections database cannot be created"


# --- 4. Configuration fails at start-up; server faults name no server path. ---


@pytest.fixture()
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy, ignore=shutil.ignore_patterns("ads", "retraining"))
    monkeypatch.setattr(adscreen.serve.app, "DATA_DIR", copy)
    return copy


@pytest.mark.parametrize(
    ("file", "content", "problem"),
    [
        ("ui/ru.yaml", "title: [unclosed\n", "cannot read"),
        ("ui/ru.yaml", "title: Проверка\n", "missing keys"),
        ("indicators.yaml", "indicators: 42\n", "indicators"),
        ("hotlines.yaml", "- just a list\n", "hotlines.yaml"),
        ("guidance.yaml", ": : :\n", "cannot read"),
    ],
)
def test_a_broken_data_file_stops_the_app_from_being_created(
    data_copy: Path, scorer: Scorer, file: str, content: str, problem: str
) -> None:
    (data_copy / file).write_text(content, encoding="utf-8")
    with pytest.raises(RuleConfigError, match=problem) as error:
        create_app(Settings(), scorer=scorer)
    assert str(data_copy / file) in str(error.value)


def test_a_broken_shown_pattern_stops_the_app_before_it_scores(data_copy: Path, scorer: Scorer) -> None:
    """Shown patterns come from the data files at scoring time: a bad one must stop the start, not fail each ad."""
    path = data_copy / "redflags" / "UPFRONT_FEE.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "shown_patterns:\n  pl:\n", "shown_patterns:\n  pl:\n    - '(unclosed'\n"
        ),
        encoding="utf-8",
    )
    with pytest.raises(RuleConfigError, match=r"UPFRONT_FEE, pl shown pattern '\(unclosed'") as error:
        create_app(Settings(), scorer=scorer)
    assert str(path) in str(error.value)


def test_serve_with_a_broken_data_file_stops_with_one_line(data_copy: Path) -> None:
    (data_copy / "ui" / "en.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "en.yaml" in lines[0] and "cannot read" in lines[0]


def test_server_faults_are_5xx_and_name_no_server_path(scorer: Scorer, tmp_path: Path, monkeypatch) -> None:
    app = create_app(Settings(feedback_db=tmp_path / "f.sqlite3"), scorer=scorer)
    with TestClient(app, raise_server_exceptions=False) as client:

        def broken(*args: object, **kwargs: object) -> dict:
            raise RuleConfigError("/srv/adscreen/data/indicators.yaml: indicators: not a list")

        monkeypatch.setattr(scorer, "score", broken)
        response = client.post("/v1/score", json={"text": LURE})
        assert response.status_code == 500 and "/srv" not in response.text
        assert "misconfigured" in response.json()["detail"]

        def crash(*args: object, **kwargs: object) -> dict:
            raise OSError(f"[Errno 28] No space left on device: '{tmp_path}/x'")

        monkeypatch.setattr(scorer, "score", crash)
        response = client.post("/v1/score", json={"text": LURE})
        assert response.status_code == 500 and str(tmp_path) not in response.text
        assert response.json()["detail"]


# --- 5. The schema states the limits the server applies. ---


def test_the_openapi_schema_states_the_runtime_limits(scorer: Scorer, tmp_path: Path) -> None:
    settings = Settings(max_ad_chars=1234, max_batch_items=7, feedback_db=tmp_path / "f.sqlite3")
    schemas = create_app(settings, scorer=scorer).openapi()["components"]["schemas"]
    for name in ("AdIn", "BatchItemIn", "FeedbackIn"):
        text = schemas[name]["properties"]["text"]
        assert (text["minLength"], text["maxLength"]) == (1, 1234)
        blank = "".join(chr(code) for code in range(0x3000 + 1) if chr(code).isspace())
        assert re.search(text["pattern"], "a") and not re.search(text["pattern"], blank)
    assert schemas["BatchIn"]["properties"]["items"]["maxItems"] == 7


SLOW_SERVER = """
import sys
sys.path.insert(0, {tests!r})
from slow_scorers import slow_scorer
from adscreen import load_model
from adscreen.serve.app import create_app, run_server
from adscreen.config import Settings
from adscreen.serve.reload import ScorerSource
settings = Settings(port={port}, workers=1, score_seconds=600, shutdown_seconds=2, feedback_db={db!r})
source = ScorerSource(load_model(), processes=1, make_scorer=slow_scorer)
run_server(create_app(settings, source=source), settings, "warning", False)
"""


@pytest.mark.slow
def test_sigterm_stops_the_server_in_seconds_while_an_ad_is_stuck(tmp_path: Path) -> None:
    """An ad stuck for ten minutes does not hold the shutdown: the request is cancelled after the
    grace period and the scoring process killed, so the server exits well before the ad would end."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = SLOW_SERVER.format(tests=str(TESTS), port=port, db=str(tmp_path / "f.sqlite3"))
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    server = subprocess.Popen([sys.executable, "-c", script], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url + "/healthz"), "the server started", 300)
        children = psutil.Process(server.pid).children(recursive=True)
        thread, _ = in_thread(lambda: _post(url + "/v1/score", {"text": SLOW}))
        time.sleep(2)  # the stuck ad is in its scoring process
        assert thread.is_alive()
        server.send_signal(signal.SIGTERM)
        # far less than the 600 s the ad would take; uvicorn exits by the signal it stopped on
        assert server.wait(timeout=120) in (0, -signal.SIGTERM)
        assert not psutil.wait_procs(children, timeout=30)[1]  # no scoring process left behind
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _post(url: str, body: dict) -> int | None:
    try:
        return httpx.post(url, json=body, timeout=700).status_code
    except httpx.HTTPError:
        return None
