"""The journeys' tables: each journey with its draft, and its published versions (migration
0012)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = ["journey_versions", "journeys"]

# A journey: its draft (edited with optimistic locking on ``revision``) and the version it runs
# (``version``, null until it is first published).
journeys = Table(
    "journeys",
    metadata,
    Column("id", Integer, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("key", Text(collation="C"), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''::text")),
    Column("state", Text, nullable=False, server_default=text("'draft'::text")),
    Column("draft", JSONB, nullable=False),
    Column("revision", Integer, nullable=False, server_default=text("1")),
    Column("version", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("workspace_id", "key", name="journeys_workspace_id_key_key"),
    CheckConstraint(
        "state IN ('draft', 'live', 'paused', 'archived')", name="journeys_state_check"
    ),
)

# Every published version, never changed once written: instances run on the version they
# entered until a newer one takes them over.
journey_versions = Table(
    "journey_versions",
    metadata,
    Column(
        "journey_id",
        Integer,
        ForeignKey("journeys.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("document", JSONB, nullable=False),
    Column("note", Text, nullable=False, server_default=text("''::text")),
    Column("published_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
