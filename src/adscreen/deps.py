"""FastAPI dependencies shared by the API routes and the web form: the scorer and the settings built at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from adscreen.config import Settings
from adscreen.scoring import Scorer


def get_scorer(request: Request) -> Scorer:
    return request.app.state.scorer


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


ScorerDep = Annotated[Scorer, Depends(get_scorer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
