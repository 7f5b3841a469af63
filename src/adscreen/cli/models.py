"""``adscreen models``: the registry (list, promote, roll back, convert)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from adscreen.cli.app import (
    fail,
    handles_errors,
    models_app,
    out,
)
from adscreen.config import Settings
from adscreen.registry import Registry

if TYPE_CHECKING:
    pass


@models_app.command("list")
@handles_errors
def models_list() -> None:
    """List registered models; the current one is marked with *.

    Example: adscreen models list
    """
    registry = Registry(Settings().models_dir).read()
    for name, entry in registry["models"].items():
        marker = "*" if name == registry.get("current") else " "
        out.print(
            f"{marker} {name:30} {entry.get('version')}  trained {entry.get('trained_at')}"
            f"  sha256 {str(entry.get('sha256'))[:12]}"
        )


@models_app.command("promote")
@handles_errors
def models_promote(name: Annotated[str, typer.Argument(help="Model folder name under the models folder.")]) -> None:
    """Make a model current (it is verified first).

    Example: adscreen models promote my-model
    """
    registry = Registry(Settings().models_dir)
    registry.promote(name)
    out.print(f"current model: {name}")


@models_app.command("convert")
@handles_errors
def models_convert(
    name: Annotated[str, typer.Argument(help="Model folder name under the models folder.")],
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle",
            help="Required: you built this model yourself; converting unpickles it, which runs its code.",
        ),
    ] = False,
) -> None:
    """Rewrite a model.joblib of adscreen 0.1 as model.skops, which loads without running code.

    A pickle runs any code in it while it is read, so adscreen no longer loads one; this
    reads it once more (after checking its sha256), only for a model you trust.

    Example: adscreen models convert my-model --trust-pickle
    """
    if not trust_pickle:
        raise fail(
            f"converting unpickles {name}'s model.joblib, which runs any code in it; if you built it, add --trust-pickle"
        )
    metadata = Registry(Settings().models_dir).convert(name)
    out.print(f"converted {name}: {metadata['model_file']} sha256 {metadata['model_sha256'][:12]}")


@models_app.command("rollback")
@handles_errors
def models_rollback() -> None:
    """Make the previously current model current again.

    Example: adscreen models rollback
    """
    registry = Registry(Settings().models_dir).rollback()
    out.print(f"current model: {registry['current']}")
