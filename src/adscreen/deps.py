"""FastAPI dependencies shared by the API routes and the web form: the scorer and the settings built at start-up.

They are ``async`` because they only read app state: FastAPI runs a plain ``def``
dependency in its thread pool, a hop that costs more than scoring a short ad.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from adscreen.config import Settings
from adscreen.scoring import Scorer


async def get_scorer(request: Request) -> Scorer:
    return request.app.state.scorer


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


ScorerDep = Annotated[Scorer, Depends(get_scorer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
