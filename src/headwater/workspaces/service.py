"""Workspaces, sources and Profile API access tokens: each function owns its transaction.

>>> first = await bootstrap(engine)
>>> first.source.write_key        # printed by ``headwater serve`` on first start
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from typing import Any

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.errors import BadRequest, Conflict, NotFound
from headwater.storage import connected, transaction
from headwater.workspaces import store
from headwater.workspaces.lookup import workspace_id
from headwater.workspaces.model import Source, SourceKind, Workspace

__all__ = [
    "Bootstrap",
    "access_token_workspace",
    "bootstrap",
    "check_name",
    "create_access_token",
    "create_source",
    "create_workspace",
    "get_source",
    "list_sources",
    "list_workspaces",
    "source_for_write_key",
    "update_source",
]

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_NAME_LIMIT = 200
_CONTROL = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls, surrogates, line/paragraph breaks


def check_name(value: str, *, what: str) -> str:
    """``value`` if it is a usable display name, else 400 ``invalid_name``: 1-200 characters,
    not blank, no control characters (a trailing newline from a pasted name included).

    >>> check_name("Orders hook", what="a destination")
    'Orders hook'
    """
    if (
        not value.strip()
        or len(value) > _NAME_LIMIT
        or any(unicodedata.category(c) in _CONTROL for c in value)
    ):
        raise BadRequest(
            "invalid_name",
            f"{what} needs a name of 1-{_NAME_LIMIT} characters without control characters",
        )
    return value


class Bootstrap(msgspec.Struct, frozen=True, kw_only=True):
    """What the first start created: shown once, so the user can send events right away."""

    workspace: Workspace
    source: Source


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_write_key() -> str:
    return secrets.token_urlsafe(24)


async def bootstrap(engine: AsyncEngine) -> Bootstrap | None:
    """On an empty database, create the default workspace and its source."""
    async with transaction(engine) as connection:
        await connection.connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7210004)")
        if await store.count_workspaces(connection):
            return None
        workspace = await store.insert_workspace(connection, slug="default", name="Default")
        source_id = await store.insert_source(
            connection,
            workspace_id=workspace.id,
            name="default",
            write_key=new_write_key(),
            kind="server",
            strict=False,
        )
        source = await store.get_source(connection, source_id)
        assert source is not None
        return Bootstrap(workspace=workspace, source=source)


async def create_workspace(engine: AsyncEngine, *, slug: str, name: str | None = None) -> Workspace:
    if not _SLUG.fullmatch(slug):  # fullmatch: "$" would let a trailing newline through
        raise BadRequest(
            "invalid_slug", "a workspace slug is 1-63 lowercase letters, digits or '-'"
        )
    if name is not None:
        check_name(name, what="a workspace")
    try:
        async with transaction(engine) as connection:
            return await store.insert_workspace(connection, slug=slug, name=name or slug)
    except IntegrityError:
        raise Conflict("workspace_exists", f"workspace {slug!r} exists already") from None


async def get_workspace(engine: AsyncEngine, slug: str) -> Workspace:
    """The workspace ``slug`` names; 404 ``workspace_not_found`` (the management API's answer
    for every route under an unknown workspace)."""
    async with connected(engine) as connection:
        found = await store.get_workspace(connection, slug)
    if found is None:
        raise NotFound("workspace_not_found", f"no workspace {slug!r}")
    return found


async def list_workspaces(engine: AsyncEngine) -> list[Workspace]:
    async with connected(engine) as connection:
        return await store.list_workspaces(connection)


async def create_source(
    engine: AsyncEngine,
    *,
    name: str,
    workspace: str = "default",
    write_key: str | None = None,
    kind: SourceKind = "server",
    strict: bool = False,
) -> Source:
    """Create a source; a write key is generated unless given."""
    check_name(name, what="a source")
    if write_key is not None and not 8 <= len(write_key) <= 200:
        raise BadRequest("invalid_write_key", "a write key has 8 to 200 characters")
    try:
        async with transaction(engine) as connection:
            source_id = await store.insert_source(
                connection,
                workspace_id=await workspace_id(connection, workspace),
                name=name,
                write_key=write_key or new_write_key(),
                kind=kind,
                strict=strict,
            )
            source = await store.get_source(connection, source_id)
    except IntegrityError:
        raise Conflict(
            "source_exists", "a source with this name or write key exists already"
        ) from None
    assert source is not None
    return source


async def find_source(engine: AsyncEngine, source_id: int) -> Source | None:
    """The source ``source_id`` names, or None."""
    async with connected(engine) as connection:
        return await store.get_source(connection, source_id)


async def get_source(engine: AsyncEngine, source_id: int) -> Source:
    source = await find_source(engine, source_id)
    if source is None:
        raise NotFound("source_not_found", f"no source {source_id}")
    return source


async def list_sources(engine: AsyncEngine, *, workspace: str | None = None) -> list[Source]:
    async with connected(engine) as connection:
        return await store.list_sources(connection, workspace=workspace)


async def update_source(engine: AsyncEngine, source_id: int, **values: Any) -> Source:
    """Change ``name``, ``kind``, ``strict`` or ``enabled`` of a source."""
    allowed = {"name", "kind", "strict", "enabled"}
    unknown = set(values) - allowed
    if unknown:
        raise BadRequest("invalid_field", f"cannot change {', '.join(sorted(unknown))}")
    if values.get("name") is not None:
        check_name(values["name"], what="a source")
    try:
        async with transaction(engine) as connection:
            if await store.get_source(connection, source_id) is None:
                raise NotFound("source_not_found", f"no source {source_id}")
            if values:
                await store.update_source(connection, source_id, values)
            source = await store.get_source(connection, source_id)
    except IntegrityError:
        raise Conflict("source_exists", "a source with this name exists already") from None
    assert source is not None
    return source


async def source_for_write_key(engine: AsyncEngine, write_key: str) -> Source | None:
    async with connected(engine) as connection:
        return await store.source_by_write_key(connection, write_key)


async def create_access_token(engine: AsyncEngine, *, workspace: str, name: str) -> str:
    """A new Profile API access token for ``workspace``; only its hash is kept."""
    check_name(name, what="an access token")
    token = f"hwp_{secrets.token_urlsafe(32)}"
    async with transaction(engine) as connection:
        await store.insert_access_token(
            connection,
            workspace_id=await workspace_id(connection, workspace),
            name=name,
            token_sha256=_sha256(token),
        )
    return token


async def access_token_workspace(engine: AsyncEngine, token: str) -> str | None:
    """The workspace slug an access token opens, or None."""
    async with connected(engine) as connection:
        return await store.access_token_workspace(connection, _sha256(token))
