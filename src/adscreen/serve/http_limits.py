"""HTTP limits and headers of the served app: bodies refused as they arrive, JSON bodies with more values than
any valid request refused before parsing, security headers on every response, and the server's limits in its
OpenAPI schema. Used by ``serve.app.create_app``; nothing here scores.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adscreen.config import Settings

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
# A JSON string, or a comma outside one (possessive: no backtracking on a long string).
_STRING_OR_COMMA = re.compile(rb'"(?:[^"\\]++|\\.)*+"|,')
VALUES_PER_ITEM = 3  # a batch item has at most three members: a comma between them, one after it


class BoundedJsonRoute(APIRoute):
    """A route whose JSON body is refused (413) before it is parsed when it holds more values than any
    valid request: 50 MB of ``{"text":"a"},`` is four million items, which json and pydantic would
    turn into gigabytes (and seconds of a blocked event loop) only to say the limit is 1000."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            if request.headers.get("content-type", "").startswith("application/json"):
                items = request.app.state.settings.max_batch_items
                _check_values(await request.body(), VALUES_PER_ITEM * items + 16, items)
            return await handle(request)  # the same Request: FastAPI reads the body it has kept

        return bounded


def _check_values(body: bytes, limit: int, items: int) -> None:
    commas = 0
    for match in _STRING_OR_COMMA.finditer(body):
        if match.group() == b",":
            commas += 1
            if commas > limit:
                raise HTTPException(413, f"the request has too many values; a batch may have at most {items} items")


class LimitsAndHeaders:
    """Refuses bodies over the size limit as they arrive and adds the security headers to every response.

    The limit (``ADSCREEN_MAX_UPLOAD_BYTES``; for a file upload, that plus room for the form
    around the file, whose own bytes the route counts) is checked against Content-Length when there is one, and against the bytes
    received so far otherwise (chunked bodies too), so a body over it is refused with 413
    after at most ``max_body_bytes`` have been read, never spooled to disk whole.
    A plain ASGI middleware: ``@app.middleware("http")`` would cost a task and two
    memory streams per request, about as much as the HTTP handling of a score.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, upload_paths: dict[str, int]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.upload_paths = upload_paths  # routes that take a file, with their own body limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in ("/docs", "/redoc")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for header, value in SECURITY_HEADERS.items():
                    headers.setdefault(header, value)
                if docs:
                    headers["Content-Security-Policy"] = DOCS_CSP
            await send(message)

        limit = self.upload_paths.get(scope["path"], self.max_body_bytes)
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"the request body is larger than {limit} bytes, the limit")
            return message

        length = Headers(scope=scope).get("content-length")
        if length and length.isdigit() and int(length) > limit:
            detail = f"the request body has {length} bytes; the limit is {limit}"
            await JSONResponse({"detail": detail}, 413)(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, counted_receive, send_with_headers)
        except HTTPException as error:  # raised by counted_receive where no handler caught it
            if started or error.status_code != 413:
                raise
            await JSONResponse({"detail": error.detail}, 413)(scope, receive, send_with_headers)


# Some character Python does not strip (JSON Schema's \s lacks the separators \x1c-\x1f and \x85):
# a text without one is "empty" to the server, so the schema calls it invalid too.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"


def openapi_with_limits(app: FastAPI, settings: Settings) -> dict:
    """The OpenAPI schema with this server's limits in it (maxLength of ad texts, maxItems of a batch),
    so a client or a fuzzer generating from the schema sends what the server accepts."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes, description=app.description
        )
        models = schema.get("components", {}).get("schemas", {})
        for name in ("AdIn", "BatchItemIn", "FeedbackIn"):
            text = models.get(name, {}).get("properties", {}).get("text")
            if text is not None:
                text.update(minLength=1, maxLength=settings.max_ad_chars, pattern=NOT_BLANK)
        items = models.get("BatchIn", {}).get("properties", {}).get("items")
        if items is not None:
            items["maxItems"] = settings.max_batch_items
        app.openapi_schema = schema
    return app.openapi_schema
