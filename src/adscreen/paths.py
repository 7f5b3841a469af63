"""Where the project's data files and shipped models live.

In a source checkout (``pip install -e .``) they are the repository's ``data/`` and
``models/``; a wheel carries copies inside the package (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parents[1]


def _first_existing(*candidates: Path) -> Path:
    return next((path for path in candidates if path.exists()), candidates[-1])


DATA_DIR = _first_existing(_PACKAGE / "data", _CHECKOUT / "data")
MODELS_DIR = _first_existing(_PACKAGE / "models", _CHECKOUT / "models")
REDFLAGS_DIR = DATA_DIR / "redflags"
SAMPLE_ADS_DIR = DATA_DIR / "ads"
# Real public ads under a permissive licence, with their attribution (data/README.md).
REAL_ADS_DIR = DATA_DIR / "real"
