"""Which Scorer a running server uses, and switching it when the registry's current model changes.

``adscreen models promote`` and ``rollback`` rewrite ``registry.json`` (atomically). A
server started from the registry watches that file's (mtime, size, inode) every few
seconds; when it changed and names another model, the new model is loaded and verified
in a worker thread while requests go on with the old one, then swapped in with one
assignment. A request takes its Scorer once, at its start, so a request in flight ends
with the model it began with. A model that fails to load (hash mismatch, missing file,
other scikit-learn) is logged and remembered as ``error``, and the old one keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from adscreen.guidance import Guide, load_guide
from adscreen.registry import Registry, load_model_dir
from adscreen.scoring import MAX_AD_CHARS, Scorer

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
    ) -> None:
        self._scorer = scorer
        self.registry = registry
        self.error: str | None = None
        self._stamp = stamp
        self._entry = entry  # (name, sha256) of the model serving, as the registry recorded it
        self._lock = threading.Lock()

    @classmethod
    def from_registry(cls, models_dir: Path, max_chars: int = MAX_AD_CHARS, guide: Guide | None = None) -> ScorerSource:
        """Load the registry's current model; the stamp is taken first, so a change made meanwhile is seen."""
        registry = Registry(models_dir)
        stamp = RegistryStamp.of(registry.path)
        directory, sha256 = registry.current_path()
        scorer = Scorer(load_model_dir(directory, sha256), guide or load_guide(), max_chars)
        return cls(scorer, registry, stamp, (directory.name, sha256))

    @property
    def reloads(self) -> bool:
        return self.registry is not None

    def current(self) -> Scorer:
        """The Scorer to use for one whole request."""
        return self._scorer

    def refresh(self) -> bool:
        """Reload when the registry names another model; True when the Scorer was swapped.

        Blocking (reads and hashes the model file): call it from a worker thread, not the event loop.
        A model that fails to load is tried again only after the registry file changes again.
        """
        if self.registry is None:
            return False
        with self._lock:
            old = self._scorer
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
                scorer = Scorer(load_model_dir(directory, sha256), old.guide, old.max_chars)
            # A server must outlive a bad model: whatever stops the load, the old model keeps serving.
            except Exception as error:
                self.error = f"{error} (still serving {old.loaded.name})"
                log.error("model reload failed: %s", self.error)
                return False
            self._scorer, self._entry, self.error = scorer, entry, None
        log.warning("model reloaded: now serving %s (%s), was %s", entry[0], scorer.loaded.version, old.loaded.name)
        return True

    async def watch(self, interval: float) -> None:
        """Check the registry every ``interval`` seconds until cancelled; loading runs in a worker thread."""
        while True:
            await asyncio.sleep(interval)
            await asyncio.to_thread(self.refresh)
