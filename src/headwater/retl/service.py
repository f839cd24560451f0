"""Reverse ETL's management operations: models (create, change, preview, delete) and syncs
(create, change, run now, runs, delete), each owning its transaction.

A model's URL is sealed at rest with the destinations' secret box (``HEADWATER_SECRET_KEY``)
and shown with its password masked; errors from its database are scrubbed of it
(:mod:`headwater.retl.source`).

>>> view = await create_model(engine, settings, workspace="default", name="Customers",
...                           connection="postgresql://reader:pw@db/shop",
...                           query="SELECT id, email FROM customers", primary_key="id")
>>> view["connection"]
'postgresql://reader:***@db/shop'
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import destinations, workspaces
from headwater.destinations import load_box
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.retl import store
from headwater.retl.guard import refuse_own_database
from headwater.retl.model import Mapping, check_sync
from headwater.retl.records import ModelRecord, SyncRecord
from headwater.retl.schedule import Schedule, check_schedule, next_run
from headwater.retl.source import SourceDatabase, SourceError, shown_url
from headwater.retl.views import (
    ModelPreviewView,
    ModelView,
    RunView,
    SyncView,
    model_view,
    run_view,
    sync_view,
)
from headwater.settings import Settings
from headwater.storage import Transaction

__all__ = [
    "SOURCE_NAME",
    "create_model",
    "create_sync",
    "delete_model",
    "delete_sync",
    "get_model",
    "get_run",
    "get_sync",
    "list_models",
    "list_runs",
    "list_syncs",
    "preview",
    "preview_model",
    "run_now",
    "update_model",
    "update_sync",
]

SOURCE_NAME = "Reverse ETL"
"""The source a sync's messages come from when none is named (created on first use)."""


async def _workspace(tx: Transaction, workspace: str) -> int:
    return await workspaces.workspace_id(tx, workspace)


async def _model(tx: Transaction, workspace_id: int, model_id: int) -> ModelRecord:
    row = await store.get_model(tx, workspace_id, model_id)
    if row is None:
        raise NotFound("model_not_found", f"no model {model_id} in this workspace")
    return ModelRecord.of(row)


async def _sync(tx: Transaction, workspace_id: int, sync_id: int) -> SyncRecord:
    row = await store.get_sync(tx, workspace_id, sync_id)
    if row is None:
        raise NotFound("sync_not_found", f"no sync {sync_id} in this workspace")
    return SyncRecord.of(row)


def _model_values(
    name: str, connection: Any, query: str, primary_key: str, cursor_column: str | None
) -> dict[str, Any]:
    workspaces.check_name(name, what="a model")
    if not query.strip():
        raise BadRequest("invalid_model", "the model needs a SQL query")
    if not primary_key.strip():
        raise BadRequest("invalid_model", "the model needs a primary key column")
    return {
        "name": name,
        "connection": connection,
        "query": query,
        "primary_key": primary_key,
        "cursor_column": cursor_column or None,
    }


async def _checked(engine: AsyncEngine, settings: Settings, url: str) -> str:
    """``url`` as shown (its secrets masked); 400 ``invalid_connection`` when it is not a URL
    or names a database models may not read."""
    try:
        await refuse_own_database(
            url, own=engine.url, allow_local=settings.retl_allow_local_databases
        )
        return shown_url(url)
    except SourceError as error:
        raise BadRequest("invalid_connection", str(error)) from None


def _sealed(box: Any, url: str, shown: str) -> dict[str, Any]:
    return {"url": box.seal({"url": url}, {"url": False})["url"], "shown": shown}


async def create_model(
    engine: AsyncEngine,
    settings: Settings,
    *,
    workspace: str,
    name: str,
    connection: str,
    query: str,
    primary_key: str,
    cursor_column: str | None = None,
) -> ModelView:
    shown = await _checked(engine, settings, connection)
    try:
        async with store.begun(engine) as tx:
            workspace_id = await _workspace(tx, workspace)
            box = await load_box(tx, settings.secret_key)
            values = _model_values(
                name, _sealed(box, connection, shown), query, primary_key, cursor_column
            )
            model_id = await store.insert_model(tx, workspace_id=workspace_id, values=values)
            return model_view(await _model(tx, workspace_id, model_id))
    except asyncpg.UniqueViolationError:
        raise Conflict("model_exists", f"a model named {name!r} exists already") from None


