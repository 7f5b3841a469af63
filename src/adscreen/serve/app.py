"""The HTTP API and the web form: ``create_app(settings)`` builds thin routes over one shared ``Scorer``.

Errors are mapped once, by ``errors.http_status``: 413 over a size limit, 429 over a rate,
422 for other bad input, 5xx for the server's own faults (503 when it cannot score or store
now), each with a message a person can act on and, for a 5xx, no server path
(``errors.public_message``). ``adscreen serve`` scores single ads, the items of a batch and
the chunks of an uploaded file in a pool of scoring processes (see ``serve.pool``), each
within its time budget, so the event loop is never held by scoring; an app without a pool
(tests, ``--workers 0``) scores in this process. Bodies, JSON values and headers are bounded
in ``http_limits``. Every data file is loaded when the app is created, so a broken one stops
the server from starting rather than failing requests. Ad texts are never logged. A server
started from the registry follows its current model (see ``serve.reload``); corrections sent
to ``/v1/feedback`` go to the feedback store, within the limits of ``deps.admit_feedback``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import orjson
from fastapi import APIRouter, Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from adscreen import __version__, load_model
from adscreen.config import Settings
from adscreen.errors import (
    AdscreenError,
    InputError,
    InputTooLarge,
    NoTextColumn,
    ScoringTimeout,
    ScoringUnavailable,
    TooManyRequests,
    http_status,
    public_message,
)
from adscreen.paths import DATA_DIR
from adscreen.rules.contacts import default_finder, load_contact_rules
from adscreen.rules.guidance import load_guide
from adscreen.rules.indicators import default_indicators, load_indicators
from adscreen.rules.redflags import default_flag_texts, default_shown_patterns, load_flags
from adscreen.scoring import Scorer, check_text
from adscreen.serve.deps import FeedbackDep, ScorerDep, ScorerSourceDep, ServingDep, SettingsDep, admit_feedback
from adscreen.serve.http_limits import BoundedJsonRoute, LimitsAndHeaders, openapi_with_limits
from adscreen.serve.pool import ScoringPool
from adscreen.serve.rate_limit import RateLimiter
from adscreen.serve.reload import ScorerSource
from adscreen.serve.schemas import (
    AdIn,
    BatchIn,
    BatchItemIn,
    BatchOut,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    HealthOut,
    ResultOut,
)
from adscreen.serve.webform import router as web_router
from adscreen.serve.webform import static
from adscreen.tables.formats import table_format
from adscreen.training.feedback import FeedbackStore
from adscreen.ui import load_ui_strings, ui_strings

if TYPE_CHECKING:
    import pandas as pd

    from adscreen.batch.chunk import BatchOptions
    from adscreen.batch.files import ChunkScorer

ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": "Over a size limit"},
    422: {"model": ErrorOut, "description": "Invalid input"},
    500: {"model": ErrorOut, "description": "The server is misconfigured or failed"},
    503: {
        "model": ErrorOut,
        "description": "The server cannot score now, or scoring went over its time budget; try again",
    },
}
log = logging.getLogger("adscreen.serve.app")


health_router = APIRouter(tags=["service"])
score_router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERRORS, route_class=BoundedJsonRoute)
# Room for the multipart form around an uploaded file (boundaries, headers, the two query-like fields):
# the upload limit counts the file's own bytes, so a body may exceed it by this much.
FORM_OVERHEAD_BYTES = 64 * 1024


@health_router.get(
    "/healthz",
    response_model=HealthOut,
    response_model_exclude_none=True,
    responses={503: {"model": HealthOut, "description": "Degraded: the server cannot score now (see reason)"}},
)
async def healthz(
    scorer: ScorerDep, source: ScorerSourceDep, store: FeedbackDep, settings: SettingsDep, response: Response
) -> dict:
    """Liveness, which model is serving, and why a newly promoted model was refused (if it was).

    503 with ``status: degraded`` and a ``reason`` while no scoring process can take an ad;
    ``feedback`` says whether corrections can be stored (``ok``, ``off`` or why not).
    """
    reason = source.health()
    if reason is not None:
        response.status_code = 503
    feedback = "off" if not settings.feedback else (store.problem() or "ok")
    return {
        "status": "ok" if reason is None else "degraded",
        "reason": reason,
        "model": scorer.model_info,
        "reload_error": source.error,
        "feedback": feedback,
    }


@score_router.get("/model")
async def model_metadata(scorer: ScorerDep) -> dict:
    """The loaded model's metadata: version, training date, metrics, data summary, threshold and bands."""
    return scorer.loaded.metadata


