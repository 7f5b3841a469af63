"""Throughput and memory of ``adscreen score-file`` against the bare model, on synthetic dumps.

For each size N, writes N rows drawn from the sample ads (each with an id, a source
column and a small random suffix so rows are not identical) as CSV and Parquet under
benchmarks/out/, runs the real command line on each, and prints rows/second, the ratio
to a bare single-process ``pipeline.predict_proba`` over the same texts in memory, and
the peak memory of the whole process tree (command plus workers).

Targets (issue 9): Parquet throughput >= 0.8 x cores x the bare rate; peak memory flat
(within 1.5x) from 100k to 1M rows.

Usage: .venv/bin/python benchmarks/batch_throughput.py [--rows 10000,100000,1000000] [--formats csv,parquet]
       [--workers N] [--bare-rows 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from adscreen import load_model
from adscreen.config import default_workers
from adscreen.paths import SAMPLE_ADS_DIR

OUT = Path(__file__).resolve().parent / "out"
SEED = 20261129


def sample_texts() -> list[str]:
    texts = []
    for path in sorted(SAMPLE_ADS_DIR.glob("*.jsonl")):
        texts.extend(json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return texts


def synthetic_texts(texts: list[str], rows: int, rng: np.random.Generator) -> list[str]:
    picks = rng.integers(0, len(texts), rows)
    suffixes = rng.integers(1000, 99999, rows)
    return [f"{texts[pick]}\nref {suffix}" for pick, suffix in zip(picks, suffixes, strict=True)]


def write_dump(texts: list[str], rows: int, kind: str) -> Path:
    """N rows written in slices, so that making a million-row file does not itself need gigabytes."""
    path = OUT / f"dump-{rows}.{kind}"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    partial = path.with_suffix(".partial")
    writer = None
    with partial.open("w", encoding="utf-8", newline="") as stream:
        for start in range(0, rows, 50_000):
            count = min(50_000, rows - start)
            frame = pd.DataFrame(
                {
                    "ad_id": np.arange(start, start + count),
                    "source": rng.choice(["board", "classifieds", "telegram"], count),
                    "text": synthetic_texts(texts, count, rng),
                }
            )
            if kind == "csv":
                frame.to_csv(stream, index=False, header=start == 0)
            else:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                writer = writer or pq.ParquetWriter(partial, table.schema)
                writer.write_table(table, row_group_size=20_000)
    if writer is not None:
        writer.close()
    partial.rename(path)
    return path


def bare_rate(texts: list[str], rows: int) -> float:
    """Rows/second of the fitted pipeline's predict_proba on texts already in memory, one process."""
    scorer = load_model()
    sample = synthetic_texts(texts, rows, np.random.default_rng(SEED + 1))
    scorer.loaded.model.pipeline.predict_proba(sample[:50])  # warm up
    started = time.perf_counter()
    scorer.loaded.model.pipeline.predict_proba(sample)
    return rows / (time.perf_counter() - started)


class TreePeak:
    """The peak RSS of a process and all its children, sampled every ``every`` seconds while in the block."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.root, self.every, self.bytes = psutil.Process(pid), every, 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
                self.bytes = max(self.bytes, sum(member.memory_info().rss for member in tree))
            except psutil.Error:
                pass
            time.sleep(self.every)

    def __enter__(self) -> TreePeak:
        self._sampler.start()
        return self

    def __exit__(self, *exception: object) -> None:
        self._done.set()
        self._sampler.join()


def run_command(source: Path, workers: int) -> tuple[float, int, str]:
    """Wall time, peak RSS of the process tree (sampled every 0.2 s) and the command's summary line."""
    target = OUT / f"scored-{source.name}"
    command = [sys.executable, "-m", "adscreen.cli", "score-file", str(source), "-o", str(target), "--quiet"]
    command += ["--workers", str(workers), "--id-column", "ad_id"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    with TreePeak(process.pid) as peak:
        _, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"score-file failed: {stderr.strip()}")
    rows_out = _rows_in_order(target)
    target.unlink()
    return seconds, peak.bytes, f"{stderr.strip().splitlines()[-1]} [rows out {rows_out:,}, in input order]"


def _rows_in_order(path: Path) -> int:
    """How many rows the output has; stops the benchmark unless their ids are 0, 1, 2, ... (the input's order)."""
    if path.suffix == ".parquet":
        batches = (batch.column("ad_id").to_numpy() for batch in pq.ParquetFile(path).iter_batches(columns=["ad_id"]))
    else:
        batches = (chunk["ad_id"].to_numpy() for chunk in pd.read_csv(path, usecols=["ad_id"], chunksize=200_000))
    seen = 0
    for ids in batches:
        if not np.array_equal(ids, np.arange(seen, seen + len(ids))):
            raise SystemExit(f"{path.name}: rows out of order or lost after row {seen}")
        seen += len(ids)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--bare-rows", type=int, default=5000, help="texts for the bare predict_proba rate")
    args = parser.parse_args()
    texts = sample_texts()
    cores = default_workers()
    bare = bare_rate(texts, args.bare_rows)
    print(f"machine: {cores} cores; workers {args.workers}; bare predict_proba {bare:,.0f} rows/s (one process)")
    print(f"target for Parquet: >= 0.8 x {cores} x bare = {0.8 * cores * bare:,.0f} rows/s\n")
    print(f"{'rows':>9} {'format':8} {'seconds':>8} {'rows/s':>8} {'x bare':>7} {'x target':>8} {'peak MiB':>9}")
    peaks: dict[tuple[str, int], float] = {}
    for rows in (int(size) for size in args.rows.split(",")):
        for kind in args.formats.split(","):
            source = write_dump(texts, rows, kind)
            seconds, peak, summary = run_command(source, args.workers)
            rate = rows / seconds
            peaks[kind, rows] = peak / 2**20
            print(
                f"{rows:>9,} {kind:8} {seconds:8.1f} {rate:8,.0f} {rate / bare:7.2f} "
                f"{rate / (0.8 * cores * bare):8.2f} {peak / 2**20:9.0f}   {summary}"
            )
    sizes = sorted({rows for _, rows in peaks})
    for kind in args.formats.split(","):
        if len(sizes) > 1 and (kind, sizes[-2]) in peaks:
            ratio = peaks[kind, sizes[-1]] / peaks[kind, sizes[-2]]
            print(f"peak memory {kind}: {sizes[-1]:,} rows / {sizes[-2]:,} rows = {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
