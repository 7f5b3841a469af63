"""Latency and throughput of single-ad scoring over HTTP, at a few concurrency levels.

Starts `adscreen serve` on 127.0.0.1 (a free port), sends a bounded number of
requests per level (and stops a level after a time limit), and prints p50/p95/p99
latency and requests per second. Target: p99 under 50 ms for a typical ad at
concurrency 8 on a 2-core machine.

The client runs on the same machine and takes CPU from the server. It is a lean
HTTP/1.1 keep-alive client on asyncio streams (one connection per concurrent
user, the request bytes built once), because a full client such as httpx spends
about as much CPU per request as the server spends scoring. The last column is
the client's own CPU per request, and a last row times ``GET /healthz`` (no
scoring) at the highest level: the floor that the client, the loopback and the
HTTP stack set on this machine, whatever scoring costs.

The typical ad is sent again and again, so the scoring processes soon know all its
words (see ``score_inprocess.py``); ``--ads samples`` sends the 1,030 sample ads in
turn instead (longer, 396 characters on average, and mostly new to the server).

Usage: .venv/bin/python benchmarks/api_latency.py [--requests 400] [--levels 1,4,8] [--seconds 60] [--workers 2]
       [--ads typical|samples]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from urllib.parse import urlsplit

import numpy as np
from local_server import local_server

from adscreen.training.sample_ads import read_sample_rows

TYPICAL_AD = (
    "Требуются девушки 18-30 лет на работу официанткой в ресторан в Стамбуле. Зарплата от 1500$ + чаевые, "
    "опыт не нужен, жильё и билеты за счёт работодателя. Выезд на следующей неделе, пишите в Telegram @istanbul_work"
)


def request_bytes(host: str, route: str, text: str) -> bytes:
    """One complete keep-alive request: the scoring POST of ``text``, or a GET for any other route."""
    if route != "/v1/score":
        return f"GET {route} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    body = json.dumps({"text": text, "country": "BY"}).encode()
    head = (
        f"POST {route} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
    """Send one request and read its whole response; anything but 200 stops the benchmark."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = head[9:12]
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length)
    if status != b"200":
        raise SystemExit(f"the server answered {status.decode()}: {body[:200]!r}")


async def run_level(
    base: str, route: str, concurrency: int, total: int, seconds: float, ads: list[str]
) -> tuple[np.ndarray, float, float]:
    """Latencies in ms, requests per second, and the client's CPU ms per request; the ads are sent in turn."""
    address = urlsplit(base)
    requests = [request_bytes(address.netloc, route, text) for text in ads]
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    remaining = iter(range(total))

    async def user() -> None:
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        try:
            for number in remaining:
                if time.monotonic() > deadline:
                    return
                start = time.perf_counter()
                await exchange(reader, writer, requests[number % len(requests)])
                latencies.append(time.perf_counter() - start)
        finally:
            writer.close()

    cpu_started, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return np.array(latencies) * 1000, len(latencies) / elapsed, cpu * 1000 / max(len(latencies), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    parser.add_argument("--levels", default="1,4,8", help="comma-separated concurrency levels")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per level")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server worker processes")
    parser.add_argument("--log-level", default="warning", help="server log level (info logs every request)")
    parser.add_argument("--ads", choices=["typical", "samples"], default="typical", help="what to score (see above)")
    arguments = parser.parse_args()
    ads = [TYPICAL_AD] if arguments.ads == "typical" else [row["text"] for row in read_sample_rows()]
    levels = [int(value) for value in arguments.levels.split(",")]
    with local_server("--workers", str(arguments.workers), "--log-level", arguments.log_level) as base:
        asyncio.run(run_level(base, "/v1/score", max(levels), 50 * arguments.workers, 10, [TYPICAL_AD]))  # warm up
        mean_chars = sum(map(len, ads)) / len(ads)
        print(
            f"server workers: {arguments.workers}; {len(ads)} different ads of {mean_chars:.0f} characters on average"
        )
        print(
            f"{'route':>10} {'concurrency':>11} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
            f" {'req/s':>7} {'client CPU ms/req':>17}"
        )
        for route, level in [*(("/v1/score", level) for level in levels), ("/healthz", max(levels))]:
            latencies, rate, client_cpu = asyncio.run(
                run_level(base, route, level, arguments.requests, arguments.seconds, ads)
            )
            p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
            print(
                f"{route:>10} {level:>11} {len(latencies):>8} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f}"
                f" {rate:>7.1f} {client_cpu:>17.2f}"
            )


if __name__ == "__main__":
    main()
