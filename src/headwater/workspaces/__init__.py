"""Workspaces, sources and their write keys, and Profile API access tokens."""

from headwater.workspaces.credentials import basic_user
from headwater.workspaces.identifiers import (
    identifier_hash,
    identifier_key,
    pii_salt,
    pii_salts,
)
from headwater.workspaces.lookup import (
    find_workspace_id,
    foreign_sources,
    source_workspace_id,
    workspace_id,
    workspace_slug,
)
from headwater.workspaces.model import Source, SourceKind, Workspace
from headwater.workspaces.service import (
    Bootstrap,
    access_token_workspace,
    bootstrap,
    check_name,
    create_access_token,
    create_source,
    create_workspace,
    find_source,
    get_source,
    get_workspace,
    list_sources,
    list_workspaces,
    source_for_write_key,
    update_source,
)
from headwater.workspaces.views import (
    AccessTokenView,
    SourceView,
    WorkspaceView,
    source_view,
    workspace_view,
)

__all__ = [
    "AccessTokenView",
    "Bootstrap",
    "Source",
    "SourceKind",
    "SourceView",
    "Workspace",
    "WorkspaceView",
    "access_token_workspace",
    "basic_user",
    "bootstrap",
    "check_name",
    "create_access_token",
    "create_source",
    "create_workspace",
    "find_source",
    "find_workspace_id",
    "foreign_sources",
    "get_source",
    "get_workspace",
    "identifier_hash",
    "identifier_key",
    "list_sources",
    "list_workspaces",
    "pii_salt",
    "pii_salts",
    "source_for_write_key",
    "source_view",
    "source_workspace_id",
    "update_source",
    "workspace_id",
    "workspace_slug",
    "workspace_view",
]