@score_router.post("/score", response_model=ResultOut)
async def score_ad(ad: AdIn, serving: ServingDep, settings: SettingsDep) -> Response:
    """Score one ad: risk, band, red flags, the model's evidence and where to get help."""
    text = check_text(ad.text, settings.max_ad_chars)
    body = await serving.score_json(text, ad.country or settings.default_country, ad.language, settings.score_seconds)
    return Response(body, media_type="application/json")


def _score_items_here(items: list[BatchItemIn], scorer: Scorer, settings: Settings) -> list[dict]:
    """A batch scored in this process (an app without scoring processes): one item at a time."""
    results = []
    for item in items:
        try:
            text = check_text(item.text, settings.max_ad_chars)
            result = scorer.score(text, country=item.country or settings.default_country)
            results.append({"id": item.id, "error": None, **result})
        except AdscreenError as error:
            results.append({"id": item.id, "error": str(error)})
    return results


async def _score_items_in_pool(items: list[BatchItemIn], pool: ScoringPool, settings: Settings) -> list[dict]:
    """A batch's items in the scoring processes, behind any single ads, within the request's budget.

    An item over its own budget (``score_seconds``) or one whose process died gets ``error``
    and the rest go on; past the whole batch's budget (``request_seconds``) the answer is 503.
    """
    deadline = time.monotonic() + settings.request_seconds

    async def one(item: BatchItemIn) -> dict:
        text = check_text(item.text, settings.max_ad_chars)
        country = item.country or settings.default_country
        remaining = deadline - time.monotonic()
        body = await pool.score_json(text, country, None, remaining, bulk=True, run_seconds=settings.score_seconds)
        return orjson.loads(body)

    answers = await asyncio.gather(*(one(item) for item in items), return_exceptions=True)
    results = []
    for item, answer in zip(items, answers, strict=True):
        if isinstance(answer, ScoringUnavailable) and time.monotonic() >= deadline:
            raise ScoringTimeout(
                f"the batch took longer than this server allows ({settings.request_seconds:g} s); "
                "send fewer or shorter ads at a time"
            )
        if isinstance(answer, ScoringUnavailable) and pool.health() is not None:
            raise answer
        if isinstance(answer, AdscreenError):
            results.append({"id": item.id, "error": str(answer)})
        elif isinstance(answer, BaseException):
            raise answer
        else:
            results.append({"id": item.id, "error": None, **answer})
    return results


@score_router.post("/score/batch", response_model=BatchOut)
async def score_batch(batch: BatchIn, serving: ServingDep, settings: SettingsDep) -> dict:
    """Score many ads, in order; an item that cannot be scored gets ``error`` and the rest go on."""
    if len(batch.items) > settings.max_batch_items:
        raise InputTooLarge(f"the batch has {len(batch.items)} items; the limit is {settings.max_batch_items}")
    if serving.pool is None:
        return {"results": await run_in_threadpool(_score_items_here, batch.items, serving.scorer, settings)}
    return {"results": await _score_items_in_pool(batch.items, serving.pool, settings)}


MEDIA_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}


def _pool_chunk_scorer(pool: ScoringPool, options: BatchOptions, settings: Settings) -> ChunkScorer:
    """Scores a file's chunks in the scoring processes, all within the request's budget; called from the
    thread that reads and writes the file, while the event loop goes on serving."""
    from adscreen.batch.chunk import chunk_columns, chunk_errors
    from adscreen.batch.files import result_frame

    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + settings.request_seconds
    over_budget = ScoringTimeout(
        f"the file took longer to score than this server allows ({settings.request_seconds:g} s); "
        "send a smaller file, or use adscreen score-file"
    )

    def score(texts: list[object], problems: list[str | None]) -> pd.DataFrame:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise over_budget
        # Every cell is judged here, once; one that is not text is sent as None, so the scoring processes see only
        # str and None and never need pandas to read a table's missing value (see ``pool._serve``).
        errors = chunk_errors(texts, problems, options.max_chars)
        sent = [text if error is None else None for text, error in zip(texts, errors, strict=True)]
        job = pool.score_bulk(chunk_columns, (sent, errors, options), remaining)
        try:
            return result_frame(cast(dict[str, list], asyncio.run_coroutine_threadsafe(job, loop).result()))
        except ScoringTimeout:
            raise over_budget from None

    return score


def _save_upload(upload: UploadFile, target: Path, limit: int) -> None:
    """Copy the spooled upload to ``target``, counting: a file over ``limit`` bytes is refused as it is copied."""
    copied = 0
    with target.open("wb") as stream:
        while block := upload.file.read(1 << 20):
            copied += len(block)
            if copied > limit:
                raise InputTooLarge(f"the file has more than {limit} bytes; the limit is {limit}")
            stream.write(block)


