"""The HTTP API and the web form: ``create_app(settings)`` builds thin routes over one shared ``Scorer``.

Errors are mapped once, here, by ``errors.http_status``: an ``InputTooLarge`` is 413, a
``ScoringUnavailable`` 503, any other ``AdscreenError`` or invalid request 422, each with
a message a person can act on. Scoring a typical ad
takes a few milliseconds. ``adscreen serve`` scores single ads (``POST /v1/score`` and
the web form) in a pool of scoring processes, first come first served (see
``scoring_pool``); an app without a pool scores short ads on the event loop and longer
ones in the thread pool (see ``scorer_source.Serving``). The other routes are plain
``def`` routes (FastAPI's thread pool). Ad texts are never logged. A server started from the
registry follows its current model (see ``scorer_source``); corrections sent to
``/v1/feedback`` go to the feedback store.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adscreen import __version__, load_model
from adscreen.batch import BatchOptions
from adscreen.batch import score_file as score_table
from adscreen.config import Settings
from adscreen.deps import FeedbackDep, ScorerDep, ScorerSourceDep, ServingDep, SettingsDep
from adscreen.errors import AdscreenError, InputError, InputTooLarge, http_status
from adscreen.feedback import FeedbackStore
from adscreen.language import warm_up
from adscreen.schemas import AdIn, BatchIn, BatchOut, ErrorOut, FeedbackIn, FeedbackOut, HealthOut, ResultOut
from adscreen.scorer_source import ScorerSource
from adscreen.scoring import Scorer, check_text
from adscreen.tables import table_format
from adscreen.webform import router as web_router
from adscreen.webform import static

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# The interactive docs page loads its script and styles inline; it shows no ad text.
DOCS_CSP = (
    "default-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com"
)
ERRORS = {
    413: {"model": ErrorOut, "description": "Over a size limit"},
    422: {"model": ErrorOut, "description": "Invalid input"},
    503: {"model": ErrorOut, "description": "A scoring process stopped; try again"},
}


health_router = APIRouter(tags=["service"])
score_router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERRORS)


@health_router.get("/healthz", response_model=HealthOut, response_model_exclude_none=True)
def healthz(scorer: ScorerDep, source: ScorerSourceDep) -> dict:
    """Liveness, which model is serving, and why a newly promoted model was refused (if it was)."""
    return {"status": "ok", "model": scorer.model_info, "reload_error": source.error}


@score_router.get("/model")
def model_metadata(scorer: ScorerDep) -> dict:
    """The loaded model's metadata: version, training date, metrics, data summary, threshold and bands."""
    return scorer.loaded.metadata


@score_router.post("/score", response_model=ResultOut)
async def score_ad(ad: AdIn, serving: ServingDep, settings: SettingsDep) -> Response:
    """Score one ad: risk, band, red flags, the model's evidence and where to get help."""
    text = check_text(ad.text, settings.max_ad_chars)
    body = await serving.score_json(text, ad.country or settings.default_country, ad.language)
    return Response(body, media_type="application/json")


@score_router.post("/score/batch", response_model=BatchOut)
def score_batch(batch: BatchIn, scorer: ScorerDep, settings: SettingsDep) -> dict:
    """Score many ads, in order; an item that cannot be scored gets ``error`` and the rest go on."""
    if len(batch.items) > settings.max_batch_items:
        raise InputTooLarge(f"the batch has {len(batch.items)} items; the limit is {settings.max_batch_items}")
    results = []
    for item in batch.items:
        try:
            text = check_text(item.text, settings.max_ad_chars)
            result = scorer.score(text, country=item.country or settings.default_country)
            results.append({"id": item.id, "error": None, **result})
        except AdscreenError as error:
            results.append({"id": item.id, "error": str(error)})
    return {"results": results}


MEDIA_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}


