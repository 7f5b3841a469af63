"""Scoring files of ads: streaming, lossless and in order, on local worker processes or on Dask.

Every input row comes out, in input order, with all its columns plus ``risk``, ``band``,
``label``, ``red_flags``, ``indicators`` (how many ILO indicators the ad shows),
``contacts``, ``caveats`` (``too_short``: too few words to judge) and ``error``. A row that
cannot be scored (no text, not text, too long, bytes that are not UTF-8, a damaged line)
keeps its place with ``error`` filled. Only a file that cannot be read at all stops the run.

Both engines score a chunk with the same ``score_chunk`` and write with the same
``TableWriter``; they differ only in who reads the rows and where chunks are scored.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, chain, islice
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Literal, TypeGuard, get_args

import pandas as pd
import pyarrow as pa

from adscreen.batch.chunk import EXPLANATION_COLUMN, RESULT_COLUMNS, BatchOptions, chunk_columns, chunk_errors
from adscreen.errors import AdscreenError, DataFormatError, InputError, NoTextColumn
from adscreen.registry import load_model_dir
from adscreen.rules.guidance import load_guide
from adscreen.scoring import WARM_UP_TEXT, Scorer
from adscreen.tables.ad_text import ad_texts
from adscreen.tables.formats import table_format
from adscreen.tables.stream import (
    DEFAULT_LIMITS,
    Part,
    ReaderLimits,
    TableLayout,
    TableWriter,
    compressed,
    empty_frame,
    iter_chunks,
    missing,
    plan_parts,
    read_layout,
    read_part,
)

Engine = Literal["local", "dask"]
ENGINES: tuple[Engine, ...] = get_args(Engine)
ERROR_EXAMPLES = 5


def is_engine(name: str) -> TypeGuard[Engine]:
    """Whether ``name`` (as typed on the command line) is one of the ``ENGINES``."""
    return name in ENGINES


@dataclass
class BatchSummary:
    """What a run did, for the closing line and the API's response headers."""

    rows: int = 0
    scored: int = 0
    errors: int = 0
    seconds: float = 0.0
    error_examples: list[str] = field(default_factory=list)
    replaced_columns: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def add(self, scored: pd.DataFrame, names: Sequence[object]) -> None:
        errors = scored["error"]
        self.rows += len(scored)
        failed = errors.notna()
        self.errors += int(failed.sum())
        self.scored += int((~failed).sum())
        for name, message in zip(names, errors, strict=True):
            if len(self.error_examples) >= ERROR_EXAMPLES:
                break
            if not missing(message):
                self.error_examples.append(f"{name}: {message}")


@dataclass(frozen=True)
class Progress:
    """Reported after each chunk is written: rows so far and input consumed (in the layout's unit)."""

    rows: int
    position: int
    size: int
    unit: str


ProgressCallback = Callable[[Progress], None]
# Scores one chunk's texts (with their parse problems) somewhere else: the served app's scoring processes.
ChunkScorer = Callable[[list[object], list["str | None"]], pd.DataFrame]


def result_schema(explain: bool) -> pa.Schema:
    """The columns scoring adds, with their types (Parquet keeps ``red_flags`` as a list)."""
    fields = [
        pa.field("risk", pa.float64()),
        pa.field("band", pa.string()),
        pa.field("label", pa.string()),
        pa.field("red_flags", pa.list_(pa.string())),
        pa.field("indicators", pa.int64()),
        pa.field("contacts", pa.list_(pa.string())),
        pa.field("caveats", pa.list_(pa.string())),
        pa.field("error", pa.string()),
    ]
    if explain:
        fields.append(pa.field(EXPLANATION_COLUMN, pa.string()))
    return pa.schema(fields)


# --- Scoring one chunk: pure, the same for both engines and the API. ---


def score_chunk(
    scorer: Scorer, texts: Sequence[object], problems: Sequence[str | None], options: BatchOptions
) -> pd.DataFrame:
    """The result columns for one chunk, as a frame (see ``chunk.chunk_columns``)."""
    return result_frame(chunk_columns(scorer, texts, chunk_errors(texts, problems, options.max_chars), options))


def result_frame(columns: dict[str, list]) -> pd.DataFrame:
    """``chunk.chunk_columns``' lists as the frame that is written: risks as floats, counts as nullable ints."""
    return pd.DataFrame(columns).astype({"risk": "float64", "indicators": "Int64"})


