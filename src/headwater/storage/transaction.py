"""The transaction every store function runs in, and the one way to begin it.

>>> async with engine.begin() as connection:
...     tx = await begin(connection)          # SQLAlchemy connection + its asyncpg driver, begun
...     await tx.driver.execute("INSERT INTO ...")      # hot-path store: raw asyncpg
...     await tx.execute(select(table))                 # SQLAlchemy store: Core statements
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, final

import asyncpg
from sqlalchemy import CursorResult, Executable, ScalarResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.storage.database import driver_connection

__all__ = ["Transaction", "begin", "connected", "transaction"]


@final
class Transaction:
    """The caller's transaction, handed to every store function.

    It holds the pooled SQLAlchemy ``connection`` (``engine.begin()`` or ``engine.connect()``)
    whose transaction the service, the stage or the committer owns, and ``driver``, the asyncpg
    connection under it. A store function runs Core statements through :meth:`execute`,
    :meth:`scalar` and :meth:`scalars` (SQLAlchemy stores) or its statements on ``driver``
    (the hot-path stores, skipping SQLAlchemy's per-statement overhead); it never commits.

    Build it with :func:`begin` when statements go straight to ``driver`` inside a SQLAlchemy
    transaction, or with :meth:`of` when nothing needs beginning: SQLAlchemy begins lazily by
    itself, the caller opens ``async with tx.driver.transaction()`` itself (the collector's
    group commit), or the statements run one by one in autocommit (reads on an
    ``engine.connect()`` connection). Neither costs a round trip beyond :func:`begin`'s one.
    """

    __slots__ = ("connection", "driver")

    def __init__(self, connection: AsyncConnection, driver: asyncpg.Connection) -> None:
        self.connection = connection
        self.driver = driver

    @classmethod
    async def of(cls, connection: AsyncConnection) -> Transaction:
        """``connection`` and its asyncpg driver, as they are: no statement is sent."""
        return cls(connection, await driver_connection(connection))

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """A Core statement on the SQLAlchemy connection (``AsyncConnection.execute``)."""
        return await self.connection.execute(statement, parameters)

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any:
        """The first column of the first row (``AsyncConnection.scalar``)."""
        return await self.connection.scalar(statement, parameters)

    async def scalars(self, statement: Executable, parameters: Any = None) -> ScalarResult[Any]:
        """The first column of every row, buffered (``AsyncConnection.scalars``)."""
        return await self.connection.scalars(statement, parameters)


async def begin(connection: AsyncConnection) -> Transaction:
    """``connection``'s transaction, begun, so that statements on ``driver`` run inside it.

    SQLAlchemy sends BEGIN lazily, with its first statement: a statement sent on the driver
    before any went through SQLAlchemy would autocommit outside the caller's transaction (and
    survive its rollback). So this sends one ``SELECT 1`` through SQLAlchemy when the driver
    is not in a transaction yet (one round trip, once per transaction); otherwise it costs
    nothing.
    """
    tx = await Transaction.of(connection)
    if not tx.driver.is_in_transaction():
        await connection.exec_driver_sql("SELECT 1")
    return tx


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    """``engine.begin()`` as a :class:`Transaction` (committed on exit, rolled back on error);
    SQLAlchemy begins it with its first statement, :func:`begin` is not needed for Core."""
    async with engine.begin() as connection:
        yield await Transaction.of(connection)


@asynccontextmanager
async def connected(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    """``engine.connect()`` as a :class:`Transaction`: statements on ``driver`` autocommit one
    by one (reads); Core statements begin a transaction that is rolled back on exit unless
    committed."""
    async with engine.connect() as connection:
        yield await Transaction.of(connection)
