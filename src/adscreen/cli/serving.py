"""``adscreen serve``: the API and the web form."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from adscreen.cli.app import (
    app,
    err,
    handles_errors,
)
from adscreen.config import Settings, default_workers

if TYPE_CHECKING:
    pass


class LogLevel(StrEnum):
    """Levels uvicorn accepts."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


def _served_workers(settings: Settings) -> int:
    """Scoring processes when --workers is not given: ADSCREEN_WORKERS if set, else one per core."""
    return settings.workers if "workers" in settings.model_fields_set else default_workers()


@app.command()
@handles_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Processes that score ads, first come first served (default: one per core; 0: none, score in the server).",
        ),
    ] = None,
    log_level: Annotated[LogLevel, typer.Option(help="Server log level.")] = LogLevel.info,
    access_log: Annotated[
        bool, typer.Option(help="Log one line per request (method, path, status; never the ad).")
    ] = True,
) -> None:
    """Serve the API and the web form; a model promoted or rolled back meanwhile is picked up without a restart.

    One server process speaks HTTP; single ads are scored in --workers processes beside it.
    Example: adscreen serve --port 8000, then open http://127.0.0.1:8000/
    """
    from adscreen.serve.app import create_app, run_server

    settings = Settings()
    settings = settings.model_copy(
        update={
            "host": host or settings.host,
            "port": port or settings.port,
            "workers": workers if workers is not None else _served_workers(settings),
        }
    )
    app = create_app(settings)  # loads and checks every data file: a broken one stops here, with one line
    err.print(f"adscreen serving on http://{settings.host}:{settings.port}/ (API docs at /docs)")
    run_server(app, settings, log_level.value, access_log)


# --- Before and after training: validate the data, compare two models. ---
