"""The read models of workspaces and sources, as the management API answers them.

Read models are ``TypedDict``s: the services build plain dicts already, so typing them costs
nothing at run time, mypy checks every key, and FastAPI renders each as a JSON Schema in the
OpenAPI document (and serialises the answer through it, times in one form)::

    @router.get("/workspaces/{workspace}/sources/{source_id}", response_model=SourceView)
"""

from __future__ import annotations

from typing_extensions import TypedDict

from headwater.spec import Timestamp
from headwater.workspaces.model import Source, SourceKind, Workspace

__all__ = ["AccessTokenView", "SourceView", "WorkspaceView", "source_view", "workspace_view"]


class WorkspaceView(TypedDict):
    id: int
    slug: str
    name: str
    created_at: Timestamp


class SourceView(TypedDict):
    """A source with its write key (``kind`` client: ``context.ip`` is filled from the
    connection; ``strict``: invalid events fail the request with 400)."""

    id: int
    workspace_id: int
    workspace: str
    name: str
    write_key: str
    kind: SourceKind
    strict: bool
    enabled: bool
    created_at: Timestamp


class AccessTokenView(TypedDict):
    """A new Profile API access token; the only time it is shown."""

    token: str
    workspace: str
    name: str


def workspace_view(workspace: Workspace) -> WorkspaceView:
    return {
        "id": workspace.id,
        "slug": workspace.slug,
        "name": workspace.name,
        "created_at": workspace.created_at,
    }


def source_view(source: Source) -> SourceView:
    return {
        "id": source.id,
        "workspace_id": source.workspace_id,
        "workspace": source.workspace,
        "name": source.name,
        "write_key": source.write_key,
        "kind": source.kind,
        "strict": source.strict,
        "enabled": source.enabled,
        "created_at": source.created_at,
    }