@score_router.post(
    "/score/file",
    response_class=FileResponse,
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "The scored file"}},
)
async def score_file_upload(
    file: Annotated[
        UploadFile, File(description="CSV, JSONL or Parquet (.csv.gz, .jsonl.gz too); the name gives the format.")
    ],
    serving: ServingDep,
    settings: SettingsDep,
    text_column: Annotated[str | None, Query(max_length=200, description="Column with the ad text")] = None,
    id_column: Annotated[str | None, Query(max_length=200, description="Column that names rows")] = None,
) -> FileResponse:
    """Score every row of an uploaded file, as ``adscreen score-file`` does; the answer is the file in the same format.

    Every row comes back, in order, with risk, band, label, red_flags and error; the counts are in
    the ``X-Adscreen-Rows``, ``-Scored`` and ``-Errors`` headers. The file is read within the
    server's limits (upload bytes, unpacked bytes, line, cell and Parquet row-group sizes: 413
    over one) and scored in the scoring processes within ``ADSCREEN_REQUEST_SECONDS`` (503 over it).
    """
    # Here, not at the top: reading tables needs pandas and pyarrow, which single ads never do.
    from adscreen.batch.chunk import BatchOptions
    from adscreen.batch.files import score_file as score_table
    from adscreen.tables.stream import ReaderLimits

    name = Path(file.filename or "").name
    if not name:
        raise InputError("the upload has no file name; its extension (.csv, .jsonl, .parquet) gives the format")
    kind = table_format(Path(name))
    if file.size is not None and file.size > settings.max_upload_bytes:
        raise InputTooLarge(f"the file has {file.size} bytes; the limit is {settings.max_upload_bytes}")
    folder = Path(tempfile.mkdtemp(prefix="adscreen-upload-"))
    try:
        source, target = folder / name, folder / f"scored-{name}"
        await run_in_threadpool(_save_upload, file, source, settings.max_upload_bytes)
        options = BatchOptions(text_column=text_column, id_column=id_column, max_chars=settings.max_ad_chars)
        limits = ReaderLimits.of(settings, uploaded=True)
        chunk_scorer = None if serving.pool is None else _pool_chunk_scorer(serving.pool, options, settings)
        summary = await run_in_threadpool(
            score_table, source, target, serving.scorer, options, limits=limits, chunk_scorer=chunk_scorer
        )
    except AdscreenError as error:  # name the upload as the person named it, not our temporary copy
        shutil.rmtree(folder, ignore_errors=True)
        message = str(error).replace(f"{folder}/", "")
        if isinstance(error, NoTextColumn):
            message += ", with the text_column form field"
        raise type(error)(message) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        target,
        media_type=MEDIA_TYPES[kind],
        filename=target.name,
        headers={
            "X-Adscreen-Rows": str(summary.rows),
            "X-Adscreen-Scored": str(summary.scored),
            "X-Adscreen-Errors": str(summary.errors),
        },
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


async def _admit_feedback(request: Request) -> None:
    admit_feedback(request)


feedback_router = APIRouter(
    prefix="/v1",
    tags=["feedback"],
    route_class=BoundedJsonRoute,
    dependencies=[Depends(_admit_feedback)],
    responses={
        **ERRORS,
        404: {"model": ErrorOut, "description": "This server takes no corrections (ADSCREEN_FEEDBACK=off)"},
        429: {"model": ErrorOut, "description": "Too many corrections from this address; see Retry-After"},
        507: {"model": ErrorOut, "description": "The corrections database is full"},
    },
)


@feedback_router.post(
    "/feedback",
    response_model=FeedbackOut,
    status_code=201,
    responses={200: {"model": FeedbackOut, "description": "The ad was stored already: counted, or relabelled"}},
)
def send_feedback(correction: FeedbackIn, store: FeedbackDep, scorer: ScorerDep, response: Response) -> dict:
    """Store an analyst's correction of a wrong result, for the next ``adscreen train --feedback``.

    201 with the new row's id; 200 when the same ad (after normalising case and whitespace) was stored
    already. Without ``model_name`` the correction is recorded against the model serving now.
    Each address may send ``ADSCREEN_FEEDBACK_PER_MINUTE`` corrections a minute (429 beyond).
    """
    if correction.model_name is None:
        correction = correction.model_copy(
            update={"model_name": scorer.loaded.name, "model_version": scorer.loaded.version}
        )
    row_id, status = store.add(correction, source="api")
    if status != "created":
        response.status_code = 200
    return {"id": row_id, "status": status}


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors()[:5]:
        where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
        parts.append(f"{where or 'body'}: {problem.get('msg', 'invalid').removeprefix('Value error, ')}")
    return "; ".join(parts) or "invalid request"


