"""In-process cost of scoring: ``Scorer.score`` per call on a typical, a long and a maximal ad, and ``score_many`` ads/s.

The API's latency is this cost plus HTTP handling; the target (p99 under 50 ms at
concurrency 8 on 2 cores) needs one ``score()`` to take a few milliseconds. Wall-clock
percentiles suffer when other processes share the cores; the CPU-time median does less.

A Scorer remembers the n-gram columns of the words it has seen, so an ad scored again
(the rows above) costs less than a new one. The "samples" rows score every sample ad
once with a fresh Scorer, as a server meets new ads, then once more.

Usage: .venv/bin/python benchmarks/score_inprocess.py [--calls 300] [--batch 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from adscreen import load_model
from adscreen.config import MAX_AD_CHARS
from adscreen.language import warm_up
from adscreen.scoring import Scorer
from adscreen.training.sample_ads import read_sample_rows

TYPICAL_AD = (
    "Требуются девушки 18-30 лет на работу официанткой в ресторан в Стамбуле. Зарплата от 1500$ + чаевые, "
    "опыт не нужен, жильё и билеты за счёт работодателя. Выезд на следующей неделе, пишите в Telegram @istanbul_work"
)


def per_call_ms(score: object, text: str, calls: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock and CPU milliseconds of each call."""
    wall, cpu = [], []
    for _ in range(calls):
        start, start_cpu = time.perf_counter(), time.process_time()
        score(text, country="BY")
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return np.array(wall) * 1000, np.array(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per ad for the per-call figures")
    parser.add_argument("--batch", type=int, default=1030, help="ads for the score_many figure (sample ads, repeated)")
    arguments = parser.parse_args()
    scorer = load_model()
    warm_up()  # load every language model now, as a server does, not during the first ads
    texts = [row["text"] for row in read_sample_rows()]
    longest = max(texts, key=len)
    maximal = "\n\n".join(texts)[:MAX_AD_CHARS]
    ads = {"typical": TYPICAL_AD, "long": longest, "maximal": maximal}
    for text in ads.values():  # warm-up: compile regexes, fill caches
        scorer.score(text)
    print(f"{'ad':>8} {'chars':>6} {'calls':>6} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'cpu p50':>8}")
    for name, text in ads.items():
        calls = arguments.calls if len(text) < 5000 else max(arguments.calls // 10, 10)
        wall, cpu = per_call_ms(scorer.score, text, calls)
        p50, p99 = np.percentile(wall, [50, 99])
        print(f"{name:>8} {len(text):>6} {calls:>6} {p50:>8.2f} {p99:>8.2f} {wall.mean():>8.2f} {np.median(cpu):>8.2f}")
    fresh = Scorer(scorer.loaded, scorer.guide)
    for name in ("samples, first", "samples, again"):
        cpu = []
        for text in texts:
            start_cpu = time.process_time()
            fresh.score(text, country="BY")
            cpu.append(time.process_time() - start_cpu)
        cpu = np.array(cpu) * 1000
        print(
            f"{name}: {len(texts)} ads of {np.mean([len(t) for t in texts]):.0f} chars on average, CPU ms per ad "
            f"mean {cpu.mean():.2f}, p50 {np.median(cpu):.2f}, p99 {np.percentile(cpu, 99):.2f}"
        )
    batch = (texts * (arguments.batch // len(texts) + 1))[: arguments.batch]
    start = time.perf_counter()
    scorer.score_many(batch)
    elapsed = time.perf_counter() - start
    print(f"score_many: {len(batch)} ads in {elapsed:.2f} s = {len(batch) / elapsed:.0f} ads/s")


if __name__ == "__main__":
    main()
