"""Issue 19's figures in one run: adscreen's scoring rates against a plain TF-IDF + LR pipeline, and server memory.

Prints:
- ads/s of a plain scikit-learn pipeline (word 1-2 + char_wb 2-5 TF-IDF, logistic regression, fitted on
  the sample ads) on the benchmark texts, in this process;
- ``Scorer.score_many`` ads/s on the same texts, with a fresh Scorer (nothing cached), and its ratio to plain;
- ``adscreen score-file`` end to end on a 20,000-row Parquet file, rows/s and its ratio to cores x plain;
- ``Scorer.score`` p50 on a typical ad;
- the peak RSS of ``adscreen serve --workers 2`` (the whole process tree) after it has scored a few ads,
  and its PSS (shared pages counted once in all).

The texts are the sample ads plus, when present, the shared real ads. Other processes on the
machine move absolute rates; the ratios, measured in the same run, move less.

Usage: .venv/bin/python benchmarks/throughput.py [--rows 20000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
from batch_throughput import TreePeak, run_command, sample_texts, write_dump
from local_server import local_server
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from adscreen import load_model
from adscreen.config import default_workers
from adscreen.scoring import Scorer
from adscreen.training.sample_ads import read_sample_rows

REAL_ADS = Path("/work/shared/data/real/real_ads.jsonl")
TYPICAL_AD = (
    "Требуются девушки 18-30 лет на работу официанткой в ресторан в Стамбуле. Зарплата от 1500$ + чаевые, "
    "опыт не нужен, жильё и билеты за счёт работодателя. Выезд на следующей неделе, пишите в Telegram @istanbul_work"
)
SERVED_WORKERS = 2


def benchmark_texts() -> list[str]:
    texts = sample_texts()
    if REAL_ADS.is_file():
        with REAL_ADS.open(encoding="utf-8") as lines:
            texts += [json.loads(line)["text"] for line in lines if line.strip()]
    return texts


class Plain:
    """The plain pipeline: two TF-IDF vectorizers and a logistic regression, fitted on the labelled sample ads."""

    def __init__(self) -> None:
        rows = read_sample_rows()
        texts = [row["text"] for row in rows]
        labels = [row["label"] for row in rows]
        self.word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3)
        self.classifier = LogisticRegression(max_iter=2000).fit(self._matrix(texts, fit=True), labels)

    def _matrix(self, texts: list[str], fit: bool = False) -> sparse.csr_matrix:
        if fit:
            return sparse.hstack([self.word.fit_transform(texts), self.char.fit_transform(texts)], format="csr")
        return sparse.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")

    def decisions(self, texts: list[str]) -> np.ndarray:
        return self.classifier.decision_function(self._matrix(texts))


def interleaved_rates(plain: Plain, loaded: Scorer, texts: list[str], rounds: int) -> tuple[float, float]:
    """Best ads/s of the plain pipeline and of ``score_many``, run in turns so that both meet the same load.

    Each ``score_many`` round has a fresh Scorer, built before the clock starts: no word it has cut
    before, as on a stream of new ads.
    """
    plain_best = many_best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        plain.decisions(texts)
        plain_best = min(plain_best, time.perf_counter() - started)
        fresh = Scorer(loaded.loaded, loaded.guide)
        fresh.explainer  # noqa: B018 (indexing the vocabularies is once per model, not per batch)
        started = time.perf_counter()
        fresh.score_many(texts)
        many_best = min(many_best, time.perf_counter() - started)
    return len(texts) / plain_best, len(texts) / many_best


def score_p50_ms(scorer: Scorer, calls: int = 200) -> float:
    scorer.score(TYPICAL_AD)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        scorer.score(TYPICAL_AD, country="BY")
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def served_memory() -> tuple[float, float]:
    """MiB: the peak RSS of the process tree of ``serve --workers 2`` while it starts and scores 20 ads, and
    the tree's PSS after them. RSS counts the pages the processes share (the Python runtime, numpy's and
    scipy's libraries) once per process; PSS splits each shared page among its processes, so the tree's PSS
    is the memory the server takes from the machine."""
    with local_server("--workers", str(SERVED_WORKERS), start_seconds=300) as base:
        server = next(
            process
            for process in psutil.process_iter(["cmdline"])
            if "serve" in (process.info["cmdline"] or []) and base.rsplit(":", 1)[1] in process.info["cmdline"]
        )
        with TreePeak(server.pid, every=0.1) as peak:
            for text in sample_texts()[:20]:
                httpx.post(base + "/v1/score", json={"text": text}, timeout=60).raise_for_status()
            time.sleep(1)
            tree = [server, *server.children(recursive=True)]
            proportional = sum(member.memory_full_info().pss for member in tree)
    return peak.bytes / 2**20, proportional / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the score-file run")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many in-process runs")
    parser.add_argument("--ads", type=int, default=3000, help="texts for the in-process rates")
    arguments = parser.parse_args()
    texts = benchmark_texts()[: arguments.ads]
    cores = default_workers()
    plain = Plain()
    loaded = load_model()
    loaded.score_many(texts[:50])  # load what is loaded once per process (regexes, prefilter)
    plain.decisions(texts[:50])
    plain_rate, many_rate = interleaved_rates(plain, loaded, texts, arguments.rounds)
    seconds, peak, _ = run_command(write_dump(sample_texts(), arguments.rows, "parquet"), cores)
    file_rate = arguments.rows / seconds
    p50 = score_p50_ms(loaded)
    served_rss, served_pss = served_memory()
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f}; {len(texts)} texts in process")
    print(f"plain sklearn TF-IDF + LR      {plain_rate:8.0f} ads/s")
    print(f"Scorer.score_many (fresh)      {many_rate:8.0f} ads/s   x{many_rate / plain_rate:.2f} plain")
    print(
        f"score-file {arguments.rows:,} rows, {cores} workers {file_rate:8.0f} ads/s   "
        f"x{file_rate / (cores * plain_rate):.2f} cores x plain   (tree peak {peak / 2**20:.0f} MiB)"
    )
    print(f"Scorer.score p50 (typical ad)  {p50:8.2f} ms")
    print(f"serve --workers {SERVED_WORKERS} peak RSS      {served_rss:8.0f} MiB (process tree, after 20 ads)")
    print(f"serve --workers {SERVED_WORKERS} PSS           {served_pss:8.0f} MiB (process tree, shared pages split)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
