"""What a hot model switch costs a running server: delay until the new model serves, latency during it, failures.

Copies the shipped models folder to a temporary one, adds a second model (the shipped
pipeline saved under another name), starts `adscreen serve` on a free port with
ADSCREEN_RELOAD_INTERVAL, measures /v1/score latency while nothing changes, then
promotes the other model and measures, under the same load, the time until /v1/model
names it and the latency of requests meanwhile. Also times the watcher's check when
the registry did not change. Bounded in requests and time.

Usage: .venv/bin/python benchmarks/hot_reload.py [--concurrency 4] [--requests 200] [--interval 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
import timeit
from pathlib import Path

import httpx
import numpy as np
from local_server import local_server

from adscreen.paths import MODELS_DIR
from adscreen.registry import Registry, load_model_dir, save_model
from adscreen.serve.reload import ScorerSource

AD = "Требуются девушки 18-30 лет официантками в Стамбул, 1500$ + чаевые, билеты за наш счёт, пишите в Telegram"


def prepare_models(root: Path) -> str:
    """A models folder with the shipped model current and a second one registered; returns the second's name."""
    shutil.copytree(MODELS_DIR, root)
    current = Registry(root).read()["current"]
    loaded = load_model_dir(root / current)
    other = "benchmark-other"
    save_model(loaded.model, root / other, {**loaded.metadata, "name": other, "version": f"{other}@benchmark"})
    Registry(root).register(other)
    return other


async def load(base: str, concurrency: int, total: int, seconds: float, until: asyncio.Event | None = None) -> dict:
    """Requests from ``concurrency`` clients until ``total`` are done, time is up, or ``until`` is set."""
    latencies: list[float] = []
    failures = 0
    deadline = time.monotonic() + seconds
    remaining = iter(range(total))
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def worker() -> None:
            nonlocal failures
            for _ in remaining:
                if time.monotonic() > deadline or (until is not None and until.is_set()):
                    return
                start = time.perf_counter()
                response = await client.post("/v1/score", json={"text": AD})
                latencies.append(time.perf_counter() - start)
                failures += response.status_code != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"ms": np.array(latencies) * 1000, "failures": failures}


async def switch(base: str, models: Path, other: str, concurrency: int) -> tuple[float, dict]:
    """Promote under load; seconds until the server names the new model, and the load's figures meanwhile."""
    switched = asyncio.Event()
    traffic = asyncio.create_task(load(base, concurrency, 10**6, 120, until=switched))
    await asyncio.sleep(0.5)
    started = time.perf_counter()
    Registry(models).promote(other)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while (await client.get("/v1/model")).json()["name"] != other:
            if time.perf_counter() - started > 120:
                raise SystemExit("the server did not switch within 120 s")
            await asyncio.sleep(0.02)
    delay = time.perf_counter() - started
    switched.set()
    return delay, await traffic


def show(label: str, figures: dict) -> None:
    ms = figures["ms"]
    print(
        f"{label:22} n={len(ms):5}  p50 {np.percentile(ms, 50):7.1f} ms  p95 {np.percentile(ms, 95):7.1f} ms"
        f"  p99 {np.percentile(ms, 99):7.1f} ms  max {ms.max():7.1f} ms  failures {figures['failures']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200, help="requests in the steady phase")
    parser.add_argument("--interval", type=float, default=2.0, help="ADSCREEN_RELOAD_INTERVAL of the server")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="adscreen-reload-") as folder:
        models = Path(folder) / "models"
        other = prepare_models(models)
        source = ScorerSource.from_registry(models)
        check = min(timeit.repeat(source.refresh, number=1000, repeat=3)) / 1000
        print(f"watcher check with no change: {check * 1e6:.1f} µs (every {arguments.interval} s)")
        env = {
            "ADSCREEN_MODELS_DIR": str(models),
            "ADSCREEN_RELOAD_INTERVAL": str(arguments.interval),
            "ADSCREEN_FEEDBACK_DB": str(Path(folder) / "feedback.sqlite3"),
        }
        with local_server(env=env) as base:
            asyncio.run(load(base, arguments.concurrency, 20, 120))  # warm-up: the language detector loads lazily
            steady = asyncio.run(load(base, arguments.concurrency, arguments.requests, 120))
            delay, during = asyncio.run(switch(base, models, other, arguments.concurrency))
    print(f"concurrency {arguments.concurrency}, reload interval {arguments.interval} s, {os.cpu_count()} cores")
    show("steady", steady)
    show("during the switch", during)
    print(f"promote -> new model serving: {delay:.2f} s (interval + load and verify in a worker thread)")
    p95_ratio = np.percentile(during["ms"], 95) / np.percentile(steady["ms"], 95)
    print(f"p95 during the switch / steady: {p95_ratio:.2f}x")


if __name__ == "__main__":
    main()
