"""The lean score route and server options: same results on the event loop and in the thread pool, same headers."""

import json

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adscreen import Scorer
from adscreen.cli import app
from adscreen.config import Settings, default_workers
from adscreen.errors import ScoringUnavailable
from adscreen.serve.app import create_app
from adscreen.serve.pool import INLINE_MAX_CHARS
from adscreen.serve.reload import Serving
from adscreen.serve.schemas import ResultOut, result_json
from adscreen.training.sample_ads import read_sample_rows

SHORT = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"
LONG = "\n\n".join(row["text"] for row in read_sample_rows()[:12])


@pytest.fixture(scope="module")
def client(scorer: Scorer) -> TestClient:
    with TestClient(create_app(Settings(max_upload_bytes=200_000), scorer=scorer)) as client:
        yield client


@pytest.mark.parametrize("text", [SHORT, LONG], ids=["scored-inline", "scored-in-a-thread"])
def test_the_api_returns_the_scorers_result(client: TestClient, scorer: Scorer, text: str) -> None:
    assert (len(text) <= INLINE_MAX_CHARS) == (text is SHORT)
    response = client.post("/v1/score", json={"text": text, "country": "PL", "language": "en"})
    assert response.status_code == 200
    expected = json.loads(json.dumps(scorer.score(text, country="PL", ui_language="en"), ensure_ascii=False))
    assert response.json() == expected


def test_the_json_sent_is_the_response_models_json_for_every_sample_ad(scorer: Scorer) -> None:
    """The score route skips FastAPI's validation of its answer: the result must be ``ResultOut`` exactly."""
    for row in read_sample_rows():
        result = scorer.score(row["text"], country="UA", ui_language="uk")
        assert json.loads(result_json(result)) == ResultOut.model_validate(result).model_dump(mode="json")


def test_an_ad_the_server_cannot_score_now_is_503_with_retry_after(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stopped(*arguments: object) -> bytes:
        raise ScoringUnavailable("the scoring process stopped while scoring this ad; please try again")

    monkeypatch.setattr(Serving, "score", stopped)
    monkeypatch.setattr(Serving, "score_json", stopped)
    response = client.post("/v1/score", json={"text": SHORT})
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "please try again" in response.json()["detail"]
    page = client.post("/", data={"text": SHORT, "country": "BY", "lang": "en"})
    assert page.status_code == 503 and "please try again" in page.text
    assert client.post("/v1/score", json={"text": "x" * 30_000}).status_code == 413  # checked before scoring


def test_refused_bodies_and_the_docs_page_get_their_headers(client: TestClient) -> None:
    refused = client.post("/v1/score", content=b"x" * 200_001, headers={"content-type": "application/json"})
    assert refused.status_code == 413 and "limit is 200000" in refused.json()["detail"]
    assert refused.headers["x-frame-options"] == "DENY"
    docs = client.get("/docs")
    assert "unsafe-inline" in docs.headers["content-security-policy"]
    assert docs.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("arguments", "env_workers", "expected", "workers"),
    [
        ([], None, {"log_level": "info", "access_log": True}, default_workers()),
        (
            ["--workers", "0", "--log-level", "warning", "--no-access-log"],
            None,
            {"log_level": "warning", "access_log": False},
            0,
        ),
        ([], "1", {}, 1),
        (["--workers", "3"], "1", {}, 3),  # the option wins over the environment
    ],
)
def test_serve_passes_its_options_to_uvicorn_and_the_app(
    monkeypatch: pytest.MonkeyPatch, arguments: list[str], env_workers: str | None, expected: dict, workers: int
) -> None:
    if env_workers is not None:
        monkeypatch.setenv("ADSCREEN_WORKERS", env_workers)
    else:
        monkeypatch.delenv("ADSCREEN_WORKERS", raising=False)
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    result = CliRunner().invoke(app, ["serve", "--port", "8123", *arguments])
    assert result.exit_code == 0, result.output
    served, options = calls[0]
    assert options["port"] == 8123
    assert {key: options.get(key) for key in expected} == expected
    assert "workers" not in options  # one server process; scoring processes are the app's own
    assert served.state.settings.workers == workers
