"""The tables declared in each capability's ``tables`` module are the tables the migrations
create: same columns, types, collations, nullability, defaults, keys, constraints and indexes.
A drift fails here; fix the declaration (the migrations are what databases have).

Two comparisons: alembic's ``compare_metadata`` against the migrated database, and, for what
it does not see (collations, partial, expression and covering indexes, check constraints),
PostgreSQL's own catalog of the migrated database beside that of a database created from the
declarations. Not compared: the queue's autovacuum storage parameters (``deliveries``, said in
``headwater.delivery.tables``)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import headwater
from headwater.storage import create_engine
from headwater.storage.tables import metadata
from tests.conftest import scratch_database


def declared_tables_modules() -> list[str]:
    """Every ``headwater.<package>.tables`` module, imported (each declares on ``metadata``)."""
    names = [
        info.name
        for info in pkgutil.walk_packages(headwater.__path__, "headwater.")
        if info.name.rsplit(".", 1)[-1] == "tables" and ".migrations" not in info.name
    ]
    for name in names:
        importlib.import_module(name)
    return names


def _is_view(name: str) -> bool:
    table = metadata.tables.get(name)
    return table is not None and bool(table.info.get("view"))


_PARTITION = re.compile(
    r"(events|rejections|quarantine|dead_letters|journey_steps)_(p\d{8}|default)"
)


def _include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """Views are compared apart (autogenerate reflects tables only); alembic's own table is
    not the application's; the day partitions (of the log and the smaller stores retention
    drops by day) are made at run time."""
    if kind == "table":
        return (
            name != "alembic_version"
            and not (name is not None and _is_view(name))
            and not (name is not None and _PARTITION.fullmatch(name))
        )
    return True


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_object": _include,
        },
    )
    return list(compare_metadata(context, metadata))


async def test_declarations_match_the_migrated_database(engine: AsyncEngine) -> None:
    assert len(declared_tables_modules()) >= 9
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_every_migrated_table_and_view_is_declared(engine: AsyncEngine) -> None:
    declared_tables_modules()
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT table_name, table_type FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
                # day partitions are made at run time (headwater.storage.days)
                " AND NOT EXISTS (SELECT FROM pg_class c"
                "                 WHERE c.relname = table_name AND c.relispartition)"
            )
        )
        found = {name: kind == "VIEW" for name, kind in rows}
    assert found == {name: bool(t.info.get("view")) for name, t in metadata.tables.items()}


async def test_views_have_the_declared_columns(engine: AsyncEngine) -> None:
    declared_tables_modules()
    views = [t for t in metadata.tables.values() if t.info.get("view")]
    assert views
    async with engine.connect() as connection:
        for view in views:
            rows = await connection.execute(
                text(
                    "SELECT column_name, data_type, collation_name"
                    " FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = :name"
                    " ORDER BY ordinal_position"
                ),
                {"name": view.name},
            )
            found = [(name, kind, collation) for name, kind, collation in rows]
            declared = [
                (
                    c.name,
                    c.type.compile(dialect=connection.dialect).lower(),
                    getattr(c.type, "collation", None),
                )
                for c in view.columns
            ]
            # information_schema spells the type without its collation
            assert [(n, k.split(" collate ")[0], c) for n, k, c in declared] == found, view.name


_CATALOG = {
    "columns": (
        "SELECT table_name, ordinal_position, column_name, data_type, udt_name, is_nullable,"
        " column_default, collation_name, is_identity, identity_generation"
        " FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name <> 'alembic_version' AND table_name = ANY(:tables)"
        " ORDER BY table_name, ordinal_position"
    ),
    "constraints": (
        "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE n.nspname = 'public' AND c.conrelid::regclass::text = ANY(:tables)"
        " ORDER BY 1, 2"
    ),
    "indexes": (
        "SELECT tablename, indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = 'public' AND tablename = ANY(:tables) ORDER BY 1, 2"
    ),
}


async def _catalog(connection: AsyncConnection, tables: list[str]) -> dict[str, list[Any]]:
    return {
        what: [tuple(row) for row in await connection.execute(text(sql), {"tables": tables})]
        for what, sql in _CATALOG.items()
    }


async def test_the_catalog_of_the_declarations_is_the_migrated_one(
    engine: AsyncEngine, postgres_url: str
) -> None:
    declared_tables_modules()
    tables = [t for t in metadata.sorted_tables if not t.info.get("view")]
    names = [t.name for t in tables]
    async with engine.connect() as connection:
        migrated = await _catalog(connection, names)
    async with scratch_database(postgres_url, "hw_declared", template=None) as url:
        created = create_engine(url, pool_size=1)
        try:
            async with created.begin() as connection:
                await connection.run_sync(metadata.create_all, tables=tables)
            async with created.connect() as connection:
                declared = await _catalog(connection, names)
        finally:
            await created.dispose()
    for what in _CATALOG:
        assert declared[what] == migrated[what], what
