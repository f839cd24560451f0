"""PostgreSQL warehouse: Segment's warehouse schema, loaded in batches, evolving with the data.

Tables in the configured schema, as Segment's warehouses name them:

- ``tracks`` (every track call), plus one table per event named after it in snake_case
  (``Order Completed`` -> ``order_completed``) with its properties as columns;
- ``identifies`` and ``users`` (one row per user id, the latest traits), ``pages``,
  ``screens``, ``groups``, ``aliases``.

Each row has ``id`` (the messageId, the primary key: a batch loaded twice adds nothing),
``received_at``, ``sent_at``, ``timestamp``, ``user_id``, ``anonymous_id``, ``uuid_ts`` (load
time) and the flattened ``context_*`` fields; nested objects become ``parent_child`` columns,
arrays are stored as JSON text. A property never seen before adds a column (``ALTER TABLE ...
ADD COLUMN IF NOT EXISTS``, under an advisory lock so concurrent loads agree); a value whose
type differs from its column's is stored as that type when it converts (a number into text),
else as NULL.

One send is one transaction: the whole batch loads, or none of it. A refused connection or a
lost server is retried; data the database refuses fails the batch (dead letters).

Deletion (``deletes``): one transaction removes, from every table of the schema, the rows whose
``user_id`` or ``anonymous_id`` is one of the person's, the aliases whose ``previous_id`` is,
and the ``users`` rows of their user ids; in tables with an ``email`` column (the traits of
``identifies`` and ``users``), the rows holding one of their emails (compared lower-cased).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import asyncpg
import msgspec
import pydantic

from headwater.connectors.base import Connector, DeletionSubject, Event, Outcome, SendResult
from headwater.spec import message_builtins

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

__all__ = ["PostgresWarehouse", "PostgresWarehouseConfig", "column_name"]

_BASE = {
    "id": "text PRIMARY KEY",
    "received_at": "timestamptz",
    "sent_at": "timestamptz",
    "timestamp": "timestamptz",
    "original_timestamp": "timestamptz",
    "user_id": "text",
    "anonymous_id": "text",
    "uuid_ts": "timestamptz DEFAULT now()",
}
if TYPE_CHECKING:
    _Connection = asyncpg.Connection | PoolConnectionProxy[Any]
_TIMES = ("received_at", "sent_at", "timestamp", "original_timestamp")
_TABLES = {"identify": "identifies", "page": "pages", "screen": "screens", "group": "groups"}
_SPLIT = re.compile(r"[^0-9a-zA-Z]+|(?<=[a-z0-9])(?=[A-Z])")


def column_name(key: str) -> str:
    """Segment's snake_case for a key or an event name.

    >>> column_name("Order Completed"), column_name("cartValue"), column_name("9 lives")
    ('order_completed', 'cart_value', '_9_lives')
    """
    name = "_".join(part.lower() for part in _SPLIT.split(key) if part)[:63] or "_"
    return "_" + name if name[0].isdigit() else name


class PostgresWarehouseConfig(pydantic.BaseModel):
    url: pydantic.SecretStr = pydantic.Field(description="postgresql://user:password@host/db")
    schema_name: str = pydantic.Field(default="headwater", pattern=r"^[a-z_][a-z0-9_]{0,62}$")


def _flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(
                f"{prefix}_{column_name(str(key))}" if prefix else column_name(str(key)),
                inner,
                into,
            )
    elif isinstance(value, list):
        into[prefix] = msgspec.json.encode(value).decode()
    elif value is not None:
        into[prefix] = value


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double precision"
    return "text"


def _converted(value: Any, column_type: str) -> Any:
    if column_type == "text":
        return value if isinstance(value, str) else msgspec.json.encode(value).decode()
    if column_type == "timestamptz":
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            return None
    if column_type == "boolean":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if column_type == "bigint":
        return value if isinstance(value, int) else None
    return float(value)


def rows_of(event: Event) -> list[tuple[str, dict[str, Any]]]:
    """The (table, row) pairs one event loads: every field as sent, flattened into columns
    (read from the message as the JSON document it was stored as)."""
    kind = event.type
    document = message_builtins(event)
    row: dict[str, Any] = {"id": document.get("messageId")}
    for field in (
        "userId",
        "anonymousId",
        "receivedAt",
        "sentAt",
        "timestamp",
        "originalTimestamp",
    ):
        if document.get(field) is not None:
            row[column_name(field)] = document[field]
    _flatten("context", document.get("context") or {}, row)
    if kind == "track":
        name = str(document.get("event", ""))
        shared = {**row, "event": column_name(name), "event_text": name}
        properties: dict[str, Any] = {}
        _flatten("", document.get("properties") or {}, properties)
        specific = {**properties, **shared}
        return [("tracks", shared), (column_name(name), specific)]
    if kind == "alias":
        return [("aliases", {**row, "previous_id": document.get("previousId")})]
    traits: dict[str, Any] = {}
    if kind in ("page", "screen"):
        _flatten("", document.get("properties") or {}, traits)
        traits["name"] = document.get("name")
    else:
        _flatten("", document.get("traits") or {}, traits)
    if kind == "group":
        traits["group_id"] = document.get("groupId")
    table = _TABLES.get(str(kind), "tracks")
    found = [(table, {**traits, **row})]
    if kind == "identify" and document.get("userId") is not None:
        found.append(
            ("users", {**traits, "id": document["userId"], "received_at": row.get("received_at")})
        )
    return found


class PostgresWarehouse(Connector[PostgresWarehouseConfig]):
    kind = "postgres-warehouse"
    title = "PostgreSQL warehouse"
    config_type = PostgresWarehouseConfig
    max_batch: ClassVar[int] = 500
    deletes: ClassVar[bool] = True

    def __init__(self, config: PostgresWarehouseConfig, client: Any) -> None:
        super().__init__(config, client)
        self._pool: asyncpg.Pool | None = None
        self._columns: dict[str, dict[str, str]] = {}

    async def send(self, events: Sequence[Event]) -> SendResult:
        tables: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            for table, row in rows_of(event):
                tables.setdefault(table, []).append(row)
        try:
            pool = await self._connect()
            async with pool.acquire() as connection, connection.transaction():
                for table, rows in tables.items():
                    await self._load(connection, table, rows)
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as error:
            self._columns.clear()
            return SendResult(outcome=Outcome.FAILED, error=f"{type(error).__name__}: {error}")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            self._columns.clear()
            return SendResult(outcome=Outcome.RETRY, error=f"{type(error).__name__}: {error}")
        return SendResult(outcome=Outcome.DELIVERED)

    async def delete(self, subject: DeletionSubject) -> SendResult:
        ids = sorted({*subject.user_ids, *subject.anonymous_ids})
        emails = sorted({email.lower() for email in subject.emails})
        try:
            pool = await self._connect()
            async with pool.acquire() as connection, connection.transaction():
                for table, columns in (await self._person_columns(connection)).items():
                    await self._forget(connection, table, columns, subject, ids, emails)
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as error:
            return SendResult(outcome=Outcome.FAILED, error=f"{type(error).__name__}: {error}")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            return SendResult(outcome=Outcome.RETRY, error=f"{type(error).__name__}: {error}")
        return SendResult(outcome=Outcome.DELIVERED)

    async def _person_columns(self, connection: _Connection) -> dict[str, set[str]]:
        """The schema's tables, each with those of its columns that can name a person."""
        rows = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = $1 AND column_name = ANY($2::text[])",
            self.config.schema_name,
            ["id", "user_id", "anonymous_id", "previous_id", "email"],
        )
        found: dict[str, set[str]] = {}
        for table, column in rows:
            found.setdefault(table, set()).add(column)
        return found

    async def _forget(
        self,
        connection: _Connection,
        table: str,
        columns: set[str],
        subject: DeletionSubject,
        ids: list[str],
        emails: list[str],
    ) -> None:
        tests: list[str] = []
        values: list[list[str]] = []

        def test(sql: str, value: list[str]) -> None:
            if value:
                values.append(value)
                tests.append(sql.format(f"${len(values)}::text[]"))

        for column in ("user_id", "anonymous_id", "previous_id"):
            if column in columns:
                test(f"{column} = ANY({{}})", ids)
        if table == "users" and "id" in columns:
            test("id = ANY({})", list(subject.user_ids))
        if "email" in columns:
            test("lower(email::text) = ANY({})", emails)
        if tests:
            await connection.execute(
                f'DELETE FROM "{self.config.schema_name}"."{table}" WHERE {" OR ".join(tests)}',
                *values,
            )

    async def _connect(self) -> asyncpg.Pool:
        if self._pool is None:
            url = self.config.url.get_secret_value().replace(
                "postgresql+asyncpg://", "postgresql://"
            )
            self._pool = await asyncpg.create_pool(url, min_size=0, max_size=4)
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _load(self, connection: _Connection, table: str, rows: list[dict[str, Any]]) -> None:
        columns = await self._ensure(connection, table, rows)
        names = sorted({name for row in rows for name in row if name in columns})
        target = f'"{self.config.schema_name}"."{table}"'
        quoted = ", ".join(f'"{name}"' for name in names)
        params = ", ".join(f"${n}" for n in range(1, len(names) + 1))
        if table == "users":
            updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n != "id")
            conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        else:
            conflict = "DO NOTHING"
        values = [
            [
                _converted(row[name], columns[name]) if row.get(name) is not None else None
                for name in names
            ]
            for row in rows
        ]
        await connection.executemany(
            f"INSERT INTO {target} ({quoted}) VALUES ({params}) ON CONFLICT (id) {conflict}", values
        )

    async def _ensure(
        self, connection: _Connection, table: str, rows: list[dict[str, Any]]
    ) -> dict[str, str]:
        """The table's columns (name -> type), after creating the table and any new column."""
        known = self._columns.get(table)
        wanted: dict[str, str] = {}
        for row in rows:
            for name, value in row.items():
                if value is not None and name not in wanted:
                    wanted[name] = "timestamptz" if name in _TIMES else _type_of(value)
        if known is not None and wanted.keys() <= known.keys():
            return known
        schema = self.config.schema_name
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{schema}.{table}")
        await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        base = ", ".join(f'"{name}" {kind}' for name, kind in _BASE.items())
        await connection.execute(f'CREATE TABLE IF NOT EXISTS "{schema}"."{table}" ({base})')
        known = await self._read_columns(connection, table)
        for name, kind in wanted.items():
            if name not in known:
                await connection.execute(
                    f'ALTER TABLE "{schema}"."{table}" ADD COLUMN IF NOT EXISTS "{name}" {kind}'
                )
                known[name] = kind
        self._columns[table] = known
        return known

    async def _read_columns(self, connection: _Connection, table: str) -> dict[str, str]:
        rows = await connection.fetch(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = $1 AND table_name = $2",
            self.config.schema_name,
            table,
        )
        aliases = {"timestamp with time zone": "timestamptz"}
        return {row[0]: aliases.get(row[1], row[1]) for row in rows}
