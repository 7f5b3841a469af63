"""Campaign grouping at scale: time, peak memory, and how well planted campaigns are recovered.

For each size, a fresh process builds a synthetic dump with planted campaigns
(``adscreen.planted``: about 30% of the ads in campaigns of 2-30 reposts with
reordered sentences, changed numbers and swapped contacts), then groups it
(``adscreen.analysis.campaigns``) and prints: seconds to fingerprint (contacts, shingles,
MinHash) and to link and group, the peak resident memory of the process and of
its workers together, and the pairwise precision and recall of the planted campaigns. The
last lines give, per tenfold size, how much longer grouping took: 10x means linear.
CPU seconds are printed too: on a shared machine, wall time depends on the neighbours.

Usage: .venv/bin/python benchmarks/campaigns.py [--sizes 10000,100000,1000000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import resource
import subprocess
import sys
import threading
import time

import psutil


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers: on a shared machine, wall time says less."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


class PeakMemory:
    """Highest resident memory of this process and its workers together, sampled in a thread.

    ``ru_maxrss`` alone misses workers, and counts a forked child's copy of its parent as its own.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(size: int, jobs: int, seed: int) -> dict:
    """One size, in this process: build, fingerprint, group, score."""
    from adscreen.analysis.campaigns import GroupingParams, fingerprints, group
    from planted import load_material, pairwise_scores, planted_dump

    started = time.perf_counter()
    dump = planted_dump(size, seed=seed, material=load_material())
    texts, countries = dump["text"].tolist(), dump["country"].tolist()
    built = time.perf_counter() - started
    rss_before = psutil.Process().memory_info().rss
    params = GroupingParams()
    cpu_before = _cpu_seconds()
    with PeakMemory() as memory:
        started = time.perf_counter()
        prints = fingerprints(texts, countries, params, jobs=jobs)
        fingerprinted = time.perf_counter() - started
        started = time.perf_counter()
        grouping = group(prints, params)
        grouped = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    precision, recall = pairwise_scores(grouping.labels, dump["planted"])
    return {
        "ads": size,
        "jobs": jobs,
        "build_s": round(built, 1),
        "fingerprint_s": round(fingerprinted, 1),
        "group_s": round(grouped, 1),
        "total_s": round(fingerprinted + grouped, 1),
        "us_per_ad": round((fingerprinted + grouped) / size * 1e6),
        "cpu_s": round(cpu, 1),
        "rss_before_grouping_mb": round(rss_before / 2**20),
        "peak_rss_mb": round(memory.peak / 2**20),
        "planted_campaigns": int(dump["planted"].nunique()),
        "found_campaigns": grouping.count,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated dump sizes, e.g. 10000,100000,1000000")
    parser.add_argument("--jobs", type=int, default=1, help="processes for fingerprinting")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size in this process
    arguments = parser.parse_args()
    if arguments.one:
        print(json.dumps(measure(arguments.one, arguments.jobs, arguments.seed)))
        return
    print(f"machine: {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB; jobs {arguments.jobs}")
    results = []
    for size in (int(size) for size in arguments.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size), "--jobs", str(arguments.jobs)]
        output = subprocess.run([*command, "--seed", str(arguments.seed)], capture_output=True, text=True, check=True)
        result = json.loads(output.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"{size:>9,} ads: fingerprint {result['fingerprint_s']:7.1f} s, group {result['group_s']:6.1f} s "
            f"({result['us_per_ad']} us/ad, CPU {result['cpu_s']} s); peak RSS {result['peak_rss_mb']:,} MB "
            f"(with workers; the dump alone {result['rss_before_grouping_mb']:,} MB); "
            f"campaigns planted {result['planted_campaigns']:,} found {result['found_campaigns']:,}; "
            f"precision {result['precision']:.3f} recall {result['recall']:.3f}",
            flush=True,
        )
    for smaller, larger in itertools.pairwise(results):
        ratio = larger["total_s"] / max(smaller["total_s"], 0.1)
        print(
            f"{smaller['ads']:,} -> {larger['ads']:,} ads: {larger['ads'] / smaller['ads']:.0f}x ads, {ratio:.1f}x time"
        )


if __name__ == "__main__":
    main()
