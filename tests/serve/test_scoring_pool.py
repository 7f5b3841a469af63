"""The served app's scoring processes: same results as in-process, each answer to its own ad, survive a dead process.

One pool of two processes serves the module, driven from one uvloop event loop, as
``adscreen serve`` drives it (uvloop makes the answers' pipes non-blocking). Its scorers are
``slow_scorers.SlowScorer``: the served scorer, but stuck on an ad marked ``SLOW_MARK``.
"""

import asyncio
import dataclasses
import json
from collections.abc import Iterator

import orjson
import pytest
import uvloop
from fastapi.testclient import TestClient

from adscreen.config import Settings
from adscreen.errors import InputTooLarge, ScoringUnavailable
from adscreen.paths import MODELS_DIR
from adscreen.registry import Registry
from adscreen.scoring import Scorer
from adscreen.serve.app import create_app
from adscreen.serve.pool import ScoringPool
from adscreen.serve.schemas import result_json
from adscreen.training.sample_ads import read_sample_rows
from slow_scorers import SLOW_MARK, language_detectors_built, loaded_modules, slow_scorer

MAX_CHARS = 20_000
ADS = [row["text"] for row in read_sample_rows()[::40]]
LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        yield runner


@pytest.fixture(scope="module")
def pool(scorer: Scorer, runner: asyncio.Runner) -> Iterator[ScoringPool]:
    pool = ScoringPool.for_model(scorer.loaded, MAX_CHARS, processes=2, make_scorer=slow_scorer)
    yield pool
    runner.run(_retire(pool))
    pool.join()


async def _retire(pool: ScoringPool) -> None:
    pool.retire()


async def score(pool: ScoringPool, text: str, country: str | None, language: str | None) -> dict:
    """The pool's answer, which is the result's JSON, as the result."""
    return orjson.loads(await pool.score_json(text, country, language, seconds=120))


async def until_idle(pool: ScoringPool, processes: int) -> None:
    while len(pool._idle) < processes:
        await asyncio.sleep(0.1)


async def score_all(pool: ScoringPool, texts: list[str], country: str | None = "BY") -> list[dict]:
    return await asyncio.gather(*(score(pool, text, country, None) for text in texts))


def test_many_ads_at_once_each_get_the_in_process_result(pool: ScoringPool, scorer: Scorer, runner) -> None:
    texts = [*ADS, *reversed(ADS)]  # more ads than processes, so most wait their turn
    answers = runner.run(score_all(pool, texts))
    assert len(texts) > 20
    assert answers == [scorer.score(text, country="BY") for text in texts]
    assert len({answer["risk"] for answer in answers}) > 5  # distinct ads, so a mix-up would show


def test_scoring_processes_hold_no_language_models_yet_answer_each_ads_language(
    pool: ScoringPool, scorer: Scorer, runner
) -> None:
    texts = [LURE, "Praca w Holandii przy truskawkach, pisz na WhatsApp", "Робота в Польщі, житло безкоштовно"]
    answers = runner.run(score_all(pool, texts))
    assert [answer["language"] for answer in answers] == ["ru", "pl", "uk"]
    assert answers == [scorer.score(text, country="BY") for text in texts]
    built = runner.run(pool.score_bulk(language_detectors_built, (), seconds=120))
    assert built == 0


def test_an_ad_the_scorer_refuses_raises_the_same_error(pool: ScoringPool, runner) -> None:
    with pytest.raises(InputTooLarge, match="limit is 20000"):
        runner.run(score(pool, "работа " * 3000, None, None))
    assert runner.run(score(pool, LURE, None, "ru"))["band"] == "high"  # the process goes on


def test_long_answers_arrive_whole(pool: ScoringPool, scorer: Scorer, runner) -> None:
    """An answer longer than a pipe holds (64 KiB) reaches the non-blocking pipe in pieces, while others arrive."""
    handles = ("Работа в Дубае, пиши: " + " ".join(f"@dubai_job_{number}" for number in range(1500)))[:MAX_CHARS]
    texts = [handles, LURE, ADS[0]] * 4
    assert len(result_json(scorer.score(handles, country="BY"))) > 2 * 65_536
    assert runner.run(score_all(pool, texts)) == [scorer.score(text, country="BY") for text in texts]


def test_an_ad_whose_client_went_away_is_not_scored(pool: ScoringPool, scorer: Scorer, runner) -> None:
    async def cancel_one_waiting() -> list:
        tasks = [asyncio.create_task(score(pool, text, None, None)) for text in ADS[:6]]
        await asyncio.sleep(0)  # all six queued, two handed out
        tasks[4].cancel()
        return await asyncio.gather(*tasks, return_exceptions=True)

    answers = runner.run(cancel_one_waiting())
    assert isinstance(answers[4], asyncio.CancelledError)
    assert [answer["risk"] for i, answer in enumerate(answers) if i != 4] == [
        scorer.score(text)["risk"] for i, text in enumerate(ADS[:6]) if i != 4
    ]


