"""A per-client limit on how often a costly write may happen (corrections), kept in memory of the server process.

A sliding window of one minute per client address: cheap, exact, and forgotten on restart,
which is right for a limit against floods rather than a quota. Clients silent for a minute
are dropped, so the table does not grow with the number of addresses ever seen.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from adscreen.errors import TooManyRequests

WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most ``per_minute`` events per client in any 60 seconds; ``take(client)`` records one or refuses it."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._pruned = clock()

    def take(self, client: str, what: str = "requests") -> None:
        """Count one event for ``client``, or TooManyRequests (saying when to try again) when over the limit."""
        now = self.clock()
        if now - self._pruned > WINDOW_SECONDS / 6:
            self._forget_before(now - WINDOW_SECONDS)
            self._pruned = now
        events = self._events.setdefault(client, deque())
        while events and events[0] < now - WINDOW_SECONDS:
            events.popleft()
        if len(events) >= self.per_minute:
            wait = max(int(events[0] + WINDOW_SECONDS - now) + 1, 1)
            raise TooManyRequests(
                f"too many {what} from your address: at most {self.per_minute} a minute; try again in {wait} s",
                retry_after=wait,
            )
        events.append(now)

    def _forget_before(self, cutoff: float) -> None:
        for client in list(self._events):
            events = self._events[client]
            while events and events[0] < cutoff:
                events.popleft()
            if not events:
                del self._events[client]