async def update_model(
    engine: AsyncEngine,
    settings: Settings,
    *,
    workspace: str,
    model_id: int,
    changes: dict[str, Any],
) -> ModelView:
    """Change any of name, connection (a new URL; left out, the stored one stays), query,
    primary_key, cursor_column."""
    unknown = sorted(set(changes) - {"name", "connection", "query", "primary_key", "cursor_column"})
    if unknown:
        raise BadRequest("invalid_change", f"unknown fields: {', '.join(unknown)}")
    new_url = changes.get("connection")
    shown = await _checked(engine, settings, new_url) if new_url else None
    try:
        async with store.begun(engine) as tx:
            workspace_id = await _workspace(tx, workspace)
            model = await _model(tx, workspace_id, model_id)
            connection = model.connection
            if new_url and shown is not None:
                box = await load_box(tx, settings.secret_key)
                connection = _sealed(box, new_url, shown)
            values = _model_values(
                changes.get("name") or model.name,
                connection,
                changes.get("query") or model.query,
                changes.get("primary_key") or model.primary_key,
                changes.get("cursor_column", model.cursor_column),
            )
            await store.update_model(tx, model_id, values)
            return model_view(await _model(tx, workspace_id, model_id))
    except asyncpg.UniqueViolationError:
        raise Conflict("model_exists", "a model with this name exists already") from None


async def get_model(engine: AsyncEngine, *, workspace: str, model_id: int) -> ModelView:
    async with store.begun(engine) as tx:
        return model_view(await _model(tx, await _workspace(tx, workspace), model_id))


async def list_models(engine: AsyncEngine, *, workspace: str) -> list[ModelView]:
    async with store.begun(engine) as tx:
        rows = await store.list_models(tx, await _workspace(tx, workspace))
    return [model_view(ModelRecord.of(row)) for row in rows]


async def delete_model(engine: AsyncEngine, *, workspace: str, model_id: int) -> ModelView:
    """Delete a model no sync sends (409 ``model_in_use`` naming them otherwise)."""
    async with store.begun(engine) as tx:
        model = await _model(tx, await _workspace(tx, workspace), model_id)
        users = await store.model_in_use(tx, model_id)
        if users:
            raise Conflict(
                "model_in_use", f"delete the syncs that send this model first: {', '.join(users)}"
            )
        await store.delete_model(tx, model_id)
    return model_view(model)


async def preview(
    engine: AsyncEngine,
    settings: Settings,
    *,
    connection: str,
    query: str,
    primary_key: str | None,
    limit: int,
) -> ModelPreviewView:
    """Run ``query`` on ``connection`` with a limit: its columns and first rows. 400
    ``model_query_failed`` with the database's reason (the password scrubbed) when it fails;
    ``problems`` says what would stop a sync (the primary key missing, repeated or empty)."""
    limit = max(1, min(limit, settings.retl_preview_rows))
    await _checked(engine, settings, connection)
    try:
        database = SourceDatabase(connection, timeout=settings.retl_connect_timeout_seconds)
        try:
            columns, rows = await database.preview(query, limit=limit)
        finally:
            await database.close()
    except SourceError as error:
        raise BadRequest("model_query_failed", str(error)) from None
    problems: list[str] = []
    if primary_key and primary_key not in columns:
        problems.append(f"the query returns no column {primary_key!r} for the primary key")
    elif primary_key:
        keys = [row[columns.index(primary_key)] for row in rows]
        if any(key is None for key in keys):
            problems.append("some rows have an empty primary key: they cannot be synced")
        if len({str(k) for k in keys}) < len(keys):
            problems.append("the primary key repeats: each row needs its own")
    return {
        "columns": columns,
        "rows": [msgspec.to_builtins(list(row)) for row in rows],
        "problems": problems,
    }


async def preview_model(
    engine: AsyncEngine, settings: Settings, *, workspace: str, model_id: int, limit: int
) -> ModelPreviewView:
    """:func:`preview` of a saved model, with its stored URL."""
    async with store.begun(engine) as tx:
        model = await _model(tx, await _workspace(tx, workspace), model_id)
        box = await load_box(tx, settings.secret_key)
    return await preview(
        engine,
        settings,
        connection=box.open(model.connection)["url"],
        query=model.query,
        primary_key=model.primary_key,
        limit=limit,
    )


