"""The hooks capability's tables: each webhook source's configuration, and the recent
requests its debugger shows (a bounded history: :data:`HISTORY` per source)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = ["HISTORY", "hook_requests", "hook_sources"]

HISTORY = 200
"""Requests kept per source for the debugger; older ones are deleted as new ones arrive."""

hook_sources = Table(
    "hook_sources",
    metadata,
    Column("source_id", Integer, ForeignKey("sources.id"), primary_key=True),
    Column("url_key", Text, nullable=False),
    Column("preset", Text),
    # The HookConfig as JSON; secret fields sealed ({"$secret": token}).
    Column("config", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("url_key", name="hook_sources_url_key_key"),
)

hook_requests = Table(
    "hook_requests",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("method", Text, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("query", JSONB, nullable=False),
    Column("body", Text),
    Column("body_bytes", Integer, nullable=False),
    Column("status", Integer, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("reason", Text),
    Column("messages", JSONB, nullable=False),
    Column("errors", JSONB, nullable=False),
    CheckConstraint(
        "outcome IN ('stored', 'refused', 'none', 'failed', 'replied')",
        name="hook_requests_outcome_check",
    ),
    Index("hook_requests_source", "source_id", "id"),
    Index("hook_requests_workspace", "workspace_id"),
)
