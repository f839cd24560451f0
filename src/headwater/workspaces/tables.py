"""The workspaces capability's tables: workspaces, their sources, Profile API access tokens and
each workspace's secret key for hashing identifiers."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = ["access_tokens", "source_plugins", "sources", "workspace_keys", "workspaces"]

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("slug", name="workspaces_slug_key"),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("write_key", Text, nullable=False),
    Column("kind", Text, nullable=False, server_default=text("'server'::text")),
    Column("strict", Boolean, nullable=False, server_default=text("false")),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("write_key", name="sources_write_key_key"),
    UniqueConstraint("workspace_id", "name", name="sources_workspace_id_name_key"),
    CheckConstraint("kind IN ('server', 'client', 'webhook')", name="sources_kind_check"),
)

# A source's browser plugins (device-mode destinations analytics.js loads): workspaces/plugins.py.
source_plugins = Table(
    "source_plugins",
    metadata,
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    Column("plugins", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Profile API access tokens, one workspace each (Segment: one space each).
access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("token_sha256", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("token_sha256", name="access_tokens_token_sha256_key"),
)

# The one secret of each workspace: identifiers are hashed with it (HMAC-SHA256; suppressions and
# regulation records keep digests, never ids) and the PII rules' salt is derived from it.
# Created on first use, never shown (workspaces/identifiers.py).
workspace_keys = Table(
    "workspace_keys",
    metadata,
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), primary_key=True),
    Column("identifier_key", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    # The PII hashing salt stored before the secrets were one (migration 0023): kept so that
    # values hashed under it hash the same; NULL derives it from the key (``pii_salt``).
    Column("pii_salt", LargeBinary),
)
