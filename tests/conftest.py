"""Shared fixtures: the shipped model, the shared EMSCAD data (skipped when absent), small labelled files."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from adscreen import Scorer, load_model
from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.training.runs import train_to_folder

EMSCAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "emscad_train.csv"
REAL_ADS = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "real_ads.jsonl"
TEST_DATA = Path(__file__).resolve().parent / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, the longest (training on EMSCAD, about 3 minutes) before them: the suite runs on
    every core (pytest-xdist), and a long test started last would leave the other cores idle while it ends."""
    items.sort(key=lambda item: (item.get_closest_marker("slow") is None, "emscad_path" not in item.fixturenames))


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    """The shipped default model, loaded through the public API."""
    return load_model()


@pytest.fixture(scope="session")
def emscad_path() -> Path:
    if not EMSCAD.is_file():
        pytest.skip(f"shared EMSCAD data not found at {EMSCAD} (a fresh clone does not have it; CI does)")
    return EMSCAD


@pytest.fixture(scope="session")
def real_ads_path() -> Path:
    if not REAL_ADS.is_file():
        pytest.skip(f"shared real ads not found at {REAL_ADS} (a fresh clone does not have them; CI does)")
    return REAL_ADS


def _every_third_sample_ad(target: Path, chosen: bool) -> Path:
    """Every third sample ad of every file (``chosen``), or all the others, as one JSONL file."""
    rows = []
    for path in sorted(SAMPLE_ADS_DIR.glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows.extend(row for index, row in enumerate(lines) if (index % 3 == 0) == chosen)
    target.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def small_labelled_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every third sample ad of every language, as one JSONL file: small enough to train on in seconds."""
    return _every_third_sample_ad(tmp_path_factory.mktemp("labelled") / "small.jsonl", chosen=True)


@pytest.fixture(scope="session")
def small_held_out_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two thirds of the sample ads that ``small_labelled_file`` leaves out: held out from ``small_model``."""
    return _every_third_sample_ad(tmp_path_factory.mktemp("labelled") / "held_out.jsonl", chosen=False)


@pytest.fixture(scope="session")
def small_model(small_labelled_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on ``small_labelled_file`` (with its report and model card), shared by the whole session."""
    folder = tmp_path_factory.mktemp("models") / "small"
    train_to_folder([small_labelled_file], folder, say=lambda line: None)
    return folder


@pytest.fixture
def wait_for_reload_error() -> Callable[[object], object]:
    """Poll a test client's /healthz until it reports a failed reload (at most 10 s); returns the last answer."""

    def wait(client: object) -> object:
        for _ in range(200):
            health = client.get("/healthz")
            if health.json().get("reload_error"):
                break
            time.sleep(0.05)
        return health

    return wait
