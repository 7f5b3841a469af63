"""Normal ads' latency while one client sends adversarial ads: the server must not let one hostile client stall others.

Starts ``adscreen serve --workers 2`` on 127.0.0.1 (bounded in requests and time, see local_server.py),
then runs two phases of the same length: three keep-alive clients sending the typical ad, alone; and the same
three while a fourth sends the adversarial ads of ``adversarial.py`` (each at the ad-length limit) one after
another. Prints p50/p99 of the normal ads in both phases, their ratio, and how long each adversarial ad took.
Target (issue 15): the normal ads' p99 stays under 100 ms with the adversarial client running.

Usage: .venv/bin/python benchmarks/adversarial_load.py [--seconds 30] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from urllib.parse import urlsplit

import numpy as np
from adversarial import UNITS
from api_latency import TYPICAL_AD, exchange, request_bytes
from local_server import local_server

from adscreen.config import MAX_AD_CHARS


async def _normal_client(host: str, port: int, request: bytes, until: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < until:
            start = time.perf_counter()
            await exchange(reader, writer, request)
            latencies.append((time.perf_counter() - start) * 1000)
    finally:
        writer.close()


async def _adversarial_client(host: str, port: int, netloc: str, until: float, took: list[tuple[str, float, bytes]]):
    """Each adversarial ad in turn on its own connection; any status is recorded (a 503 over budget is fine)."""
    for name, unit in UNITS * 100:
        if time.monotonic() >= until:
            return
        text = (unit * (MAX_AD_CHARS // len(unit) + 1))[:MAX_AD_CHARS]
        reader, writer = await asyncio.open_connection(host, port)
        try:
            start = time.perf_counter()
            writer.write(request_bytes(netloc, "/v1/score", text))
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:")
            await reader.readexactly(length)
            took.append((name, time.perf_counter() - start, head[9:12]))
        finally:
            writer.close()


async def _phase(base: str, seconds: float, adversarial: bool) -> tuple[np.ndarray, list]:
    address = urlsplit(base)
    request = request_bytes(address.netloc, "/v1/score", TYPICAL_AD)
    until = time.monotonic() + seconds
    latencies: list[float] = []
    took: list[tuple[str, float, bytes]] = []
    clients = [_normal_client(address.hostname, address.port, request, until, latencies) for _ in range(3)]
    if adversarial:
        clients.append(_adversarial_client(address.hostname, address.port, address.netloc, until, took))
    await asyncio.gather(*clients)
    return np.array(latencies), took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--workers", type=int, default=2, help="scoring processes of the server")
    options = parser.parse_args()
    with local_server("--workers", str(options.workers), "--no-access-log") as base:
        asyncio.run(_phase(base, 3, adversarial=False))  # warm-up: every process has seen the typical ad
        alone, _ = asyncio.run(_phase(base, options.seconds, adversarial=False))
        mixed, took = asyncio.run(_phase(base, options.seconds, adversarial=True))
    for name, values in (("normal ads alone", alone), ("normal ads + adversarial client", mixed)):
        p50, p99 = np.percentile(values, [50, 99])
        print(f"{name:34} requests {len(values):6}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    print(
        f"p99 ratio (with / without the adversarial client): {np.percentile(mixed, 99) / np.percentile(alone, 99):.2f}"
    )
    worst = max(took, key=lambda item: item[1]) if took else None
    print(f"adversarial ads answered: {len(took)}; statuses {sorted({status.decode() for _, _, status in took})}")
    if worst:
        print(f"slowest adversarial ad: {worst[0]} {worst[1] * 1000:.0f} ms (status {worst[2].decode()})")
    print(f"target: normal p99 under 100 ms with the adversarial client -> {np.percentile(mixed, 99):.1f} ms")


if __name__ == "__main__":
    main()
