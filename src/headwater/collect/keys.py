"""Write keys: where a request carries one, and a cache from write key to source.

The cache answers most requests from memory; an entry lives ``ttl`` seconds, so disabling a
source takes effect within that time. Disabled sources are returned too: a disabled source's
requests are answered and recorded as dropped, unlike an unknown key's. Unknown keys are
cached too, so a client hammering with a wrong key does not reach the database on each request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from headwater.workspaces import Source

__all__ = ["WriteKeyCache"]


class WriteKeyCache:
    def __init__(
        self,
        lookup: Callable[[str], Awaitable[Source | None]],
        *,
        ttl: float,
        max_entries: int = 100_000,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Source | None]] = {}

    async def source(self, write_key: str) -> Source | None:
        """The source with ``write_key`` (enabled or not), or None."""
        now = time.monotonic()
        cached = self._entries.get(write_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        source = await self._lookup(write_key)
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[write_key] = (now + self._ttl, source)
        return source

    def forget(self) -> None:
        """Drop every entry (after a source changes in this process)."""
        self._entries.clear()