@score_router.post(
    "/score/file",
    response_class=FileResponse,
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "The scored file"}},
)
def score_file_upload(
    file: Annotated[
        UploadFile, File(description="CSV, JSONL or Parquet (.csv.gz, .jsonl.gz too); the name gives the format.")
    ],
    scorer: ScorerDep,
    settings: SettingsDep,
    text_column: Annotated[str | None, Query(max_length=200, description="Column with the ad text")] = None,
    id_column: Annotated[str | None, Query(max_length=200, description="Column that names rows")] = None,
) -> FileResponse:
    """Score every row of an uploaded file, as ``adscreen score-file`` does; the answer is the file in the same format.

    Every row comes back, in order, with risk, band, label, red_flags and error; the counts are in
    the ``X-Adscreen-Rows``, ``-Scored`` and ``-Errors`` headers.
    """
    name = Path(file.filename or "").name
    if not name:
        raise InputError("the upload has no file name; its extension (.csv, .jsonl, .parquet) gives the format")
    kind = table_format(Path(name))
    folder = Path(tempfile.mkdtemp(prefix="adscreen-upload-"))
    try:
        source, target = folder / name, folder / f"scored-{name}"
        with source.open("wb") as stream:
            shutil.copyfileobj(file.file, stream)
        if source.stat().st_size > settings.max_upload_bytes:
            raise InputTooLarge(f"the file has {source.stat().st_size} bytes; the limit is {settings.max_upload_bytes}")
        options = BatchOptions(text_column=text_column, id_column=id_column, max_chars=settings.max_ad_chars)
        summary = score_table(source, target, scorer, options)
    except AdscreenError as error:  # name the upload as the person named it, not our temporary copy
        shutil.rmtree(folder, ignore_errors=True)
        message = str(error).replace(f"{folder}/", "").replace("--text-column", "text_column")
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


feedback_router = APIRouter(prefix="/v1", tags=["feedback"], responses=ERRORS)


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
    """
    if correction.model_name is None:
        correction = correction.model_copy(
            update={"model_name": scorer.loaded.name, "model_version": scorer.loaded.version}
        )
    row_id, status = store.add(correction, source="api")
    if status != "created":
        response.status_code = 200
    return {"id": row_id, "status": status}


class LimitsAndHeaders:
    """Refuses bodies over the upload limit and adds the security headers to every response.

    A plain ASGI middleware: ``@app.middleware("http")`` would cost a task and two
    memory streams per request, about as much as the HTTP handling of a score.
    """

    def __init__(self, app: ASGIApp, max_upload_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in ("/docs", "/redoc")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for header, value in SECURITY_HEADERS.items():
                    headers.setdefault(header, value)
                if docs:
                    headers["Content-Security-Policy"] = DOCS_CSP
            await send(message)

        length = Headers(scope=scope).get("content-length")
        if length and length.isdigit() and int(length) > self.max_upload_bytes:
            detail = f"the request body has {length} bytes; the limit is {self.max_upload_bytes}"
            await JSONResponse({"detail": detail}, 413)(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors()[:5]:
        where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
        parts.append(f"{where or 'body'}: {problem.get('msg', 'invalid').removeprefix('Value error, ')}")
    return "; ".join(parts) or "invalid request"


def _scorer_source(settings: Settings) -> ScorerSource:
    """The model to serve (a fixed folder, else the registry's current one) and its scoring processes."""
    if settings.model_path:
        scorer = load_model(settings.model_path, settings.models_dir, settings.max_ad_chars)
        return ScorerSource(scorer, processes=settings.workers)
    return ScorerSource.from_registry(settings.models_dir, settings.max_ad_chars, processes=settings.workers)


def create_app(settings: Settings | None = None, scorer: Scorer | None = None) -> FastAPI:
    """The application; the model is loaded once at start-up (or passed in, for tests)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if scorer is None:
            app.state.scorer_source = await run_in_threadpool(_scorer_source, settings)
            await run_in_threadpool(warm_up)  # a served app answers its first person as fast as the rest
        source: ScorerSource = app.state.scorer_source
        watcher = None
        if source.reloads and settings.reload_interval > 0:
            watcher = asyncio.create_task(source.watch(settings.reload_interval))
        yield
        if watcher is not None:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher
        await source.close()

    app = FastAPI(
        title="adscreen",
        summary="Scores job ads for the risk that they are scams or human-trafficking lures, explains why, and says where to get help.",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.feedback_store = FeedbackStore(settings.feedback_db, settings.max_ad_chars)
    if scorer is not None:
        app.state.scorer_source = ScorerSource(scorer)

    app.add_middleware(LimitsAndHeaders, max_upload_bytes=settings.max_upload_bytes)

    @app.exception_handler(AdscreenError)
    async def refused(request: Request, error: AdscreenError) -> JSONResponse:
        status = http_status(error)
        return JSONResponse({"detail": str(error)}, status, headers={"Retry-After": "5"} if status == 503 else None)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # an unparsable body is malformed input like any other
            return JSONResponse({"detail": f"the request body cannot be parsed: {error.detail}"}, 422)
        return JSONResponse({"detail": error.detail}, error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(error)}, 422)

    app.include_router(health_router)
    app.include_router(score_router)
    app.include_router(feedback_router)
    app.include_router(web_router)
    app.mount("/static", static, name="static")
    return app
