"""Settings from ``ADSCREEN_*`` environment variables, built at the edges (CLI, ``create_app``) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from adscreen.feedback import DEFAULT_FEEDBACK_DB
from adscreen.paths import MODELS_DIR
from adscreen.scoring import MAX_AD_CHARS


class Settings(BaseSettings):
    """Everything an operator may configure; defaults suit one machine serving one NGO."""

    model_config = SettingsConfigDict(env_prefix="ADSCREEN_", extra="ignore")

    models_dir: Path = Field(default=MODELS_DIR, description="folder with registry.json and model folders")
    model_path: Path | None = Field(
        default=None, description="a model folder to serve instead of the registry's current one"
    )
    default_country: str | None = Field(default="BY", description="reader's country when a request names none")
    max_ad_chars: int = Field(default=MAX_AD_CHARS, gt=0)
    max_batch_items: int = Field(default=1000, gt=0)
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, gt=0, lt=65536)
    reload_interval: float = Field(
        default=2.0, ge=0, description="seconds between checks of registry.json for a newly current model; 0 = never"
    )
    workers: int = Field(
        default=0,
        ge=0,
        description="processes that score single ads beside the server process (adscreen serve: one per core); "
        "0 scores in the server process",
    )
    feedback_db: Path = Field(default=DEFAULT_FEEDBACK_DB, description="SQLite file of analysts' corrections")
