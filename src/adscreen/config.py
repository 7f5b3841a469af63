"""Settings from ``ADSCREEN_*`` environment variables, built at the edges (CLI, ``create_app``) and passed down,
and every named default. A leaf: it imports nothing of adscreen but ``paths``, so building settings is cheap."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from adscreen.paths import MODELS_DIR

MIB = 1024 * 1024
DEFAULT_CHUNK_SIZE = 2_000  # rows of a file scored at once: memory grows with it, not with the file
CAMPAIGN_THRESHOLD = 0.5  # how alike two ads' texts must be (estimated Jaccard) to be near-copies
# The logistic regression's C, unless train --C says otherwise. With the char block weighted 3 (features.CHAR_WEIGHT),
# chosen together on cross-validation and held-out sources (never the test split): see the model card.
REGULARISATION_C = 100.0
MAX_AD_CHARS = 20_000  # one ad: ten pages of text; longer is a document, not an ad
# An ad of fewer words is too short to judge: on a few words the model speaks its priors (a short Russian text
# reads like the short spam posts it learned from), not the ad's signs. Training warns about such rows, and
# a score of one says so beside its risk.
TOO_SHORT_WORDS = 8
DEFAULT_FEEDBACK_DB = user_data_path("adscreen", appauthor=False) / "feedback.sqlite3"
# What one table reader may hold (``tables.stream.ReaderLimits``), whatever the file says about itself.
MAX_LINE_BYTES = 8 * MIB
MAX_FIELD_CHARS = 8 * MIB
MAX_ROW_GROUP_BYTES = 512 * MIB
MAX_DECOMPRESSED_BYTES = 1024 * MIB  # for uploads; score-file reads files of any size
SCORE_SECONDS = 10.0  # one ad, waiting and scoring: a typical ad takes milliseconds
REQUEST_SECONDS = 120.0  # a whole batch or uploaded file
SHUTDOWN_SECONDS = 5.0  # after SIGTERM, for requests in flight and the scoring processes
FEEDBACK_PER_MINUTE = 30  # corrections one client may send per minute
FEEDBACK_MAX_BYTES = 200 * MIB  # the corrections database: about 10,000 corrections of 20,000 characters


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
    max_upload_bytes: int = Field(
        default=50 * MIB, gt=0, description="bytes of an uploaded file (not counting the form)"
    )
    max_decompressed_bytes: int = Field(
        default=MAX_DECOMPRESSED_BYTES, gt=0, description="bytes a .gz upload may unpack to"
    )
    max_line_bytes: int = Field(
        default=MAX_LINE_BYTES, gt=0, description="bytes of one CSV or JSONL line (uploads and score-file)"
    )
    max_field_chars: int = Field(
        default=MAX_FIELD_CHARS, gt=0, description="characters of one CSV cell (uploads and score-file)"
    )
    max_row_group_bytes: int = Field(
        default=MAX_ROW_GROUP_BYTES,
        gt=0,
        description="uncompressed bytes of one Parquet row group, read from the footer (uploads and score-file)",
    )
    score_seconds: float = Field(default=SCORE_SECONDS, gt=0, description="budget of one ad, waiting and scoring")
    request_seconds: float = Field(
        default=REQUEST_SECONDS, gt=0, description="budget of one batch or uploaded file; over it the answer is 503"
    )
    shutdown_seconds: float = Field(default=SHUTDOWN_SECONDS, ge=0, description="grace period after SIGTERM")
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
    feedback: bool = Field(default=True, description="take corrections over HTTP and the form (off: 404)")
    feedback_per_minute: int = Field(
        default=FEEDBACK_PER_MINUTE, ge=1, description="corrections one client (IP address) may send per minute"
    )
    feedback_max_bytes: int = Field(
        default=FEEDBACK_MAX_BYTES, gt=0, description="size of the corrections database over which new ones get 507"
    )


def default_workers() -> int:
    """Every core this process may use: tokenising is single-threaded Python, so processes, not threads."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