async def _sync_values(
    tx: Transaction, workspace: str, workspace_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    """The sync's columns, checked: its model, destination and source are the workspace's,
    and its target, mode, mapping and schedule make sense together."""
    workspaces.check_name(values["name"], what="a sync")
    model = await _model(tx, workspace_id, values["model_id"])
    try:
        mapping = msgspec.convert(values.get("mapping") or {}, Mapping)
        schedule = msgspec.convert(values.get("schedule") or {}, Schedule)
    except msgspec.ValidationError as error:
        raise BadRequest("invalid_sync", f"mapping or schedule: {error}") from None
    check_sync(
        target=values["target"],
        message_type=values["message_type"],
        mode=values["mode"],
        mapping=mapping,
        has_cursor=model.cursor_column is not None,
    )
    check_schedule(schedule)
    destination_id = values.get("destination_id")
    if values["target"] == "destination":
        if destination_id is None:
            raise BadRequest("invalid_sync", "a sync to a destination names the destination")
        await destinations.find(tx, workspace, destination_id)
    else:
        destination_id = None
    source_id = values["source_id"]
    if await workspaces.source_workspace_id(tx, source_id) != workspace_id:
        raise NotFound("source_not_found", f"no source {source_id} in this workspace")
    return {
        **values,
        "mapping": msgspec.to_builtins(mapping),
        "schedule": msgspec.to_builtins(schedule),
        "destination_id": destination_id,
        "source_id": source_id,
        "next_run_at": next_run(schedule, after=datetime.now(UTC)),
    }


async def _default_source(engine: AsyncEngine, workspace: str) -> int:
    """The workspace's ``Reverse ETL`` source, created on first use."""
    for source in await workspaces.list_sources(engine, workspace=workspace):
        if source.name == SOURCE_NAME:
            return source.id
    return (await workspaces.create_source(engine, name=SOURCE_NAME, workspace=workspace)).id


async def _sync_of(tx: Transaction, workspace_id: int, sync_id: int) -> SyncView:
    sync = await _sync(tx, workspace_id, sync_id)
    runs = await store.list_runs(tx, sync_id, limit=1)
    return sync_view(sync, run_view(runs[0]) if runs else None)


async def create_sync(engine: AsyncEngine, *, workspace: str, values: dict[str, Any]) -> SyncView:
    """``values``: name, model_id, target, message_type, mode, mapping, schedule, enabled,
    destination_id (for a destination), source_id (default: the workspace's ``Reverse ETL``
    source, created on first use)."""
    if not values.get("source_id"):
        values = {**values, "source_id": await _default_source(engine, workspace)}
    try:
        async with store.begun(engine) as tx:
            workspace_id = await _workspace(tx, workspace)
            checked = await _sync_values(tx, workspace, workspace_id, values)
            sync_id = await store.insert_sync(tx, workspace_id=workspace_id, values=checked)
            return await _sync_of(tx, workspace_id, sync_id)
    except asyncpg.UniqueViolationError:
        raise Conflict("sync_exists", f"a sync named {values['name']!r} exists already") from None


async def update_sync(
    engine: AsyncEngine, *, workspace: str, sync_id: int, changes: dict[str, Any]
) -> SyncView:
    """Change any field of :func:`create_sync`'s; the others keep their values."""
    fields = {
        "name",
        "model_id",
        "target",
        "message_type",
        "mode",
        "mapping",
        "schedule",
        "enabled",
        "destination_id",
        "source_id",
    }
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise BadRequest("invalid_change", f"unknown fields: {', '.join(unknown)}")
    try:
        async with store.begun(engine) as tx:
            workspace_id = await _workspace(tx, workspace)
            sync = await _sync(tx, workspace_id, sync_id)
            current = {name: msgspec.to_builtins(getattr(sync, name)) for name in fields}
            checked = await _sync_values(tx, workspace, workspace_id, {**current, **changes})
            await store.update_sync(tx, sync_id, checked)
            return await _sync_of(tx, workspace_id, sync_id)
    except asyncpg.UniqueViolationError:
        raise Conflict("sync_exists", "a sync with this name exists already") from None


async def get_sync(engine: AsyncEngine, *, workspace: str, sync_id: int) -> SyncView:
    async with store.begun(engine) as tx:
        return await _sync_of(tx, await _workspace(tx, workspace), sync_id)


async def list_syncs(engine: AsyncEngine, *, workspace: str) -> list[SyncView]:
    async with store.begun(engine) as tx:
        workspace_id = await _workspace(tx, workspace)
        return [
            await _sync_of(tx, workspace_id, row["id"])
            for row in await store.list_syncs(tx, workspace_id)
        ]


async def delete_sync(engine: AsyncEngine, *, workspace: str, sync_id: int) -> SyncView:
    """Delete a sync with its runs and state (what was sent stays where it went)."""
    async with store.begun(engine) as tx:
        view = await _sync_of(tx, await _workspace(tx, workspace), sync_id)
        await store.delete_sync(tx, sync_id)
    return view


async def run_now(engine: AsyncEngine, *, workspace: str, sync_id: int) -> SyncView:
    """Ask for a run: the next free ``reverse-etl`` task takes it (a disabled sync: 409)."""
    async with store.begun(engine) as tx:
        workspace_id = await _workspace(tx, workspace)
        sync = await _sync(tx, workspace_id, sync_id)
        if not sync.enabled:
            raise Conflict("sync_disabled", "enable the sync to run it")
        await store.request_run(tx, sync_id)
        return await _sync_of(tx, workspace_id, sync_id)


async def list_runs(
    engine: AsyncEngine, *, workspace: str, sync_id: int, limit: int = 50
) -> list[RunView]:
    async with store.begun(engine) as tx:
        await _sync(tx, await _workspace(tx, workspace), sync_id)
        return [run_view(row) for row in await store.list_runs(tx, sync_id, limit=limit)]


async def get_run(engine: AsyncEngine, *, workspace: str, sync_id: int, run_id: int) -> RunView:
    async with store.begun(engine) as tx:
        await _sync(tx, await _workspace(tx, workspace), sync_id)
        row = await store.get_run(tx, sync_id, run_id)
    if row is None:
        raise NotFound("run_not_found", f"no run {run_id} of sync {sync_id}")
    return run_view(row)
