"""FastAPI dependencies shared by the API routes and the web form: the scorer, the settings and the feedback store.

``ServingDep`` asks the app's ``ScorerSource`` once per request (FastAPI caches a dependency
within a request) and ``ScorerDep`` reads the same answer, so a model reloaded meanwhile
never changes a request half-way. They are
``async`` because they only read app state: FastAPI runs a plain ``def`` dependency in its
thread pool, a hop that costs more than scoring a short ad.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from adscreen.config import Settings
from adscreen.errors import FeedbackOff
from adscreen.scoring import Scorer
from adscreen.serve.reload import ScorerSource, Serving
from adscreen.training.feedback import FeedbackStore


async def get_scorer_source(request: Request) -> ScorerSource:
    return request.app.state.scorer_source


async def get_serving(request: Request) -> Serving:
    return request.app.state.scorer_source.serving()


async def get_scorer(serving: Annotated[Serving, Depends(get_serving)]) -> Scorer:
    return serving.scorer


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_feedback_store(request: Request) -> FeedbackStore:
    return request.app.state.feedback_store


def admit_feedback(request: Request) -> None:
    """Let one correction through, or say why not: corrections turned off (FeedbackOff), or this
    client over its rate (TooManyRequests). Called before the correction is validated or stored."""
    if not request.app.state.settings.feedback:
        raise FeedbackOff("this server does not take corrections (its operator turned them off)")
    client = request.client.host if request.client is not None else "unknown"
    request.app.state.feedback_limiter.take(client, "corrections")


ServingDep = Annotated[Serving, Depends(get_serving)]
ScorerDep = Annotated[Scorer, Depends(get_scorer)]
ScorerSourceDep = Annotated[ScorerSource, Depends(get_scorer_source)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
