"""A ``LISTEN`` on a channel that survives a database restart.

>>> listener = Listener(engine, "headwater_log", on_notify)
>>> if await listener.ensure():   # before each wait: subscribes, again if the connection died
...     ...                       # resubscribed: notifications were missed, look for work now
>>> await listener.close()

The subscription lives on a pooled connection held for as long as it listens. When PostgreSQL
restarts (or the connection drops), that connection is closed and its subscription gone;
:meth:`Listener.ensure` notices, discards it and subscribes again on a fresh one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.storage.database import STORAGE_ERRORS, driver_connection

__all__ = ["Listener"]


class Listener:
    def __init__(
        self,
        engine: AsyncEngine,
        channel: str,
        callback: Callable[..., Any],
        *,
        on_lost: Callable[[], Any] | None = None,
    ) -> None:
        """``callback(connection, pid, channel, payload)`` is asyncpg's listener callback;
        ``on_lost()`` is called when the connection dies (a waiter wakes and finds out)."""
        self._engine = engine
        self._channel = channel
        self._callback = callback
        self._on_lost = on_lost
        self._connection: AsyncConnection | None = None
        self._driver: asyncpg.Connection | None = None
        self._subscribed = False

    @property
    def listening(self) -> bool:
        return self._driver is not None and not self._driver.is_closed()

    async def ensure(self) -> bool:
        """Listen, on a new connection if the last one died; True when it subscribed again
        just now (what was notified since the last subscription ended was missed). Raises
        what the database raises when it cannot be reached; call again later."""
        if self.listening:
            return False
        again = self._subscribed
        await self.close()
        connection = await self._engine.connect()
        try:
            driver = await driver_connection(connection)
            await driver.add_listener(self._channel, self._callback)
            if self._on_lost is not None:
                driver.add_termination_listener(self._lost)
        except BaseException:
            await _discard(connection)
            raise
        self._connection, self._driver = connection, driver
        self._subscribed = True
        return again

    def _lost(self, _connection: object) -> None:
        if self._on_lost is not None:
            self._on_lost()

    async def close(self) -> None:
        """Unsubscribe and give the connection back (discarding it if it died)."""
        connection, driver = self._connection, self._driver
        self._connection = self._driver = None
        if connection is None or driver is None:
            return
        if driver.is_closed():
            await _discard(connection)
            return
        driver.remove_termination_listener(self._lost)
        try:
            await driver.remove_listener(self._channel, self._callback)
        except STORAGE_ERRORS:
            await _discard(connection)
            return
        await connection.close()


async def _discard(connection: AsyncConnection) -> None:
    """Drop a connection that may be dead from the pool without talking to the server."""
    with contextlib.suppress(*STORAGE_ERRORS):
        await connection.invalidate()
    with contextlib.suppress(*STORAGE_ERRORS):
        await connection.close()
