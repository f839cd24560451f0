"""A cache from URL key to webhook source, as the collector keeps write keys.

An entry lives ``ttl`` seconds (``HEADWATER_WRITE_KEY_CACHE_SECONDS``): a change made in another
process (a new secret, a new URL, new rules) takes effect there within that time, and at once
in the process that made it (:meth:`Receivers.forget`). Unknown keys are cached too, so a
sender hammering a wrong URL does not reach the database on each request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from headwater.hooks.service import Receiver

__all__ = ["Receivers"]


class Receivers:
    def __init__(
        self,
        lookup: Callable[[str], Awaitable[Receiver | None]],
        *,
        ttl: float,
        max_entries: int = 10_000,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Receiver | None]] = {}

    async def of(self, url_key: str) -> Receiver | None:
        """The webhook source ``url_key`` names, with its secrets open, or None."""
        now = time.monotonic()
        cached = self._entries.get(url_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self._lookup(url_key)
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[url_key] = (now + self._ttl, found)
        return found

    def forget(self) -> None:
        """Drop every entry (after a webhook source changed in this process)."""
        self._entries.clear()
