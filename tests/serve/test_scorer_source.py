"""Hot reload: a running app follows the registry's current model, never fails a request, refuses a tampered one.

Two models in a temporary models folder: the shipped one, and ``never-flags``, the same
pipeline re-saved with threshold and band edges at 1.0, so that it scores the same lure
"low" and "looks_ok". Reloading does not care how a model was trained, and this costs a
second where training a second model would cost half a minute.
"""

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from adscreen.config import Settings
from adscreen.model import Bands
from adscreen.paths import MODELS_DIR
from adscreen.registry import Registry, save_model, write_json_atomically
from adscreen.scoring import Scorer
from adscreen.serve.app import create_app
from adscreen.serve.reload import RegistryStamp, ScorerSource

SHIPPED = json.loads((MODELS_DIR / "registry.json").read_text())["current"]
OTHER = "never-flags"
LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def models_template(tmp_path_factory: pytest.TempPathFactory, scorer: Scorer) -> Path:
    """The shipped model and ``never-flags``, both registered, the shipped one current."""
    root = tmp_path_factory.mktemp("template") / "models"
    shutil.copytree(MODELS_DIR / SHIPPED, root / SHIPPED)
    shutil.copy(MODELS_DIR / "registry.json", root / "registry.json")
    shipped = scorer.loaded
    never = dataclasses.replace(shipped.model, threshold=1.0, bands=Bands(low=1.0, high=1.0))
    save_model(never, root / OTHER, {**shipped.metadata, "name": OTHER, "version": f"{OTHER}@test", "threshold": 1.0})
    Registry(root).register(OTHER)
    return root


