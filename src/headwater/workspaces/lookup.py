"""Lookups of workspaces and sources in the caller's transaction, for every capability that
scopes by workspace: the one lookup of a workspace by its slug, and the sources' workspaces.

>>> async with engine.connect() as transaction:
...     workspace = await workspace_id(transaction, "default")   # NotFound (404) if none
"""

from __future__ import annotations

from headwater.errors import NotFound
from headwater.storage import Transaction
from headwater.workspaces import store
from headwater.workspaces.store import foreign_sources, source_workspace_id

__all__ = [
    "find_workspace_id",
    "foreign_sources",
    "source_workspace_id",
    "workspace_id",
    "workspace_slug",
]


async def find_workspace_id(transaction: Transaction, slug: str) -> int | None:
    """The id of the workspace ``slug``, None when there is none (for callers that answer
    something else than :func:`workspace_id`'s 404, such as the Profile API's ``space``)."""
    return await store.workspace_id(transaction, slug)


async def workspace_id(transaction: Transaction, slug: str) -> int:
    """The id of the workspace ``slug``; ``NotFound("workspace_not_found")`` when there is
    none, the same error for every workspace-scoped resource. One round trip."""
    found = await store.workspace_id(transaction, slug)
    if found is None:
        raise NotFound("workspace_not_found", f"no workspace {slug!r}")
    return found


async def workspace_slug(transaction: Transaction, workspace_id: int) -> str:
    """The slug of the workspace ``workspace_id`` (for a background job that holds the id and
    writes where the API names workspaces by slug, such as the audit trail)."""
    found = await store.workspace_slug(transaction, workspace_id)
    if found is None:
        raise NotFound("workspace_not_found", f"no workspace {workspace_id}")
    return found
