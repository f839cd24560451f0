"""The hooks capability's SQL. Each function takes a transaction and never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from headwater.hooks.tables import HISTORY, hook_requests, hook_sources
from headwater.storage import Transaction, holds_any, removed

__all__ = [
    "HookRow",
    "find_by_key",
    "forget_requests",
    "get",
    "history",
    "insert_config",
    "insert_request",
    "update_config",
]

HookRow = Row[Any]


async def insert_config(
    tx: Transaction, *, source_id: int, url_key: str, preset: str | None, config: dict[str, Any]
) -> None:
    await tx.execute(
        insert(hook_sources).values(
            source_id=source_id, url_key=url_key, preset=preset, config=config
        )
    )


async def update_config(
    tx: Transaction,
    source_id: int,
    *,
    config: dict[str, Any] | None = None,
    preset: str | None = None,
    url_key: str | None = None,
    now: datetime,
) -> None:
    values: dict[str, Any] = {"updated_at": now}
    if config is not None:
        values.update(config=config, preset=preset)
    if url_key is not None:
        values["url_key"] = url_key
    await tx.execute(
        update(hook_sources).where(hook_sources.c.source_id == source_id).values(**values)
    )


async def get(tx: Transaction, source_id: int, *, lock: bool = False) -> HookRow | None:
    query = select(hook_sources).where(hook_sources.c.source_id == source_id)
    result = await tx.execute(query.with_for_update() if lock else query)
    return result.first()


async def find_by_key(tx: Transaction, url_key: str) -> HookRow | None:
    result = await tx.execute(select(hook_sources).where(hook_sources.c.url_key == url_key))
    return result.first()


async def insert_request(
    tx: Transaction, *, workspace_id: int, source_id: int, entry: dict[str, Any]
) -> int:
    """Add one request to the source's history and drop what is past :data:`HISTORY`."""
    new_id = await tx.scalar(
        insert(hook_requests)
        .values(workspace_id=workspace_id, source_id=source_id, **entry)
        .returning(hook_requests.c.id)
    )
    await tx.execute(
        delete(hook_requests).where(
            hook_requests.c.source_id == source_id, hook_requests.c.id <= int(new_id) - HISTORY
        )
    )
    return int(new_id)


async def history(
    tx: Transaction, source_id: int, *, after: int | None, limit: int
) -> list[Row[Any]]:
    """The source's requests, newest first; with ``after``, only those newer than it."""
    query = select(hook_requests).where(hook_requests.c.source_id == source_id)
    if after is not None:
        query = query.where(hook_requests.c.id > after)
    result = await tx.execute(query.order_by(hook_requests.c.id.desc()).limit(limit))
    return list(result)


_FORGET = (
    "DELETE FROM hook_requests WHERE workspace_id = $1 AND ("
    " EXISTS (SELECT 1 FROM jsonb_array_elements(messages) AS m(v)"
    "  WHERE m.v ->> 'messageId' = ANY($2::text[]))"
    " OR "
    + holds_any("messages", "$3::text[]")
    + " OR "
    + holds_any("headers", "$3::text[]")
    + " OR "
    + holds_any("query", "$3::text[]")
    + " OR EXISTS (SELECT 1 FROM unnest($3::text[]) AS v(value)"
    "  WHERE v.value <> '' AND strpos(lower(body), v.value) > 0))"
)


async def forget_requests(
    tx: Transaction, workspace_id: int, message_ids: Sequence[str], values: Sequence[str]
) -> int:
    """Remove the workspace's recorded webhook requests that made one of ``message_ids`` or
    hold one of ``values`` (a person's identifiers, lower case) in their messages, headers,
    query or body text; the number removed. Each history is bounded, so the workspace's rows
    are read whole."""
    status = await tx.driver.execute(
        _FORGET, workspace_id, sorted(set(message_ids)), sorted(set(values))
    )
    return removed(status)
