"""``unavailable()``: which real database errors mean "unreachable, retry later" (a 503, a
retried outcome) and which mean the statement itself failed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.storage import STORAGE_ERRORS, create_engine, driver_connection, unavailable
from tests.cable import Cable


async def _error_of(engine: AsyncEngine, sql: str) -> BaseException:
    with pytest.raises(STORAGE_ERRORS) as caught:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    return caught.value


async def test_a_refused_connection_is_unavailable(database_url: str) -> None:
    with Cable(database_url) as cable:
        engine = create_engine(cable.url, pool_size=1)
        try:
            cable.cut()
            assert unavailable(await _error_of(engine, "SELECT 1"))
        finally:
            await engine.dispose()


async def test_a_connection_the_server_ends_is_unavailable(engine: AsyncEngine) -> None:
    assert unavailable(await _error_of(engine, "SELECT pg_terminate_backend(pg_backend_pid())"))


async def test_a_closed_connection_used_directly_is_unavailable(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        driver = await driver_connection(connection)
        await driver.close()
        with pytest.raises(STORAGE_ERRORS) as caught:
            await driver.fetch("SELECT 1")
        await connection.invalidate()
    assert unavailable(caught.value)


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1/0", "SELECT 'x'::int", "SELECT * FROM no_such_table", "SELECT 2147483648::int"],
)
async def test_a_failing_statement_is_not_unavailable(engine: AsyncEngine, sql: str) -> None:
    assert not unavailable(await _error_of(engine, sql))
