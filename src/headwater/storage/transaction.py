"""The transaction every store function runs in, and the one way to begin it for raw asyncpg.

>>> async with engine.begin() as transaction:
...     driver = await begin(transaction)     # the asyncpg connection, inside the transaction
...     await driver.execute("INSERT INTO ...")
"""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.storage.database import driver_connection

__all__ = ["Transaction", "begin"]

Transaction: TypeAlias = AsyncConnection
"""The caller's transaction, handed to every store function: a pooled SQLAlchemy connection
(``engine.begin()`` or ``engine.connect()``) whose transaction the service or the processor
owns. A store function runs its statements on it (Core or ``text()``), or, on the hot paths,
on its asyncpg connection (:func:`begin`); it never commits."""


async def begin(transaction: Transaction) -> asyncpg.Connection:
    """The asyncpg connection under ``transaction``, with the transaction begun.

    SQLAlchemy sends BEGIN lazily, with its first statement: a statement sent on the driver
    before any went through SQLAlchemy would autocommit outside the caller's transaction (and
    survive its rollback). So this sends a first statement through SQLAlchemy when the driver
    is not in a transaction yet (one round trip, once per transaction); otherwise it costs
    nothing.
    """
    driver = await driver_connection(transaction)
    if not driver.is_in_transaction():
        await transaction.exec_driver_sql("SELECT 1")
    return driver