def with_scores(frame: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The input rows with the result columns (replacing any of the same name, e.g. when re-scoring)."""
    kept = frame.drop(columns=[name for name in scores.columns if name in frame.columns])
    return pd.concat([kept.reset_index(drop=True), scores.reset_index(drop=True)], axis=1)


# --- Resolving the input. ---


def resolve_text_column(layout: TableLayout, requested: str | None, path: Path) -> str | None:
    """The column that holds the ad, None for the EMSCAD fields, or a DataFormatError naming the columns."""
    shown = ", ".join(layout.columns[:20]) or "none"
    if requested is not None:
        if requested not in layout.columns:
            raise DataFormatError(f"{path}: no column {requested!r}; the columns are: {shown}")
        return requested
    if "text" in layout.columns:
        return "text"
    if {"title", "description"} <= set(layout.columns):
        return None
    raise NoTextColumn(f"{path}: no 'text' column; say which column holds the ad's text (columns: {shown})")


def _check_paths(source: Path, target: Path) -> None:
    table_format(target)
    if source.resolve() == target.resolve():
        raise InputError(f"{target}: the output would overwrite the input; choose another file")


# --- The local engine. ---


@lru_cache(maxsize=2)
def _worker_scorer(model_dir: str, sha256: str | None, max_chars: int) -> Scorer:
    """One verified model per process that reads it again: a spawned worker's, a Dask worker's, on its first chunk."""
    return Scorer(load_model_dir(Path(model_dir), sha256), load_guide(), max_chars)


_inherited: Scorer | None = None  # a forked worker's scorer: its parent's


def _inherit(scorer: Scorer) -> None:
    global _inherited
    _inherited = scorer


def _score_in_worker(
    model: tuple[str, str | None], texts: list[object], problems: list[str | None], options: BatchOptions
) -> pd.DataFrame:
    # A spawned worker reads the model in its first task, not as it starts: a model that fails to load
    # then fails that task with its own message, where a failed start breaks the pool without one.
    scorer = _inherited if _inherited is not None else _worker_scorer(*model, options.max_chars)
    return score_chunk(scorer, texts, problems, options)


def worker_start_method() -> str:
    """``fork`` on Linux when this process runs a single thread (so that no lock can be held across the
    fork), else ``spawn`` (macOS can fork, but its system libraries are not safe to use after a fork).

    Forked workers inherit this process's scorer, warmed up once here, and score from the start: each
    spawned one first spends about 2 s importing scikit-learn, reading the model and compiling the flags,
    a quarter of a 20,000-row file's time.
    """
    forkable = sys.platform == "linux" and "fork" in get_all_start_methods()
    return "fork" if forkable and threading.active_count() == 1 else "spawn"


def _worker_pool(scorer: Scorer, workers: int) -> ProcessPoolExecutor:
    """Processes for a file's chunks, started as ``worker_start_method`` says."""
    if worker_start_method() == "fork":
        scorer.score_many([WARM_UP_TEXT])  # what scoring needs first; the regexes of spans compile when used
        # Forked: the scorer is inherited, never pickled.
        return ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_inherit, initargs=(scorer,))
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"))


def _model_ref(scorer: Scorer) -> tuple[str, str | None]:
    return str(scorer.loaded.path), scorer.loaded.metadata.get("model_sha256")


def score_file(
    source: Path,
    target: Path,
    scorer: Scorer,
    options: BatchOptions = BatchOptions(),
    engine: Engine = "local",
    scheduler: str | None = None,
    on_progress: ProgressCallback | None = None,
    limits: ReaderLimits = DEFAULT_LIMITS,
    chunk_scorer: ChunkScorer | None = None,
    on_chunk: Callable[[list[object], pd.DataFrame, pd.DataFrame], None] | None = None,
) -> BatchSummary:
    """Score every row of ``source`` into ``target`` and say what happened.

    ``limits`` bound what the reader holds (a file over them is refused with InputTooLarge);
    ``chunk_scorer``, when given, scores each chunk in place of the local engine's own processes;
    ``on_chunk`` sees each chunk's ad texts, rows and scores in order, as written (``score-file --campaigns``
    groups from them instead of reading its output again).
    """
    _check_paths(source, target)
    layout = read_layout(source, limits)
    text_column = resolve_text_column(layout, options.text_column, source)
    if options.id_column is not None and options.id_column not in layout.columns:
        raise DataFormatError(f"{source}: no id column {options.id_column!r}")
    summary = BatchSummary(replaced_columns=[name for name in RESULT_COLUMNS if name in layout.columns])
    started = time.perf_counter()
    chunks = (
        _dask_chunks(source, layout, text_column, scorer, options, scheduler)
        if engine == "dask"
        else _local_chunks(source, layout, text_column, scorer, options, chunk_scorer)
    )
    with TableWriter(target, layout, result_schema(options.explain), options.csv_escape) as writer:
        for frame, scores, position in chunks:
            first = summary.rows
            names = (
                frame[options.id_column].tolist()
                if options.id_column
                else [f"row {first + i + 1}" for i in range(len(frame))]
            )
            summary.add(scores, names)
            writer.write(with_scores(frame, scores))
            if on_chunk is not None:
                on_chunk(ad_texts(frame, text_column), frame, scores)
            if on_progress is not None:
                on_progress(Progress(summary.rows, position, layout.size, layout.unit))
    summary.seconds = time.perf_counter() - started
    return summary


ScoredChunk = tuple[pd.DataFrame, pd.DataFrame, int]


