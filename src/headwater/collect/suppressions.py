"""The suppressions the tracking API enforces, held in memory per workspace.

A message whose ``userId`` or ``anonymousId`` is suppressed is refused before the log: never
stored, counted as ``suppressed`` in its source's counts. The set of each workspace is the
``suppressions`` table's digests (see ``workspaces.identifier_hash``); a workspace without
suppressions is not in memory at all, so its messages cost one dict lookup per request, and a
workspace with some costs one HMAC per identifier the first time a process sees it, then one
dict lookup: each process remembers its verdicts on the last :data:`VERDICTS` identifiers of
each kind (forgotten all at once when full, and whenever the workspace's set is read again).

>>> cache = Suppressions(engine)
>>> await cache.load()                           # before the first request
>>> cache.refused(workspace_id, "u-1", None)     # True when u-1 is suppressed
>>> await cache.watch(stop, health)              # supervised: reloads what changes

A change commits with a ``NOTIFY`` on :data:`~headwater.collect.store.SUPPRESSIONS_CHANNEL`
(payload: the workspace id), and every collector process reloads that workspace when it hears
it. A listener that lost its connection reloads every workspace once it listens again, and
every ``refresh_seconds`` each process reloads all (a last resort if a notification was
missed in between). In the process that made the change, :meth:`Suppressions.reload` is called
directly before the change is reported done.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect import store
from headwater.storage import STORAGE_ERRORS, connected
from headwater.storage.listener import Listener
from headwater.supervisor import Health, first_set
from headwater.workspaces import identifier_hash, identifier_key

__all__ = ["VERDICTS", "Suppressions"]

_log = logging.getLogger(__name__)

VERDICTS: Final = 65_536
"""Identifiers of one kind whose verdict a process remembers per workspace: about 6 MB at most
for both kinds. Senders repeat their ids (a visitor's every page view carries the same
anonymous id), so most messages are answered without an HMAC."""


class _Held:
    """One workspace's suppressed digests as a collector holds them, with its key and the
    verdicts it has reached (valid for this set only: a reload makes a new one)."""

    __slots__ = ("anonymous_ids", "hashes", "key", "user_ids")

    def __init__(self, key: bytes, hashes: frozenset[bytes]) -> None:
        self.key = key
        self.hashes = hashes
        self.user_ids: dict[str, bool] = {}
        self.anonymous_ids: dict[str, bool] = {}

    def suppressed(self, verdicts: dict[str, bool], kind: str, value: str) -> bool:
        verdict = verdicts.get(value)
        if verdict is None:
            if len(verdicts) >= VERDICTS:
                verdicts.clear()
            verdict = verdicts[value] = identifier_hash(self.key, kind, value) in self.hashes
        return verdict


class Suppressions:
    def __init__(self, engine: AsyncEngine, *, refresh_seconds: float = 60.0) -> None:
        self._engine = engine
        self._refresh = refresh_seconds
        self._sets: dict[int, _Held] = {}
        self._changed: set[int] = set()
        self._wake = asyncio.Event()

    def active(self, workspace_id: int) -> bool:
        """Does the workspace suppress anyone (is any message of it to be checked)?"""
        return workspace_id in self._sets

    def refused(self, workspace_id: int, user_id: str | None, anonymous_id: str | None) -> bool:
        """Is a message with these ids suppressed in the workspace?"""
        held = self._sets.get(workspace_id)
        if held is None:
            return False
        return (user_id is not None and held.suppressed(held.user_ids, "user_id", user_id)) or (
            anonymous_id is not None
            and held.suppressed(held.anonymous_ids, "anonymous_id", anonymous_id)
        )

    async def load(self) -> None:
        """Read every workspace's suppressions (replacing what is held)."""
        async with connected(self._engine) as tx:
            workspaces = await store.suppressed_workspaces(tx)
        fresh: dict[int, _Held] = {}
        for workspace_id in workspaces:
            held = await self._read(workspace_id)
            if held is not None:
                fresh[workspace_id] = held
        self._sets = fresh

    async def reload(self, workspace_id: int) -> None:
        """Read one workspace's suppressions again (after it changed)."""
        held = await self._read(workspace_id)
        if held is None:
            self._sets.pop(workspace_id, None)
        else:
            self._sets[workspace_id] = held

    async def _read(self, workspace_id: int) -> _Held | None:
        async with connected(self._engine) as tx:
            hashes = await store.suppressed_hashes(tx, workspace_id)
            if not hashes:
                return None
            key = await identifier_key(tx, workspace_id)
            await tx.connection.commit()
        return _Held(key, hashes)

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload.isdigit():
            self._changed.add(int(payload))
            self._wake.set()

    async def watch(self, stop: asyncio.Event, health: Health) -> None:
        """Keep the sets current until ``stop`` (a supervised task; see the module)."""
        listener = Listener(
            self._engine,
            store.SUPPRESSIONS_CHANNEL,
            self._notified,
            on_lost=self._wake.set,
        )
        try:
            while not stop.is_set():
                try:
                    await listener.ensure()
                    changed, self._changed = self._changed, set()
                    if self._timed_out:
                        await self.load()
                    else:
                        for workspace_id in sorted(changed):
                            await self.reload(workspace_id)
                except STORAGE_ERRORS as error:
                    health.failed(error)
                    _log.warning("could not reload suppressions: %s", error)
                    self._timed_out = True
                    await _wait(stop, self._wake, min(self._refresh, 5.0))
                    continue
                health.ok()
                self._timed_out = not await _wait(stop, self._wake, self._refresh)
        finally:
            await listener.close()

    _timed_out = True
    """Reload everything on the next turn (at start, after an outage, every interval)."""


async def _wait(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> bool:
    """Wait for ``wake`` (cleared) or ``stop`` at most ``seconds``; False on time out."""
    woken = await first_set(stop, wake, seconds=seconds)
    wake.clear()
    return woken