def _scorer_source(settings: Settings) -> ScorerSource:
    """The model to serve (a fixed folder, else the registry's current one) and its scoring processes."""
    if settings.model_path:
        # With scoring processes this one keeps only the model's name and metadata (``deferred``).
        scorer = load_model(
            settings.model_path, settings.models_dir, settings.max_ad_chars, deferred=settings.workers > 0
        )
        return ScorerSource(scorer, processes=settings.workers)
    return ScorerSource.from_registry(settings.models_dir, settings.max_ad_chars, processes=settings.workers)


def load_data_files(data_dir: Path) -> None:
    """Load and validate every data file a served app reads (interface strings, hotlines, advice,
    destinations, indicators, contact rules, red flags) before serving: a broken one is a RuleConfigError naming
    the file and the problem, so ``adscreen serve`` stops with one line instead of failing requests.
    The shipped files are then held for the life of the process (each loader's cache)."""
    load_guide(data_dir)
    load_indicators(data_dir / "indicators.yaml")
    load_contact_rules(data_dir / "contacts.yaml")
    load_ui_strings(data_dir / "ui")
    load_flags(data_dir / "redflags")  # the flags' texts and shown patterns, which every result shows
    default_indicators(), default_finder(), ui_strings(), default_flag_texts(), default_shown_patterns()


def create_app(
    settings: Settings | None = None, scorer: Scorer | None = None, source: ScorerSource | None = None
) -> FastAPI:
    """The application; the model is loaded once at start-up (or passed in, for tests: a Scorer, or a
    ScorerSource with its own scoring processes). Every data file is loaded here: a broken one raises."""
    settings = settings or Settings()
    load_data_files(DATA_DIR)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if scorer is None and source is None:
            app.state.scorer_source = await run_in_threadpool(_scorer_source, settings)
            if not settings.workers:  # else the scoring processes warm up, and this one never scores
                # a served app answers its first person as fast as the rest
                await run_in_threadpool(app.state.scorer_source.serving().scorer.warm_up)
        serving: ScorerSource = app.state.scorer_source
        watcher = None
        if serving.reloads and settings.reload_interval > 0:
            watcher = asyncio.create_task(serving.watch(settings.reload_interval))
        yield
        if watcher is not None:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher
        await serving.close(settings.shutdown_seconds)

    app = FastAPI(
        title="adscreen",
        summary="Scores job ads for the risk that they are scams or human-trafficking lures, explains why, and says where to get help.",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.feedback_store = FeedbackStore(settings.feedback_db, settings.max_ad_chars, settings.feedback_max_bytes)
    app.state.feedback_limiter = RateLimiter(settings.feedback_per_minute)
    if source is not None:
        app.state.scorer_source = source
    elif scorer is not None:
        app.state.scorer_source = ScorerSource(scorer)

    app.add_middleware(
        LimitsAndHeaders,
        max_body_bytes=settings.max_upload_bytes,
        upload_paths={"/v1/score/file": settings.max_upload_bytes + FORM_OVERHEAD_BYTES},
    )

    @app.exception_handler(AdscreenError)
    async def refused(request: Request, error: AdscreenError) -> JSONResponse:
        status = http_status(error)
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, error)
        headers = None
        if status == 503:
            headers = {"Retry-After": "5"}
        elif isinstance(error, TooManyRequests):
            headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse({"detail": public_message(error)}, status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # an unparsable body is malformed input like any other
            return JSONResponse({"detail": f"the request body cannot be parsed: {error.detail}"}, 422)
        return JSONResponse({"detail": error.detail}, error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(error)}, 422)

    @app.exception_handler(Exception)
    async def server_fault(request: Request, error: Exception) -> JSONResponse:
        """Anything unforeseen: logged with its traceback, answered with a message that names nothing of the server."""
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse({"detail": "the server failed to answer this request; its operator can see why"}, 500)

    app.include_router(health_router)
    app.include_router(score_router)
    app.include_router(feedback_router)
    app.include_router(web_router)
    app.mount("/static", static, name="static")
    # FastAPI's documented way to extend the schema ("Extending OpenAPI") replaces the app's openapi method,
    # which mypy refuses for any method.
    app.openapi = lambda: openapi_with_limits(app, settings)  # type: ignore[method-assign]
    return app


def run_server(app: FastAPI, settings: Settings, log_level: str = "info", access_log: bool = True) -> None:
    """Serve ``app`` with uvicorn until SIGINT or SIGTERM; shutting down takes at most about
    ``shutdown_seconds`` for the requests in flight, then as long again for the scoring processes."""
    import uvicorn

    # uvicorn picks uvloop and httptools, installed with adscreen, where the platform has them.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=max(round(settings.shutdown_seconds), 1),
    )