def _local_chunks(
    source: Path,
    layout: TableLayout,
    text_column: str | None,
    scorer: Scorer,
    options: BatchOptions,
    chunk_scorer: ChunkScorer | None = None,
) -> Iterator[ScoredChunk]:
    """Chunks scored in order: in this process, or on worker processes with a bounded queue ahead."""
    raw_column = text_column or "description"
    chunks = iter_chunks(source, layout, options.chunk_size, raw_column)
    if chunk_scorer is not None:
        for chunk in chunks:
            yield chunk.frame, chunk_scorer(ad_texts(chunk.frame, text_column), chunk.problems), chunk.position
        return
    ahead = list(islice(chunks, 2))
    if options.workers <= 1 or len(ahead) < 2:  # one chunk is not worth starting processes for
        for chunk in chain(ahead, chunks):
            scores = score_chunk(scorer, ad_texts(chunk.frame, text_column), chunk.problems, options)
            yield chunk.frame, scores, chunk.position
        return
    chunks = chain(ahead, chunks)
    model = _model_ref(scorer)
    with _worker_pool(scorer, options.workers) as pool:
        pending: deque[tuple[Future, pd.DataFrame, int]] = deque()
        for chunk in chunks:
            texts = ad_texts(chunk.frame, text_column)
            pending.append(
                (pool.submit(_score_in_worker, model, texts, chunk.problems, options), chunk.frame, chunk.position)
            )
            if len(pending) >= 2 * options.workers:  # memory stays bounded however big the file
                future, frame, position = pending.popleft()
                yield frame, future.result(), position
        while pending:
            future, frame, position = pending.popleft()
            yield frame, future.result(), position


# --- The Dask engine. ---

PROBLEM_COLUMN = "__adscreen_problem__"  # carries a row's parse problem from reading to scoring


def read_partition(source: str, layout: TableLayout, part: Part, raw_column: str) -> pd.DataFrame:
    """One part of the input as a Dask partition, its parse problems in a column of their own."""
    chunk = read_part(Path(source), layout, part, raw_column)
    return chunk.frame.assign(**{PROBLEM_COLUMN: pd.Series(chunk.problems, index=chunk.frame.index, dtype=object)})


def score_partition(
    frame: pd.DataFrame, model: tuple[str, str | None], text_column: str | None, options: BatchOptions
) -> pd.DataFrame:
    """One Dask partition with its scores: the same chunk scoring as the local engine."""
    problems = frame[PROBLEM_COLUMN].tolist()
    frame = frame.drop(columns=[PROBLEM_COLUMN]).reset_index(drop=True)
    scorer = _worker_scorer(*model, options.max_chars)
    return with_scores(frame, score_chunk(scorer, ad_texts(frame, text_column), problems, options))


def _dask_chunks(
    source: Path,
    layout: TableLayout,
    text_column: str | None,
    scorer: Scorer,
    options: BatchOptions,
    scheduler: str | None,
) -> Iterator[ScoredChunk]:
    """The input read as a Dask dataframe (cut at record boundaries) and scored with ``map_partitions``.

    Partitions come back in order, at most two per worker ahead of the writer, on a local
    cluster unless ``scheduler`` names one (whose workers must see the same files).
    """
    try:
        import dask
        import dask.dataframe as dd
        from dask import delayed
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise AdscreenError("the Dask engine needs the dask extra: pip install 'adscreen[dask]'") from None
    if compressed(source) and layout.kind != "parquet":
        plan_parts(source, layout, options.chunk_size)  # raises the clear error
    raw_column = text_column or "description"
    empty = empty_frame(layout).assign(**{PROBLEM_COLUMN: pd.Series([], dtype=object)})
    parts = plan_parts(source, layout, options.chunk_size)
    # progress after each part: bytes up to the next part's start, or rows so far for Parquet
    ends = [part.start for part in parts[1:]] + [layout.size]
    if layout.kind == "parquet":
        ends = list(accumulate(part.rows for part in parts))
    # Cells stay Python objects, as in the local engine: Arrow strings would refuse bytes that are not UTF-8.
    with dask.config.set({"dataframe.convert-string": False}):
        reads = [delayed(read_partition)(str(source), layout, part, raw_column) for part in parts]
        frames = dd.from_delayed(reads, meta=empty, verify_meta=False)
        meta = score_partition(empty, _model_ref(scorer), text_column, options)
        scored = frames.map_partitions(score_partition, _model_ref(scorer), text_column, options, meta=meta)
    cluster = None
    try:
        if scheduler is None:
            workers = max(options.workers, 1)
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster if cluster is not None else scheduler)
    except OSError as error:
        raise AdscreenError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        window = 2 * max(len(client.scheduler_info().get("workers", {})), 1)
        pending: deque[tuple[Future, int]] = deque()
        for partition, end in zip(scored.to_delayed(), ends, strict=True):
            pending.append((client.compute(partition), end))
            if len(pending) >= window:
                yield _split(*pending.popleft())
        while pending:
            yield _split(*pending.popleft())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _split(future: Future, position: int) -> ScoredChunk:
    scored = future.result()
    names = [name for name in scored.columns if name in RESULT_COLUMNS or name == EXPLANATION_COLUMN]
    return scored.drop(columns=names), scored[names], position