def test_a_dead_process_fails_only_its_ad_and_is_replaced(pool: ScoringPool, scorer: Scorer, runner) -> None:
    async def kill_while_scoring() -> list:
        # Ads that stay in scoring until killed (``slow_scorers``): long ads of unseen words were once slow enough,
        # but scoring got faster than handing out the second ad.
        slow = [f"{SLOW_MARK} {kind}" for kind in "ab"]
        tasks = [asyncio.create_task(score(pool, text, None, None)) for text in slow]
        while len(pool._busy) < 2:  # both handed out (a long ad's language is detected in a thread first)
            await asyncio.sleep(0.001)
        tasks.append(asyncio.create_task(score(pool, LURE, None, None)))
        await asyncio.sleep(0)  # the lure waits
        for worker in list(pool._busy):
            worker.process.kill()
        return await asyncio.gather(*tasks, return_exceptions=True)

    first, second, lure = runner.run(kill_while_scoring())
    for lost in (first, second):
        assert isinstance(lost, ScoringUnavailable) and "please try again" in str(lost)
    assert lure == scorer.score(LURE)  # waited for a replacement process

    runner.run(asyncio.wait_for(until_idle(pool, 2), 120))
    assert pool.alive == 2
    assert runner.run(score_all(pool, ADS[:4], None)) == [scorer.score(text) for text in ADS[:4]]


def test_an_ad_handed_to_a_process_that_died_idle_goes_to_the_next(pool: ScoringPool, scorer: Scorer, runner) -> None:
    runner.run(asyncio.wait_for(until_idle(pool, 2), 120))
    dead = pool._idle[-1]  # the next to be handed an ad
    dead.process.kill()
    dead.process.join()  # gone before the event loop has seen its pipe close
    assert runner.run(score(pool, LURE, None, None)) == scorer.score(LURE)
    runner.run(asyncio.wait_for(until_idle(pool, 2), 120))
    assert dead not in pool._idle and pool.alive == 2


def test_a_model_that_fails_verification_starts_no_pool(scorer: Scorer) -> None:
    tampered = dataclasses.replace(scorer.loaded, metadata={**scorer.loaded.metadata, "model_sha256": "0" * 64})
    with pytest.raises(ScoringUnavailable, match="could not load"):
        ScoringPool.for_model(tampered, MAX_CHARS, processes=1)


def test_retire_lets_the_ads_in_flight_finish_then_stops(scorer: Scorer) -> None:
    pool = ScoringPool.for_model(scorer.loaded, MAX_CHARS, processes=1)

    async def score_then_retire() -> list[dict]:
        tasks = [asyncio.create_task(score(pool, text, None, None)) for text in ADS[:3]]
        await asyncio.sleep(0)
        pool.retire()
        return await asyncio.gather(*tasks)

    assert asyncio.run(score_then_retire()) == [scorer.score(text) for text in ADS[:3]]
    pool.join(timeout=30)
    assert pool.alive == 0
    with pytest.raises(ScoringUnavailable, match="just replaced"):  # a request that took it too late
        asyncio.run(score(pool, LURE, None, None))


def test_an_app_with_scoring_processes_answers_as_one_without(scorer: Scorer, tmp_path) -> None:
    current = Registry(MODELS_DIR).read()["current"]
    settings = Settings(model_path=MODELS_DIR / current, workers=1, feedback_db=tmp_path / "feedback.sqlite3")
    with TestClient(create_app(settings)) as client:
        pool = client.app.state.scorer_source.serving().pool
        assert pool is not None and pool.alive == 1
        response = client.post("/v1/score", json={"text": LURE, "country": "PL", "language": "ru"})
        assert response.status_code == 200
        assert response.json() == scorer.score(LURE, country="PL", ui_language="ru")
        page = client.post("/", data={"text": LURE, "country": "BY", "lang": "en"})
        assert page.status_code == 200 and "tel:" in page.text
        too_long = client.post("/v1/score", json={"text": "x" * 30_000})
        assert too_long.status_code == 413
    assert pool.alive == 0  # the app stopped its processes when it shut down


def test_an_uploaded_file_is_scored_in_processes_that_never_import_pandas(scorer: Scorer, tmp_path) -> None:
    """Uploads reach the scoring processes as lists (``batch.chunk``); cells that are not text are judged in the
    HTTP process, so a number, a null or an over-long ad still get their error in place."""
    from adscreen.batch.chunk import BatchOptions
    from adscreen.batch.files import score_file

    rows = [{"text": LURE}, {"text": 12345}, {"text": None}, {"text": "работа " * 3000}, *({"text": ad} for ad in ADS)]
    source = tmp_path / "ads.jsonl"
    source.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    score_file(source, tmp_path / "in-process.jsonl", scorer, BatchOptions(max_chars=MAX_CHARS))
    expected = (tmp_path / "in-process.jsonl").read_text(encoding="utf-8").splitlines()

    current = Registry(MODELS_DIR).read()["current"]
    settings = Settings(model_path=MODELS_DIR / current, workers=1, feedback_db=tmp_path / "feedback.sqlite3")
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/score/file", files={"file": ("ads.jsonl", source.read_bytes())})
        assert response.status_code == 200
        assert response.text.splitlines() == expected
        errors = [json.loads(line)["error"] for line in expected[1:4]]
        assert all(errors) and json.loads(expected[0])["band"] == "high"
        pool = client.app.state.scorer_source.serving().pool
        loaded = client.portal.call(pool.score_bulk, loaded_modules, (("pandas", "pyarrow", "sklearn"),), 60)
        assert loaded == []  # neither table library, nor scikit-learn: the model file's scoring arrays
