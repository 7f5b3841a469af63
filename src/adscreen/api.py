"""The HTTP API and the web form: ``create_app(settings)`` builds thin routes over one shared ``Scorer``.

Errors are mapped once, here: an ``InputTooLarge`` is 413, any other ``AdscreenError``
or invalid request is 422 with a message a person can act on. Scoring a typical ad
takes a few milliseconds, less than handing it to a thread, so ``POST /v1/score``
scores ads up to ``INLINE_MAX_CHARS`` on the event loop and longer ones in the thread
pool, where they cannot stall other requests; the other routes are plain ``def``
routes (FastAPI's thread pool). Ad texts are never logged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adscreen import __version__, load_model
from adscreen.config import Settings
from adscreen.deps import ScorerDep, SettingsDep
from adscreen.errors import AdscreenError, InputTooLarge
from adscreen.schemas import AdIn, BatchIn, BatchOut, ErrorOut, HealthOut, ResultOut
from adscreen.scoring import Scorer, check_text
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
# Longest ad scored on the event loop (about 10 ms on a busy 2-core machine); longer ones go to a thread.
INLINE_MAX_CHARS = 2_000
ERRORS = {
    413: {"model": ErrorOut, "description": "Over a size limit"},
    422: {"model": ErrorOut, "description": "Invalid input"},
}


health_router = APIRouter(tags=["service"])
score_router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERRORS)


@health_router.get("/healthz", response_model=HealthOut)
def healthz(scorer: ScorerDep) -> dict:
    """Liveness, and which model is serving."""
    return {"status": "ok", "model": scorer.model_info}


@score_router.get("/model")
def model_metadata(scorer: ScorerDep) -> dict:
    """The loaded model's metadata: version, training date, metrics, data summary, threshold and bands."""
    return scorer.loaded.metadata


@score_router.post("/score", response_model=ResultOut)
async def score_ad(ad: AdIn, scorer: ScorerDep, settings: SettingsDep) -> dict:
    """Score one ad: risk, band, red flags, the model's evidence and where to get help."""
    text = check_text(ad.text, settings.max_ad_chars)
    country = ad.country or settings.default_country
    if len(text) <= INLINE_MAX_CHARS:
        return scorer.score(text, country=country, ui_language=ad.language)
    return await run_in_threadpool(scorer.score, text, country=country, ui_language=ad.language)


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
        parts.append(f"{where or 'body'}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def create_app(settings: Settings | None = None, scorer: Scorer | None = None) -> FastAPI:
    """The application; the model is loaded once at start-up (or passed in, for tests)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.scorer = scorer or load_model(settings.model_path, settings.models_dir, settings.max_ad_chars)
        yield

    app = FastAPI(
        title="adscreen",
        summary="Scores job ads for the risk that they are scams or human-trafficking lures, explains why, and says where to get help.",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    if scorer is not None:
        app.state.scorer = scorer

    app.add_middleware(LimitsAndHeaders, max_upload_bytes=settings.max_upload_bytes)

    @app.exception_handler(InputTooLarge)
    async def too_large(request: Request, error: InputTooLarge) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 413)

    @app.exception_handler(AdscreenError)
    async def bad_input(request: Request, error: AdscreenError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 422)

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
    app.include_router(web_router)
    app.mount("/static", static, name="static")
    return app
