"""adscreen: scores job ads for the risk that they are scams or trafficking lures, explains why, and says where to get help.

>>> from adscreen import score
>>> result = score("Girls 18-25 wanted for hostess work in Dubai, flights paid, write on Telegram", country="BY")
>>> result["band"], [flag["id"] for flag in result["red_flags"]][:2]
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from adscreen.config import MAX_AD_CHARS
from adscreen.errors import AdscreenError
from adscreen.paths import MODELS_DIR

if TYPE_CHECKING:
    from adscreen.scoring import Scorer

try:
    __version__ = version("adscreen")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["AdscreenError", "Scorer", "__version__", "load_model", "score"]


def __getattr__(name: str) -> object:
    """``Scorer`` on first use, so that importing a leaf (``adscreen.config``) does not load scikit-learn."""
    if name == "Scorer":
        from adscreen.scoring import Scorer

        return Scorer
    raise AttributeError(f"module 'adscreen' has no attribute {name!r}")


def load_model(
    path: str | Path | None = None,
    models_dir: str | Path = MODELS_DIR,
    max_chars: int = MAX_AD_CHARS,
    *,
    deferred: bool = False,
) -> Scorer:
    """A ready Scorer: the registry's current model, a model by name, or an explicit model folder.

    ``path`` without a path separator (``"adscreen-v1"``) is a name: the folder of that name
    inside ``models_dir``, verified against the registry's hash too. A path with a separator
    (``"models/adscreen-v1"``, ``"./my-model"``, an absolute path) is that folder. Either way the
    model file is loaded only after its sha256 and scikit-learn version are verified, and
    loading it runs no code from it (see ``adscreen.artefact``). ``deferred`` reads the model file
    only when the Scorer first scores (a server's HTTP process whose scoring processes hold the model).
    """
    from adscreen.registry import Registry, is_model_name, load_model_dir
    from adscreen.rules.guidance import load_guide
    from adscreen.scoring import Scorer

    registry = Registry(Path(models_dir))
    if path is None:
        loaded = registry.load_current(deferred)
    elif is_model_name(path):
        loaded = load_model_dir(registry.folder(str(path)), registry.recorded_sha256(str(path)), deferred)
    else:
        path = Path(path)
        inside = path.resolve().parent == registry.root.resolve()
        recorded = registry.read()["models"].get(path.name, {}).get("sha256") if inside else None
        loaded = load_model_dir(path, recorded, deferred)
    return Scorer(loaded, load_guide(), max_chars)


@lru_cache(maxsize=1)
def _default_scorer() -> Scorer:
    return load_model()


def score(text: str, country: str | None = None, language: str | None = None) -> dict:
    """Score one ad with the default model; the result has the shape of the JSON contract."""
    return _default_scorer().score(text, country=country, ui_language=language)
