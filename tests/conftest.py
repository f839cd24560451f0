"""Fixtures on real components: PostgreSQL (embedded, or HEADWATER_TEST_DATABASE_URL) and a
``headwater serve`` subprocess. Each test that needs a database gets a fresh one, cloned from a
migrated template."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.settings import Settings
from headwater.storage import create_engine, migrate
from headwater.storage.embedded import EmbeddedPostgres
from tests.natsserver import NatsCluster
from tests.server import RunningServer, start_server

_TEMPLATE = "headwater_template"
_counter = itertools.count()


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _admin_connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )


@pytest.fixture(scope="session", autouse=True)
def config_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``XDG_CONFIG_HOME`` for the whole session (and every process it starts): a first start
    of ``headwater serve`` writes the CLI's config file, never into the real home's."""
    path = tmp_path_factory.mktemp("xdg-config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(path))
        yield path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A server URL, with a migrated template database ready to clone."""
    external = os.environ.get("HEADWATER_TEST_DATABASE_URL")
    embedded: EmbeddedPostgres | None = None
    data_dir: str | None = None
    if external:
        url = external
    else:
        data_dir = tempfile.mkdtemp(prefix="headwater-test-")
        embedded = EmbeddedPostgres(Path(data_dir), database="postgres")
        url = asyncio.run(embedded.start())
    asyncio.run(_make_template(url))
    yield url
    if embedded is not None:
        asyncio.run(embedded.stop())
        shutil.rmtree(data_dir or "", ignore_errors=True)


async def _make_template(url: str) -> None:
    admin = await _admin_connect(url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{_TEMPLATE}"')
    finally:
        await admin.close()
    engine = create_engine(_with_database(url, _TEMPLATE), pool_size=1)
    await migrate(engine)
    await engine.dispose()


@contextlib.asynccontextmanager
async def scratch_database(
    postgres_url: str, prefix: str, *, template: str | None = _TEMPLATE
) -> AsyncIterator[str]:
    """A database of its own: a clone of the migrated template (or empty, with
    ``template=None``), dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{next(_counter)}"
    clone = f' TEMPLATE "{template}"' if template else ""
    admin = await _admin_connect(postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{clone}')
    finally:
        await admin.close()
    try:
        yield _with_database(postgres_url, name)
    finally:
        admin = await _admin_connect(postgres_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    async with scratch_database(postgres_url, "hw_test") as url:
        yield url


@pytest.fixture(scope="session")
def nats_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """One real NATS server with JetStream for the session; each test names its own stream."""
    with NatsCluster.start(tmp_path_factory.mktemp("nats"), size=1) as cluster:
        yield cluster.urls


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, admin_token="test-admin-token")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    """``headwater serve`` in a subprocess on a fresh database, with a known write key."""
    running = start_server(database_url, tmp_path)
    try:
        yield running
    finally:
        running.stop()
