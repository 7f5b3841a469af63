"""Latency and throughput of single-ad scoring over HTTP, at a few concurrency levels.

Starts `adscreen serve` on 127.0.0.1 (a free port), sends a bounded number of
requests per level (and stops a level after a time limit), and prints p50/p95/p99
latency and requests per second. Target: p99 under 50 ms for a typical ad at
concurrency 8 on a 2-core machine.

The client runs on the same machine and takes CPU from the server, so a last row
times ``GET /healthz`` (no scoring) at the highest level: the floor that the client,
the loopback and the HTTP stack set on this machine, whatever scoring costs.

Usage: .venv/bin/python benchmarks/api_latency.py [--requests 400] [--levels 1,4,8] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import httpx
import numpy as np
from local_server import local_server

TYPICAL_AD = (
    "Требуются девушки 18-30 лет на работу официанткой в ресторан в Стамбуле. Зарплата от 1500$ + чаевые, "
    "опыт не нужен, жильё и билеты за счёт работодателя. Выезд на следующей неделе, пишите в Telegram @istanbul_work"
)


async def run_level(
    base: str, concurrency: int, total: int, seconds: float, score: bool = True
) -> tuple[np.ndarray, float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    remaining = iter(range(total))
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def worker() -> None:
            for _ in remaining:
                if time.monotonic() > deadline:
                    return
                start = time.perf_counter()
                if score:
                    response = await client.post("/v1/score", json={"text": TYPICAL_AD, "country": "BY"})
                else:
                    response = await client.get("/healthz")
                latencies.append(time.perf_counter() - start)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return np.array(latencies) * 1000, len(latencies) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    parser.add_argument("--levels", default="1,4,8", help="comma-separated concurrency levels")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per level")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server worker processes")
    parser.add_argument("--log-level", default="warning", help="server log level (info logs every request)")
    arguments = parser.parse_args()
    with local_server("--workers", str(arguments.workers), "--log-level", arguments.log_level) as base:
        asyncio.run(run_level(base, 1, 20, 10))  # warm-up
        print(f"server workers: {arguments.workers}; ad of {len(TYPICAL_AD)} characters")
        print(
            f"{'route':>12} {'concurrency':>11} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}"
        )
        levels = [int(value) for value in arguments.levels.split(",")]
        for route, level in [*(("/v1/score", level) for level in levels), ("/healthz", max(levels))]:
            latencies, rate = asyncio.run(
                run_level(base, level, arguments.requests, arguments.seconds, score=route == "/v1/score")
            )
            p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
            print(f"{route:>12} {level:>11} {len(latencies):>8} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {rate:>8.1f}")


if __name__ == "__main__":
    main()
