"""The HTTP API and the web form through TestClient: contract, limits, errors, headers, escaping."""

import pytest
from fastapi.testclient import TestClient

from adscreen import Scorer
from adscreen.config import Settings
from adscreen.serve.app import create_app

LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"


@pytest.fixture(scope="module")
def client(scorer: Scorer) -> TestClient:
    settings = Settings(max_ad_chars=5000, max_batch_items=5, max_upload_bytes=200_000)
    with TestClient(create_app(settings, scorer=scorer)) as client:
        yield client


def test_healthz_names_the_model(client: TestClient, scorer: Scorer) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model": scorer.model_info, "feedback": "ok"}


def test_model_metadata(client: TestClient) -> None:
    metadata = client.get("/v1/model").json()
    assert {"version", "trained_at", "metrics", "data", "threshold", "bands"} <= set(metadata)


def test_score_returns_the_contract(client: TestClient) -> None:
    response = client.post("/v1/score", json={"text": LURE, "country": "BY"})
    assert response.status_code == 200
    result = response.json()
    assert result["band"] == "high"
    assert result["guidance"]["country"] == "BY"
    assert {"risk", "band", "label", "red_flags", "top_terms", "guidance", "language", "model"} <= set(result)


def test_a_few_words_come_back_with_the_too_short_caveat_in_the_api_and_its_schema(client: TestClient) -> None:
    short = client.post("/v1/score", json={"text": "Требуется грузчик"}).json()
    assert [caveat["id"] for caveat in short["caveats"]] == ["too_short"]
    assert client.post("/v1/score", json={"text": LURE}).json()["caveats"] == []
    [item] = client.post("/v1/score/batch", json={"items": [{"text": "Praca w Holandii"}]}).json()["results"]
    assert item["caveats"][0]["id"] == "too_short"
    assert "caveats" in client.get("/openapi.json").json()["components"]["schemas"]["ResultOut"]["required"]


def test_a_flag_only_shown_says_it_is_not_weighed(client: TestClient) -> None:
    flags = client.post("/v1/score", json={"text": "Від 1500 грн на день, пиши в пп, деталі розповім."}).json()
    assert {flag["id"]: flag["weighed"] for flag in flags["red_flags"]}["DAILY_PAY_HOOK"] is False
    assert all(flag["weighed"] for flag in client.post("/v1/score", json={"text": LURE}).json()["red_flags"])


def test_batch_keeps_order_and_reports_bad_items(client: TestClient) -> None:
    items = [
        {"id": "a", "text": LURE},
        {"id": "b", "text": "   "},
        {"id": "c", "text": "Бухгалтер в ООО «Альфа», Минск, трудовой договор"},
    ]
    results = client.post("/v1/score/batch", json={"items": items}).json()["results"]
    assert [result["id"] for result in results] == ["a", "b", "c"]
    assert results[0]["band"] == "high" and results[0]["error"] is None
    assert results[1]["error"] == "the ad text is empty" and results[1]["risk"] is None
    assert results[2]["risk"] < results[0]["risk"]


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/v1/score", {"text": "x" * 5001}, 413, "limit is 5000"),
        ("/v1/score/batch", {"items": [{"text": "ad"}] * 6}, 413, "limit is 5"),
        ("/v1/score", {"text": ""}, 422, "empty"),
        ("/v1/score", {"text": 42}, 422, "text"),
        ("/v1/score", {"txt": "typo"}, 422, "text"),
        ("/v1/score", {"text": "ok ad", "extra": 1}, 422, "extra"),
        ("/v1/score/batch", {"items": []}, 422, "items"),
    ],
)
def test_bad_requests_get_4xx_with_a_message(
    client: TestClient, path: str, body: dict, status: int, message: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_malformed_json_and_oversized_bodies(client: TestClient) -> None:
    response = client.post("/v1/score", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    big = client.post("/v1/score", content=b"x" * 200_001, headers={"content-type": "application/json"})
    assert big.status_code == 413


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (client.get("/"), client.get("/healthz"), client.post("/v1/score", json={"text": ""})):
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_form_page_follows_the_browser_language(client: TestClient) -> None:
    russian = client.get("/", headers={"accept-language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert 'lang="ru"' in russian.text and "Проверить объявление" in russian.text
    english = client.get("/?lang=en", headers={"accept-language": "ru"})
    assert 'lang="en"' in english.text and "Check the ad" in english.text
    assert "Nothing you paste is stored" in english.text


def test_form_post_shows_band_marks_and_tappable_hotlines(client: TestClient) -> None:
    page = client.post("/", data={"text": LURE, "country": "BY", "lang": "en"}).text
    assert "High risk" in page
    assert '<mark class="ev ev-flag"' in page
    assert 'href="tel:88012015555"' in page


def test_pasted_html_is_shown_as_text(client: TestClient) -> None:
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)> Работа в Дубае, пиши в Telegram"
    page = client.post("/", data={"text": hostile, "country": "BY", "lang": "en"}).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_form_errors_are_shown_on_the_page(client: TestClient) -> None:
    response = client.post("/", data={"text": "x" * 5001, "country": "BY", "lang": "en"})
    assert response.status_code == 413
    assert "limit is 5000" in response.text


def test_score_and_batch_carry_indicators_and_contacts(client: TestClient) -> None:
    single = client.post("/v1/score", json={"text": LURE, "country": "BY"}).json()
    assert single["indicators"]["of"] == 12 and 1 <= single["indicators"]["count"] <= 12
    assert [contact["value"] for contact in single["contacts"]] == ["@dubai_job"]
    batch = client.post("/v1/score/batch", json={"items": [{"id": "a", "text": LURE, "country": "BY"}]}).json()
    assert batch["results"][0]["indicators"] == single["indicators"]
    assert batch["results"][0]["contacts"] == single["contacts"]


@pytest.mark.parametrize(("lang", "words"), [("en", "of 12 warning signs"), ("ru", "из 12 тревожных признаков")])
def test_form_shows_how_many_indicators_and_the_contacts(client: TestClient, lang: str, words: str) -> None:
    count = client.post("/v1/score", json={"text": LURE, "country": "BY"}).json()["indicators"]["count"]
    page = client.post("/", data={"text": LURE, "country": "BY", "lang": lang}).text
    assert f'<span class="indicators">{count} {words}</span>' in page
    assert "<strong>@dubai_job</strong> (telegram)" in page