@pytest.fixture()
def models(models_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "models"
    shutil.copytree(models_template, target)
    return target


def app_settings(models: Path, interval: float = 0) -> Settings:
    return Settings(models_dir=models, reload_interval=interval, feedback_db=models.parent / "feedback.sqlite3")


def served(client: TestClient) -> tuple[str, str, str]:
    """Model name from /v1/model, and model name and label from /v1/score."""
    result = client.post("/v1/score", json={"text": LURE}).json()
    return client.get("/v1/model").json()["name"], result["model"]["name"], result["label"]


def source_of(client: TestClient) -> ScorerSource:
    return client.app.state.scorer_source


def wait_until_serving(client: TestClient, name: str) -> None:
    deadline = time.monotonic() + 60  # a bound so a broken watcher fails instead of hanging
    while client.get("/v1/model").json()["name"] != name:
        assert time.monotonic() < deadline, f"the watcher never loaded {name}"
        time.sleep(0.05)


def test_promote_and_rollback_switch_the_running_app_without_a_restart(models: Path) -> None:
    with TestClient(create_app(app_settings(models, interval=0.05))) as client:
        assert served(client) == (SHIPPED, SHIPPED, "suspicious")
        Registry(models).promote(OTHER)
        wait_until_serving(client, OTHER)
        assert served(client) == (OTHER, OTHER, "looks_ok")
        assert client.get("/healthz").json() == {
            "status": "ok",
            "model": {"name": OTHER, "version": f"{OTHER}@test"},
            "feedback": "ok",
        }
        Registry(models).rollback()
        wait_until_serving(client, SHIPPED)
        assert served(client) == (SHIPPED, SHIPPED, "suspicious")


@pytest.mark.slow
def test_a_switch_scores_in_the_new_models_processes_and_stops_the_old_ones(models: Path) -> None:
    settings = app_settings(models, interval=0.05).model_copy(update={"workers": 1})
    with TestClient(create_app(settings)) as client:
        old_pool = source_of(client).serving().pool
        assert old_pool is not None and served(client) == (SHIPPED, SHIPPED, "suspicious")
        Registry(models).promote(OTHER)
        wait_until_serving(client, OTHER)
        assert served(client) == (OTHER, OTHER, "looks_ok")  # scored in the new model's process
        new_pool = source_of(client).serving().pool
        assert new_pool is not old_pool and new_pool.alive == 1
        deadline = time.monotonic() + 60
        while old_pool.alive:
            assert time.monotonic() < deadline, "the old model's scoring process never stopped"
            time.sleep(0.05)
    assert new_pool.alive == 0


def test_no_request_fails_while_the_model_switches(models: Path) -> None:
    threads, stop, lock = 3, threading.Event(), threading.Lock()
    outcomes: list[tuple[int, str | None]] = []

    def fire(client: TestClient) -> None:
        while not stop.is_set():
            response = client.post("/v1/score", json={"text": LURE})
            name = response.json().get("model", {}).get("name") if response.status_code == 200 else None
            with lock:
                outcomes.append((response.status_code, name))

    def wait_for_completions(count: int) -> None:
        with lock:
            target = len(outcomes) + count
        deadline = time.monotonic() + 60
        while len(outcomes) < target:
            assert time.monotonic() < deadline, "requests stopped completing"
            time.sleep(0.01)

    with TestClient(create_app(app_settings(models))) as client:
        workers = [threading.Thread(target=fire, args=(client,)) for _ in range(threads)]
        for worker in workers:
            worker.start()
        try:
            registry, source = Registry(models), source_of(client)
            for change in (lambda: registry.promote(OTHER), registry.rollback):
                wait_for_completions(threads + 3)  # at least three requests began after the last switch
                change()
                assert source.refresh() is True
            wait_for_completions(threads + 3)
        finally:
            stop.set()
            for worker in workers:
                worker.join()
    statuses = {status for status, _ in outcomes}
    assert statuses == {200}, f"failed requests during the switch: {statuses}"
    assert {name for _, name in outcomes} == {SHIPPED, OTHER}
    assert outcomes[-1][1] == SHIPPED


def test_a_tampered_model_is_refused_and_the_old_one_keeps_serving(models: Path) -> None:
    shutil.copytree(models / OTHER, models / "tampered")
    registry = Registry(models)
    registry.register("tampered")
    model_file = models / "tampered" / "model.skops"
    model_file.write_bytes(model_file.read_bytes() + b"changed after registration")
    with TestClient(create_app(app_settings(models))) as client:
        state = registry.read()
        state["current"] = "tampered"  # as if the file was replaced after it was promoted
        write_json_atomically(registry.path, state)
        assert source_of(client).refresh() is False
        health = client.get("/healthz").json()
        assert health["status"] == "ok"
        assert health["model"]["name"] == SHIPPED
        assert "does not match" in health["reload_error"] and f"still serving {SHIPPED}" in health["reload_error"]
        assert served(client) == (SHIPPED, SHIPPED, "suspicious")
        assert source_of(client).refresh() is False  # not retried until the registry changes again
        registry.promote(OTHER)
        assert source_of(client).refresh() is True
        assert "reload_error" not in client.get("/healthz").json()
        assert served(client)[0] == OTHER


def test_a_registry_change_that_keeps_the_current_model_loads_nothing(models: Path, scorer: Scorer) -> None:
    registry = Registry(models)
    source = ScorerSource(scorer, registry, RegistryStamp.of(registry.path), registry_entry(registry, SHIPPED))
    shutil.copytree(models / OTHER, models / "another")
    registry.register("another")
    assert source.refresh() is False
    assert source.serving().scorer is scorer and source.error is None


def test_a_request_keeps_the_scorer_it_started_with(models: Path, scorer: Scorer) -> None:
    registry = Registry(models)
    source = ScorerSource(scorer, registry, RegistryStamp.of(registry.path), registry_entry(registry, SHIPPED))
    in_flight = source.serving().scorer
    registry.promote(OTHER)
    assert source.refresh() is True
    assert in_flight.score(LURE)["model"]["name"] == SHIPPED
    assert source.serving().scorer.score(LURE)["model"]["name"] == OTHER


def registry_entry(registry: Registry, name: str) -> tuple[str, str]:
    return name, registry.read()["models"][name]["sha256"]


def test_an_app_given_a_scorer_or_a_model_path_never_reloads(models: Path, scorer: Scorer) -> None:
    fixed = Settings(models_dir=models, model_path=models / SHIPPED, reload_interval=0.05)
    for app in (create_app(app_settings(models, 0.05), scorer=scorer), create_app(fixed)):
        with TestClient(app) as client:
            source = source_of(client)
            assert not source.reloads
            Registry(models).promote(OTHER)
            assert source.refresh() is False
            assert client.get("/v1/model").json()["name"] == SHIPPED
            Registry(models).rollback()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def server(models: Path) -> Iterator[str]:
    """``adscreen serve`` in its own process, checking the registry every 0.2 s."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "ADSCREEN_MODELS_DIR": str(models),
        "ADSCREEN_RELOAD_INTERVAL": "0.2",
        "ADSCREEN_FEEDBACK_DB": str(models.parent / "feedback.sqlite3"),
    }
    command = [sys.executable, "-m", "adscreen.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else "server exited"
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.slow
def test_a_real_server_follows_promote_and_rollback(server: str, models: Path) -> None:
    def model_name(client: httpx.Client) -> str:
        return client.get("/v1/model").json()["name"]

    def wait_for(client: httpx.Client, name: str, statuses: list[int]) -> None:
        deadline = time.monotonic() + 120  # loads the model in the server and in each scoring process
        while model_name(client) != name:
            assert time.monotonic() < deadline, f"the server never switched to {name}"
            statuses.append(client.post("/v1/score", json={"text": LURE}).status_code)

    statuses: list[int] = []
    with httpx.Client(base_url=server, timeout=30) as client:
        assert model_name(client) == SHIPPED
        Registry(models).promote(OTHER)
        wait_for(client, OTHER, statuses)
        assert client.post("/v1/score", json={"text": LURE}).json()["label"] == "looks_ok"
        Registry(models).rollback()
        wait_for(client, SHIPPED, statuses)
        assert client.post("/v1/score", json={"text": LURE}).json()["label"] == "suspicious"
    assert set(statuses) <= {200}


@pytest.mark.slow
def test_with_scoring_processes_the_http_process_never_reads_the_model(models: Path) -> None:
    """The model (and its languages' models) live in the scoring processes; this one only names it."""
    settings = app_settings(models).model_copy(update={"workers": 1})
    with TestClient(create_app(settings)) as client:
        assert served(client) == (SHIPPED, SHIPPED, "suspicious")
        batch = client.post("/v1/score/batch", json={"items": [{"text": LURE}, {"text": "Praca w Warszawie"}]})
        assert batch.status_code == 200 and len(batch.json()["results"]) == 2
        assert client.get("/").status_code == 200 and client.get("/healthz").status_code == 200
        assert source_of(client).serving().scorer.loaded._model is None
