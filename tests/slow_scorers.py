"""Scorers for the scoring processes of tests (one stuck on a marked ad, one that cannot load while a file exists),
and functions the tests run there through ``ScoringPool.score_bulk``.

Imported by name in the spawned scoring processes (``ScoringPool(make_scorer=...)``), so
they live at module level, in a module that imports nothing a scoring process refuses (pandas).
The slow one is stuck in a C regex, which holds the GIL the way a catastrophic red-flag
pattern does: a sleep would let other threads run and prove nothing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from adscreen.registry import load_model_dir
from adscreen.rules.guidance import load_guide
from adscreen.scoring import Scorer

SLOW_MARK = "SLOW-AD"
REFUSE_ENV = "ADSCREEN_TEST_REFUSE_WHILE"  # a path: the scorer cannot load while that file exists
_CATASTROPHIC = re.compile(r"(a+)+b")


def stuck(text: str) -> None:
    """Hold the GIL for a very long time (2**40 steps) when the ad carries the mark."""
    if SLOW_MARK in text:
        _CATASTROPHIC.fullmatch("a" * 40)


class SlowScorer(Scorer):
    def score(self, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        stuck(text)
        return super().score(text, *args, **kwargs)

    def score_many(self, texts, *args, **kwargs):  # type: ignore[no-untyped-def]
        for text in texts:
            stuck(text)
        return super().score_many(texts, *args, **kwargs)


def build_scorer(model_dir: Path, sha256: str | None, max_chars: int) -> Scorer:
    return Scorer(load_model_dir(model_dir, sha256), load_guide(), max_chars)


def slow_scorer(model_dir: Path, sha256: str | None, max_chars: int) -> Scorer:
    scorer = build_scorer(model_dir, sha256, max_chars)
    scorer.__class__ = SlowScorer
    return scorer


def refusing_scorer(model_dir: Path, sha256: str | None, max_chars: int) -> Scorer:
    marker = os.environ.get(REFUSE_ENV)
    if marker and Path(marker).exists():
        raise RuntimeError("this scoring process was told not to load")
    return build_scorer(model_dir, sha256, max_chars)


def language_detectors_built(scorer: Scorer) -> int:
    """Whether the process's language detectors (and so lingua's models) were ever built."""
    from adscreen.language import _detectors

    return _detectors.cache_info().currsize


def loaded_modules(scorer: Scorer, names: tuple[str, ...]) -> list[str]:
    """Which of these modules the process has imported."""
    import sys

    return [name for name in names if sys.modules.get(name) is not None]
