"""Tracking plans, their versions and their sources: each function owns its transaction and
returns plain JSON-ready values (what the API and the CLI print).

>>> await create_plan(engine, workspace="default", document={"name": "Web", "events": []})
{'slug': 'web', 'name': 'Web', 'version': 1, ...}
>>> await connect_source(engine, workspace="default", plan="web", source_id=1,
...                      settings={"violations": "flag"})

Every change of a plan's document makes a new version; the processor validates each source's
messages against the newest version of its plan from its next batch on.
"""

from __future__ import annotations

import re
from typing import Any, cast

import msgspec
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.protocols import store
from headwater.protocols.diff import diff_plans
from headwater.protocols.formats import Format, dump, from_csv, load
from headwater.protocols.plan import (
    PlanDocument,
    PlanError,
    parse_enforcement,
    parse_plan,
    plan_to_dict,
)
from headwater.protocols.views import (
    ConnectionView,
    PlanDiffView,
    PlanView,
    PlanWithDocumentView,
    VersionView,
)
from headwater.spec import format_timestamp
from headwater.storage import Transaction, connected, transaction

__all__ = [
    "connect_source",
    "create_plan",
    "delete_plan",
    "diff",
    "disconnect_source",
    "export_plan",
    "get_plan",
    "import_plan",
    "list_connections",
    "list_plans",
    "read_document",
    "require_source",
    "update_plan",
    "versions",
]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _slug_of(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63] or "plan"


def _plan(row: Row[Any]) -> PlanView:
    return {
        "slug": row.slug,
        "name": row.name,
        "version": row.version,
        "sources": list(row.sources),
        "created_at": format_timestamp(row.created_at),
        "updated_at": format_timestamp(row.updated_at),
    }


def _document(raw: Any) -> PlanDocument:
    try:
        return parse_plan(raw)
    except PlanError as error:
        raise BadRequest("invalid_plan", str(error)) from None


def read_document(text: str, format: Format, *, name: str | None = None) -> dict[str, Any]:
    """A plan document from a JSON, YAML or CSV file's text (CSV needs ``name``); raises
    :class:`BadRequest` (``invalid_plan``)."""
    try:
        if format == "csv":
            if not name:
                raise PlanError("a CSV plan needs a name")
            return from_csv(text, name=name)
        document = load(text, format)
    except PlanError as error:
        raise BadRequest("invalid_plan", str(error)) from None
    if isinstance(document, dict) and name:
        document["name"] = name
    return plan_to_dict(_document(document))


async def _plan_row(
    connection: Transaction, workspace: int, slug: str, *, for_update: bool = False
) -> Row[Any]:
    row = await store.plan_by_slug(connection, workspace, slug, for_update=for_update)
    if row is None:
        raise NotFound("plan_not_found", f"no tracking plan {slug!r}")
    return row


async def _version_document(connection: Transaction, plan_id: int, number: int) -> Any:
    row = await store.version(connection, plan_id, number)
    if row is None:
        raise NotFound("version_not_found", f"the plan has no version {number}")
    return row.document


async def list_plans(engine: AsyncEngine, *, workspace: str) -> list[PlanView]:
    async with connected(engine) as connection:
        found = await store.plans(connection, await workspaces.workspace_id(connection, workspace))
    return [_plan(row) for row in found]


async def create_plan(
    engine: AsyncEngine,
    *,
    workspace: str,
    document: Any,
    slug: str | None = None,
    note: str = "",
) -> PlanView:
    """A new plan at version 1; 409 when the slug is taken, 400 on an invalid document."""
    plan = _document(document)
    slug = slug or _slug_of(plan.name)
    if not _SLUG.match(slug):
        raise BadRequest("invalid_slug", "a plan slug is lowercase letters, digits and '-'")
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        plan_id = await store.insert_plan(connection, workspace_id, slug, plan.name)
        if not plan_id:
            raise Conflict("plan_exists", f"a tracking plan {slug!r} exists already")
        await store.insert_version(connection, plan_id, 1, plan_to_dict(plan), note)
        return _plan(await _plan_row(connection, workspace_id, slug))


async def update_plan(
    engine: AsyncEngine, *, workspace: str, slug: str, document: Any, note: str = ""
) -> PlanView:
    """Store ``document`` as the plan's next version (none when it equals the current one)."""
    plan = plan_to_dict(_document(document))
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        row = await _plan_row(connection, workspace_id, slug, for_update=True)
        if await _version_document(connection, row.id, row.version) != plan:
            await store.insert_version(connection, row.id, row.version + 1, plan, note)
        return _plan(await _plan_row(connection, workspace_id, slug))


