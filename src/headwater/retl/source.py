"""A model's database: the customer's, named by a SQLAlchemy URL, read and never written.

>>> database = SourceDatabase("postgresql://reader:pw@db.example/shop")
>>> columns, rows = await database.preview("SELECT id, email FROM customers", limit=10)
>>> async for columns, chunk in database.stream("SELECT ...", cursor=None):
...     ...
>>> await database.close()

``postgresql://`` URLs (and ``postgres://``) are read with asyncpg, the driver Headwater
itself uses; a URL naming another driver is read through that SQLAlchemy dialect, provided
its driver is installed (a synchronous driver runs in a thread and reads the model whole).
Every error is a :class:`SourceError` whose message never holds the URL's password (nor any
query parameter named like a password, secret or token).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any
from urllib.parse import quote, quote_plus

import asyncpg
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from headwater.storage import driver_connection

__all__ = ["SourceDatabase", "SourceError", "parse_url", "shown_url"]

_SECRET_PARAMS = ("password", "secret", "token", "key")
_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class SourceError(Exception):
    """The model's database could not be reached or refused the query; the message is plain
    and holds no secret of the URL."""


def parse_url(url: str) -> URL:
    """The URL as SQLAlchemy reads it, ``postgresql`` meaning asyncpg; a :class:`SourceError`
    (the URL not repeated) when it is not one."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SourceError(
            "the connection is not a SQLAlchemy URL (dialect://user:password@host/database)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed


def shown_url(url: str) -> str:
    """The URL as given (its dialect as written) with its password and secret-like parameters
    masked, for display; a :class:`SourceError` when it is not a URL."""
    parse_url(url)
    parsed = make_url(url)
    query = {
        name: ("***" if _secret_param(name) else value) for name, value in parsed.query.items()
    }
    return parsed.set(query=query).render_as_string(hide_password=True)


def _secret_param(name: str) -> bool:
    return any(word in name.lower() for word in _SECRET_PARAMS)


class SourceDatabase:
    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self._url = parse_url(url)
        self._secrets = _secrets_of(self._url)
        self._timeout = timeout
        self._async: AsyncEngine | None = None
        self._sync: Engine | None = None
        try:
            if self._url.get_dialect().is_async:
                self._async = create_async_engine(
                    self._url, poolclass=NullPool, connect_args=self._connect_args()
                )
            else:
                self._sync = create_engine(self._url, poolclass=NullPool)
        except _ERRORS as error:
            raise self._error(error) from None

    def _connect_args(self) -> dict[str, Any]:
        if self._url.drivername == "postgresql+asyncpg":
            return {"timeout": self._timeout}
        return {}

    async def close(self) -> None:
        if self._async is not None:
            await self._async.dispose()
        if self._sync is not None:
            self._sync.dispose()

    async def preview(self, query: str, *, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The model's column names and its first ``limit`` rows."""
        statement = f"SELECT * FROM ({_bare(query)}) AS headwater_model LIMIT {int(limit)}"
        async with aclosing(self._chunks(statement, None, limit)) as chunks:
            async for columns, rows in chunks:
                return columns, rows
        return [], []

    async def stream(
        self,
        query: str,
        *,
        cursor: tuple[str, Any] | None = None,
        chunk: int = 10_000,
    ) -> AsyncGenerator[tuple[list[str], list[tuple[Any, ...]]]]:
        """The model's rows in chunks, each with the column names. ``cursor`` (column, value):
        only rows whose column is at least the value (the value itself included: a row
        changed at that instant is not missed; unchanged ones are recognised by their hash)."""
        statement = f"SELECT * FROM ({_bare(query)}) AS headwater_model"
        mark = None
        if cursor is not None and cursor[1] is not None:
            placeholder = "$1" if self._native else ":headwater_mark"
            statement += f" WHERE headwater_model.{_quoted(cursor[0])} >= {placeholder}"
            mark = cursor[1]
        async for item in self._chunks(statement, mark, chunk):
            yield item

    @property
    def _native(self) -> bool:
        """PostgreSQL through asyncpg: read with the driver itself (a cursor in a read-only
        transaction), a few times faster than through SQLAlchemy's rows."""
        return self._url.drivername == "postgresql+asyncpg"

    async def _chunks(
        self, statement: str, mark: Any, size: int
    ) -> AsyncGenerator[tuple[list[str], list[tuple[Any, ...]]]]:
        try:
            if self._native:
                async for item in self._driver_chunks(statement, mark, size):
                    yield item
            elif self._async is not None:
                params = {} if mark is None else {"headwater_mark": mark}
                async with self._async.connect() as connection:
                    result = await connection.stream(text(statement), params)
                    columns = list(result.keys())
                    empty = True
                    async for part in result.partitions(size):
                        empty = False
                        yield columns, [tuple(row) for row in part]
                    if empty:
                        yield columns, []
            else:
                params = {} if mark is None else {"headwater_mark": mark}
                columns, rows = await asyncio.to_thread(self._read_all, statement, params)
                for start in range(0, max(len(rows), 1), size):
                    yield columns, rows[start : start + size]
        except _ERRORS as error:
            raise self._error(error) from None

    async def _driver_chunks(
        self, statement: str, mark: Any, size: int
    ) -> AsyncGenerator[tuple[list[str], list[tuple[Any, ...]]]]:
        assert self._async is not None
        args = () if mark is None else (mark,)
        async with self._async.connect() as connection:
            driver = await driver_connection(connection)
            async with driver.transaction(readonly=True, isolation="repeatable_read"):
                prepared = await driver.prepare(statement)
                columns = [attribute.name for attribute in prepared.get_attributes()]
                cursor = await prepared.cursor(*args)
                while True:
                    records = await cursor.fetch(size)
                    yield columns, [tuple(record) for record in records]
                    if len(records) < size:
                        return

    def _read_all(
        self, statement: str, params: dict[str, Any]
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        assert self._sync is not None
        with self._sync.connect() as connection:
            result = connection.execute(text(statement), params)
            return list(result.keys()), [tuple(row) for row in result]

    def _error(self, error: BaseException) -> SourceError:
        raw = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
        message = str(raw).strip().splitlines()[0] if str(raw).strip() else type(raw).__name__
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return SourceError(f"the model's database: {message}")


def _secrets_of(url: URL) -> list[str]:
    found = [url.password] if url.password else []
    found += [
        value
        for name, value in url.query.items()
        if _secret_param(name) and isinstance(value, str) and value
    ]
    variants = {form for secret in found for form in (secret, quote(secret), quote_plus(secret))}
    return sorted((v for v in variants if v), key=len, reverse=True)


def _bare(query: str) -> str:
    """The query without trailing semicolons, to nest it as a derived table."""
    return query.strip().rstrip(";").strip()


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'
