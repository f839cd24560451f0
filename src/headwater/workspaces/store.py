"""Queries on workspaces, sources and Profile API access tokens. Each takes a connection;
none commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as upsert

from headwater.storage import Transaction
from headwater.workspaces.model import Source, Workspace
from headwater.workspaces.tables import access_tokens, sources, workspace_keys, workspaces

__all__ = [
    "access_token_workspace",
    "count_workspaces",
    "foreign_sources",
    "get_source",
    "identifier_key",
    "insert_access_token",
    "insert_source",
    "insert_workspace",
    "list_sources",
    "list_workspaces",
    "source_by_write_key",
    "source_workspace_id",
    "update_source",
    "workspace_id",
    "workspace_secrets",
]

_source_columns = (*sources.c, workspaces.c.slug.label("workspace"))
_sources_join = sources.join(workspaces, sources.c.workspace_id == workspaces.c.id)


def _source(row: Row[Any]) -> Source:
    return Source(
        id=row.id,
        workspace_id=row.workspace_id,
        workspace=row.workspace,
        name=row.name,
        write_key=row.write_key,
        kind=row.kind,
        strict=row.strict,
        enabled=row.enabled,
        created_at=row.created_at,
    )


def _workspace(row: Row[Any]) -> Workspace:
    return Workspace(id=row.id, slug=row.slug, name=row.name, created_at=row.created_at)


async def count_workspaces(connection: Transaction) -> int:
    return int(await connection.scalar(select(func.count()).select_from(workspaces)) or 0)


async def insert_workspace(connection: Transaction, *, slug: str, name: str) -> Workspace:
    row = (
        await connection.execute(
            insert(workspaces)
            .values(slug=slug, name=name, created_at=func.now())
            .returning(*workspaces.c)
        )
    ).one()
    return _workspace(row)


async def workspace_slug(connection: Transaction, workspace_id: int) -> str | None:
    """The slug of the workspace ``workspace_id``, None when there is none."""
    found: str | None = await connection.scalar(
        select(workspaces.c.slug).where(workspaces.c.id == workspace_id)
    )
    return found


async def workspace_id(connection: Transaction, slug: str) -> int | None:
    """The id of the workspace ``slug``, in one round trip: on the asyncpg connection, which
    sends no BEGIN of its own (a workspace's id never changes, so reading it before the caller's
    transaction began, if it had not, reads the same)."""
    found: int | None = await connection.driver.fetchval(_WORKSPACE_ID, slug)
    return found


_WORKSPACE_ID = "SELECT id FROM workspaces WHERE slug = $1"


async def source_workspace_id(connection: Transaction, source_id: int) -> int | None:
    found = await connection.scalar(
        text("SELECT workspace_id FROM sources WHERE id = :id"), {"id": source_id}
    )
    return None if found is None else int(found)


async def foreign_sources(
    connection: Transaction, workspace_id: int, source_ids: list[int]
) -> list[int]:
    """The ids among ``source_ids`` that are no source of the workspace, in their order."""
    if not source_ids:
        return []
    owned = await connection.scalars(
        text("SELECT id FROM sources WHERE workspace_id = :workspace AND id = ANY(:ids)"),
        {"workspace": workspace_id, "ids": [i for i in source_ids if -(2**31) <= i < 2**31]},
    )
    mine = set(owned)
    return [i for i in source_ids if i not in mine]


async def get_workspace(connection: Transaction, slug: str) -> Workspace | None:
    row = (await connection.execute(select(workspaces).where(workspaces.c.slug == slug))).first()
    return _workspace(row) if row else None


async def list_workspaces(connection: Transaction) -> list[Workspace]:
    rows = await connection.execute(select(workspaces).order_by(workspaces.c.id))
    return [_workspace(row) for row in rows]


async def insert_source(
    connection: Transaction,
    *,
    workspace_id: int,
    name: str,
    write_key: str,
    kind: str,
    strict: bool,
) -> int:
    source_id = await connection.scalar(
        insert(sources)
        .values(
            workspace_id=workspace_id,
            name=name,
            write_key=write_key,
            kind=kind,
            strict=strict,
            enabled=True,
            created_at=func.now(),
        )
        .returning(sources.c.id)
    )
    return int(source_id)


async def get_source(connection: Transaction, source_id: int) -> Source | None:
    row = (
        await connection.execute(
            select(*_source_columns).select_from(_sources_join).where(sources.c.id == source_id)
        )
    ).first()
    return _source(row) if row else None


async def source_by_write_key(connection: Transaction, write_key: str) -> Source | None:
    row = (
        await connection.execute(
            select(*_source_columns)
            .select_from(_sources_join)
            .where(sources.c.write_key == write_key)
        )
    ).first()
    return _source(row) if row else None


async def list_sources(connection: Transaction, *, workspace: str | None = None) -> list[Source]:
    query = select(*_source_columns).select_from(_sources_join).order_by(sources.c.id)
    if workspace is not None:
        query = query.where(workspaces.c.slug == workspace)
    return [_source(row) for row in await connection.execute(query)]


async def update_source(connection: Transaction, source_id: int, values: dict[str, Any]) -> None:
    await connection.execute(update(sources).where(sources.c.id == source_id).values(**values))


async def insert_access_token(
    connection: Transaction, *, workspace_id: int, name: str, token_sha256: str
) -> int:
    token_id = await connection.scalar(
        insert(access_tokens)
        .values(
            workspace_id=workspace_id, name=name, token_sha256=token_sha256, created_at=func.now()
        )
        .returning(access_tokens.c.id)
    )
    return int(token_id)


async def access_token_workspace(connection: Transaction, token_sha256: str) -> str | None:
    """The slug of the workspace an access token belongs to."""
    slug: str | None = await connection.scalar(
        select(workspaces.c.slug)
        .select_from(
            access_tokens.join(workspaces, access_tokens.c.workspace_id == workspaces.c.id)
        )
        .where(access_tokens.c.token_sha256 == token_sha256)
    )
    return slug


async def identifier_key(tx: Transaction, workspace_id: int, new: bytes) -> bytes:
    """The workspace's identifier key, stored as ``new`` when it has none yet (two callers
    racing keep the first one stored)."""
    await tx.execute(
        upsert(workspace_keys)
        .values(workspace_id=workspace_id, identifier_key=new)
        .on_conflict_do_nothing(index_elements=["workspace_id"])
    )
    key = await tx.scalar(
        select(workspace_keys.c.identifier_key).where(workspace_keys.c.workspace_id == workspace_id)
    )
    return bytes(key)


async def workspace_secrets(
    tx: Transaction, workspace_ids: list[int]
) -> list[tuple[int, bytes, bytes | None]]:
    """(workspace id, identifier key, stored PII salt or None) of those workspaces that have a
    key."""
    rows = await tx.execute(
        select(
            workspace_keys.c.workspace_id,
            workspace_keys.c.identifier_key,
            workspace_keys.c.pii_salt,
        ).where(workspace_keys.c.workspace_id.in_(workspace_ids))
    )
    return [
        (
            row.workspace_id,
            bytes(row.identifier_key),
            None if row.pii_salt is None else bytes(row.pii_salt),
        )
        for row in rows
    ]
