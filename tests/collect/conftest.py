"""One real ``headwater serve`` shared by the collection tests.

Starting a server costs about a second, so these tests share one, on its own fresh database,
and stay apart by each creating its own source. The shared server trusts 127.0.0.1 as a proxy
and caches write keys for 0.1 s; tests that need the defaults use the ``server`` fixture.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.collect.helpers import Source, new_source
from tests.server import RunningServer, start_server


async def _admin(url: str, statement: str) -> None:
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="package")
def shared(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    name = f"hw_collect_{os.getpid()}"
    # postgres_url made the migrated template that every test database is cloned from.
    asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "headwater_template"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    running = start_server(
        url,
        tmp_path_factory.mktemp("collect"),
        extra_env={
            "HEADWATER_TRUSTED_PROXIES": "127.0.0.1/32",
            "HEADWATER_WRITE_KEY_CACHE_SECONDS": "0.1",
        },
    )
    try:
        yield running
    finally:
        running.stop()
        asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def source(shared: RunningServer) -> Iterator[Source]:
    """A fresh server-side source on the shared server, which must log no traceback meanwhile."""
    logged = len(shared.log())
    yield new_source(shared)
    assert "Traceback" not in shared.log()[logged:], shared.log()[logged:]