async def import_plan(
    engine: AsyncEngine, *, workspace: str, document: dict[str, Any], slug: str | None = None
) -> PlanView:
    """Create the plan, or add a version when ``slug`` (or the name's slug) exists."""
    slug = slug or _slug_of(str(document.get("name", "")))
    async with connected(engine) as connection:
        exists = await store.plan_by_slug(
            connection, await workspaces.workspace_id(connection, workspace), slug
        )
    if exists is None:
        return await create_plan(
            engine, workspace=workspace, document=document, slug=slug, note="imported"
        )
    return await update_plan(
        engine, workspace=workspace, slug=slug, document=document, note="imported"
    )


async def get_plan(
    engine: AsyncEngine, *, workspace: str, slug: str, version: int | None = None
) -> PlanWithDocumentView:
    """The plan with the document of ``version`` (default: the newest)."""
    async with connected(engine) as connection:
        row = await _plan_row(
            connection, await workspaces.workspace_id(connection, workspace), slug
        )
        number = row.version if version is None else version
        document = await _version_document(connection, row.id, number)
    return {**_plan(row), "shown_version": number, "document": document}


async def delete_plan(engine: AsyncEngine, *, workspace: str, slug: str) -> None:
    """Delete the plan and its versions; its sources are no longer validated."""
    async with transaction(engine) as connection:
        row = await _plan_row(
            connection, await workspaces.workspace_id(connection, workspace), slug
        )
        await store.delete_plan(connection, row.id)


async def versions(engine: AsyncEngine, *, workspace: str, slug: str) -> list[VersionView]:
    async with connected(engine) as connection:
        row = await _plan_row(
            connection, await workspaces.workspace_id(connection, workspace), slug
        )
        found = await store.versions(connection, row.id)
    return [
        {
            "version": v.version,
            "note": v.note,
            "events": v.events,
            "created_at": format_timestamp(v.created_at),
        }
        for v in found
    ]


async def diff(
    engine: AsyncEngine, *, workspace: str, slug: str, before: int, after: int | None = None
) -> PlanDiffView:
    """What changed from version ``before`` to ``after`` (default: the newest)."""
    async with connected(engine) as connection:
        row = await _plan_row(
            connection, await workspaces.workspace_id(connection, workspace), slug
        )
        after = row.version if after is None else after
        old = await _version_document(connection, row.id, before)
        new = await _version_document(connection, row.id, after)
    changes = diff_plans(parse_plan(old), parse_plan(new))
    return cast(PlanDiffView, {"from": before, "to": after, **changes})


async def export_plan(
    engine: AsyncEngine, *, workspace: str, slug: str, format: Format, version: int | None = None
) -> str:
    found = await get_plan(engine, workspace=workspace, slug=slug, version=version)
    return dump(parse_plan(found["document"]), format)


def _connection(row: Row[Any]) -> ConnectionView:
    return {
        "source_id": row.source_id,
        "plan": row.plan,
        "plan_version": row.version,
        "settings": msgspec.to_builtins(parse_enforcement(row.settings)),
        "revision": row.revision,
        "connected_at": format_timestamp(row.connected_at),
    }


async def require_source(connection: Transaction, workspace_id: int, source_id: int) -> None:
    """404 unless ``source_id`` belongs to the workspace."""
    if await workspaces.source_workspace_id(connection, source_id) != workspace_id:
        raise NotFound("source_not_found", f"no source {source_id} in this workspace")


async def connect_source(
    engine: AsyncEngine,
    *,
    workspace: str,
    plan: str,
    source_id: int,
    settings: Any = None,
) -> ConnectionView:
    """Validate ``source_id``'s messages against ``plan`` with ``settings`` (fields left out
    take Segment's defaults: allow); replaces the source's previous plan or settings."""
    try:
        enforcement = parse_enforcement(settings)
    except PlanError as error:
        raise BadRequest("invalid_settings", str(error)) from None
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        row = await _plan_row(connection, workspace_id, plan)
        await require_source(connection, workspace_id, source_id)
        await store.upsert_connection(
            connection, source_id, row.id, msgspec.to_builtins(enforcement)
        )
        found = await store.connection_of(connection, source_id)
        assert found is not None
        return _connection(found)


async def disconnect_source(engine: AsyncEngine, *, workspace: str, source_id: int) -> None:
    async with transaction(engine) as connection:
        await require_source(
            connection, await workspaces.workspace_id(connection, workspace), source_id
        )
        if not await store.delete_connection(connection, source_id):
            raise NotFound("not_connected", f"source {source_id} has no tracking plan")


async def list_connections(
    engine: AsyncEngine, *, workspace: str, source_id: int | None = None
) -> list[ConnectionView]:
    """The sources with a plan, or the one source's connection (404 when it has none)."""
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        if source_id is None:
            return [
                _connection(row) for row in await store.connections_of(connection, workspace_id)
            ]
        await require_source(connection, workspace_id, source_id)
        row = await store.connection_of(connection, source_id)
    if row is None:
        raise NotFound("not_connected", f"source {source_id} has no tracking plan")
    return [_connection(row)]
