"""Which Scorer a running server uses, and switching it when the registry's current model changes.

``adscreen models promote`` and ``rollback`` rewrite ``registry.json`` (atomically). A
server started from the registry watches that file's (mtime, size, inode) every few
seconds; when it changed and names another model, the new model is loaded and verified
in a worker thread while requests go on with the old one, then swapped in with one
assignment. A request takes its Scorer once, at its start, so a request in flight ends
with the model it began with. A model that fails to load (hash mismatch, missing file,
other scikit-learn) is logged and remembered as ``error``, and the old one keeps serving.

With ``processes`` > 0 (``adscreen serve``), each model also gets a ``ScoringPool`` that
scores single ads in that many processes; a switch starts the new model's pool before the
swap and retires the old one once its ads are answered.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import orjson

from adscreen.config import MAX_AD_CHARS
from adscreen.language import warm_up as warm_up_language
from adscreen.registry import Registry, load_model_dir
from adscreen.rules.guidance import Guide, load_guide
from adscreen.scoring import Scorer
from adscreen.serve.pool import ScorerFactory, ScoringPool, build_scorer, off_the_loop_if_long
from adscreen.serve.schemas import result_json

log = logging.getLogger("adscreen.reload")


@dataclass(frozen=True)
class RegistryStamp:
    """What tells us the registry file was rewritten, without reading it."""

    mtime_ns: int
    size: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> RegistryStamp | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return cls(stat.st_mtime_ns, stat.st_size, stat.st_ino)


class Serving(NamedTuple):
    """What one request scores with, taken once at its start: the model, and its pool of processes if any."""

    scorer: Scorer
    pool: ScoringPool | None

    async def score(self, text: str, country: str | None, ui_language: str | None, seconds: float) -> dict:
        """``Scorer.score`` of a valid ad, in the pool when there is one, without blocking other requests long.

        In the pool, the answer comes within ``seconds`` or the ad fails with ScoringTimeout (HTTP 503).
        """
        if self.pool is not None:
            return orjson.loads(await self.pool.score_json(text, country, ui_language, seconds))
        return await self._score_here(text, country, ui_language)

    async def score_json(self, text: str, country: str | None, ui_language: str | None, seconds: float) -> bytes:
        """The same result as the body of ``POST /v1/score`` (``schemas.result_json``)."""
        if self.pool is not None:
            return await self.pool.score_json(text, country, ui_language, seconds)
        return result_json(await self._score_here(text, country, ui_language))

    async def _score_here(self, text: str, country: str | None, ui_language: str | None) -> dict:
        return await off_the_loop_if_long(text, self.scorer.score, text, country=country, ui_language=ui_language)


def load_serving(
    directory: Path,
    sha256: str | None,
    guide: Guide,
    max_chars: int,
    processes: int,
    make_scorer: ScorerFactory = build_scorer,
) -> Serving:
    """The verified model in ``directory`` and its scoring processes, which load it side by side with this one."""
    pool = ScoringPool.start(directory, sha256, max_chars, processes, make_scorer) if processes else None
    try:
        # With a pool, this process only names the model: its file is read where it scores (``deferred``).
        scorer = Scorer(load_model_dir(directory, sha256, deferred=pool is not None), guide, max_chars)
        if pool is not None:
            warm_up_language()  # here, not in the pool: this process detects each ad's language for it
            pool.wait_ready()
    except BaseException:
        if pool is not None:
            pool.kill()
        raise
    return Serving(scorer, pool)


class ScorerSource:
    """The current Scorer; ``current()`` is what a request calls, ``refresh()`` what the watcher calls.

    ``ScorerSource(scorer)`` (tests, ``ADSCREEN_MODEL_PATH``) never reloads; ``from_registry``
    follows the registry's current model.
    """

    def __init__(
        self,
        scorer: Scorer,
        registry: Registry | None = None,
        stamp: RegistryStamp | None = None,
        entry: tuple[str, str | None] | None = None,
        processes: int = 0,
        pool: ScoringPool | None = None,
        make_scorer: ScorerFactory = build_scorer,
    ) -> None:
        self.processes = processes
        self.make_scorer = make_scorer  # what the scoring processes serve (tests put a slow scorer here)
        if processes and pool is None:
            pool = ScoringPool.for_model(scorer.loaded, scorer.max_chars, processes, make_scorer)
        self._serving = Serving(scorer, pool)
        self._retired: list[ScoringPool] = []
        self.registry = registry
        self.error: str | None = None
        self._stamp = stamp
        self._entry = entry  # (name, sha256) of the model serving, as the registry recorded it
        self._lock = threading.Lock()

    @classmethod
    def from_registry(
        cls, models_dir: Path, max_chars: int = MAX_AD_CHARS, guide: Guide | None = None, processes: int = 0
    ) -> ScorerSource:
        """Load the registry's current model; the stamp is taken first, so a change made meanwhile is seen."""
        registry = Registry(models_dir)
        stamp = RegistryStamp.of(registry.path)
        directory, sha256 = registry.current_path()
        serving = load_serving(directory, sha256, guide or load_guide(), max_chars, processes)
        return cls(serving.scorer, registry, stamp, (directory.name, sha256), processes, serving.pool)

    @property
    def reloads(self) -> bool:
        return self.registry is not None

    def serving(self) -> Serving:
        """The Scorer and pool to use for one whole request."""
        return self._serving

    def health(self) -> str | None:
        """None when the server can score, else why it cannot (``/healthz`` then answers 503 "degraded")."""
        pool = self._serving.pool
        return pool.health() if pool is not None else None

    def refresh(self) -> bool:
        """Reload when the registry names another model; True when the Scorer was swapped.

        Blocking (reads and hashes the model file): call it from a worker thread, not the event loop.
        A model that fails to load is tried again only after the registry file changes again.
        """
        if self.registry is None:
            return False
        with self._lock:
            old = self._serving.scorer
            try:
                stamp = RegistryStamp.of(self.registry.path)
                if stamp == self._stamp:
                    return False
                self._stamp = stamp
                directory, sha256 = self.registry.current_path()
                entry = (directory.name, sha256)
                if entry == self._entry:
                    self.error = None
                    return False
                serving = load_serving(directory, sha256, old.guide, old.max_chars, self.processes, self.make_scorer)
            # A server must outlive a bad model: whatever stops the load, the old model keeps serving.
            except Exception as error:
                self.error = f"{error} (still serving {old.loaded.name})"
                log.error("model reload failed: %s", self.error)
                return False
            if self._serving.pool is not None:
                self._retired.append(self._serving.pool)
            self._serving, self._entry, self.error = serving, entry, None
        log.warning(
            "model reloaded: now serving %s (%s), was %s", entry[0], serving.scorer.loaded.version, old.loaded.name
        )
        return True

    async def watch(self, interval: float) -> None:
        """Check the registry every ``interval`` seconds until cancelled; loading runs in a worker thread."""
        while True:
            await asyncio.sleep(interval)
            if await asyncio.to_thread(self.refresh):
                await self._retire_old_pools()

    async def _retire_old_pools(self, seconds: float = 60) -> None:
        retired, self._retired = self._retired, []
        for pool in retired:
            pool.retire()  # on the event loop, where the pool's ads are answered
            await asyncio.to_thread(pool.join, seconds)

    async def close(self, seconds: float = 5) -> None:
        """Stop every pool's processes (the server is shutting down): those still scoring after ``seconds`` are killed."""
        if self._serving.pool is not None:
            self._retired.append(self._serving.pool)
        await self._retire_old_pools(seconds)
