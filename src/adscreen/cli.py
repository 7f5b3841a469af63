"""The ``adscreen`` command: a thin layer over the library.

Every AdscreenError becomes one readable line on stderr and exit code 2; anything
unexpected becomes one line and exit code 1 (``ADSCREEN_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from adscreen import load_model
from adscreen.config import Settings
from adscreen.errors import AdscreenError
from adscreen.model import REGULARISATION_C
from adscreen.registry import Registry
from adscreen.render import render_result

app = typer.Typer(
    name="adscreen",
    help="Score job ads for the risk that they are scams or human-trafficking lures, explain why, and say where to get help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="The model registry: list, promote, roll back.", no_args_is_help=True)
app.add_typer(models_app, name="models")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., object])


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def handles_errors(command: F) -> F:
    """Turn errors into one line and the contract's exit codes."""

    @wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return command(*args, **kwargs)
        except AdscreenError as error:
            raise fail(str(error)) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            if os.environ.get("ADSCREEN_DEBUG"):
                raise
            raise fail(
                f"unexpected {type(error).__name__}: {error} (set ADSCREEN_DEBUG=1 for the traceback)", 1
            ) from None

    return wrapper  # type: ignore[return-value]


ModelOption = Annotated[
    Path | None, typer.Option("--model", "-m", help="Model folder (default: the registry's current model).")
]
CountryOption = Annotated[
    str | None, typer.Option("--country", "-c", help="Your country (ISO code such as BY, UA, PL) for hotlines.")
]


def _read_ad(text: str) -> str:
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise AdscreenError("standard input is not UTF-8 text (is it a binary file?)") from None


@app.command()
@handles_errors
def score(
    text: Annotated[str, typer.Argument(help="The ad text, or - to read it from standard input.")],
    country: CountryOption = None,
    model: ModelOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON result instead of the readable summary.")
    ] = False,
    language: Annotated[
        str | None, typer.Option("--lang", help="Language of the explanations (en, ru, be, uk, pl).")
    ] = None,
) -> None:
    """Score one ad.

    Example: adscreen score "Девушки 18-25, работа хостес в Дубае, билеты оплачиваем, пиши в Telegram" --country BY
    """
    settings = Settings()
    ad = _read_ad(text)
    scorer = load_model(model or settings.model_path, settings.models_dir)
    result = scorer.score(ad, country=country or settings.default_country, ui_language=language)
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
    else:
        render_result(out, ad, result)


@app.command()
@handles_errors
def train(
    data: Annotated[list[Path], typer.Argument(help="Labelled files: text+label columns, or the EMSCAD schema.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model folder to write, e.g. models/my-model.")],
    promote: Annotated[bool, typer.Option("--promote", help="Register the model and make it current.")] = False,
    c: Annotated[
        float, typer.Option("--C", help="Inverse regularisation strength of the logistic regression.")
    ] = REGULARISATION_C,
) -> None:
    """Train a model from labelled ads and write it with its metadata.

    Example: adscreen train data/ads/*.jsonl ../shared/data/emscad_train.csv -o models/my-model
    """
    from adscreen.training import train_to_folder

    metadata = train_to_folder(data, output, c=c, say=lambda line: err.print(escape(line)))
    test = metadata["metrics"]["test"]
    out.print(f"wrote {output} (threshold {metadata['threshold']}, bands {metadata['bands']})")
    for section in ("overall", "sample_ads", "emscad_real_rate"):
        if section in test:
            m = test[section]
            out.print(
                f"test {section:17} PR-AUC {m['pr_auc']}  F1 {m['f1']}  precision {m['precision']}  recall {m['recall']}"
            )
    for language, m in metadata["metrics"]["test"]["per_language"].items():
        out.print(f"test language {language:8} PR-AUC {m['pr_auc']}  F1 {m['f1']}")
    if promote:
        registry = Registry(output.parent)
        registry.promote(output.name)
        out.print(f"promoted {output.name} to current in {registry.path}")


@app.command()
@handles_errors
def evaluate(
    model: Annotated[Path, typer.Argument(help="Model folder.")],
    data: Annotated[list[Path], typer.Argument(help="Labelled files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Metrics of a model on labelled data, at the model's own threshold.

    Example: adscreen evaluate models/adscreen-v1 held_out.csv --json
    """
    from adscreen.training import evaluate as evaluate_model

    scorer = load_model(model, Settings().models_dir)
    report = evaluate_model(scorer.loaded, data)
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    out.print(f"model {report['model']['name']} ({report['model']['version']}), threshold {report['threshold']}")
    for section, m in report["metrics"].items():
        if section == "per_language":
            for language, lm in m.items():
                out.print(f"  language {language:6} n={lm['n']:5}  PR-AUC {lm['pr_auc']}  F1 {lm['f1']}")
        else:
            out.print(
                f"  {section:18} n={m['n']:5}  PR-AUC {m['pr_auc']}  ROC-AUC {m['roc_auc']}  F1 {m['f1']}  P {m['precision']}  R {m['recall']}"
            )


@models_app.command("list")
@handles_errors
def models_list() -> None:
    """List registered models; the current one is marked with *."""
    registry = Registry(Settings().models_dir).read()
    for name, entry in registry["models"].items():
        marker = "*" if name == registry.get("current") else " "
        out.print(
            f"{marker} {name:30} {entry.get('version')}  trained {entry.get('trained_at')}  sha256 {entry['sha256'][:12]}"
        )


@models_app.command("promote")
@handles_errors
def models_promote(name: Annotated[str, typer.Argument(help="Model folder name under the models folder.")]) -> None:
    """Make a model current (it is verified first)."""
    registry = Registry(Settings().models_dir)
    registry.promote(name)
    out.print(f"current model: {name}")


@models_app.command("rollback")
@handles_errors
def models_rollback() -> None:
    """Make the previously current model current again."""
    registry = Registry(Settings().models_dir).rollback()
    out.print(f"current model: {registry['current']}")


class LogLevel(StrEnum):
    """Levels uvicorn accepts."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


@app.command()
@handles_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes; scoring is CPU-bound, so one per core.")] = 1,
    log_level: Annotated[LogLevel, typer.Option(help="Server log level.")] = LogLevel.info,
    access_log: Annotated[
        bool, typer.Option(help="Log one line per request (method, path, status; never the ad).")
    ] = True,
) -> None:
    """Serve the API and the web form.

    Example: adscreen serve --port 8000, then open http://127.0.0.1:8000/
    """
    import uvicorn

    from adscreen.api import create_app

    settings = Settings()
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    err.print(f"adscreen serving on http://{settings.host}:{settings.port}/ (API docs at /docs)")
    # uvicorn picks uvloop and httptools, installed with adscreen, where the platform has them.
    options = {"host": settings.host, "port": settings.port, "log_level": log_level.value, "access_log": access_log}
    if workers > 1:  # each worker process builds its own app (and loads the model) from ADSCREEN_* settings
        uvicorn.run("adscreen.api:create_app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)


if __name__ == "__main__":
    app()
