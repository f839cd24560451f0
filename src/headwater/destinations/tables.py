"""The destinations' tables: destination instances, and the version of what routing reads
(the delivery engine's queue, dead letters, errors and stats are in
:mod:`headwater.delivery.tables`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from headwater.storage.tables import metadata

__all__ = ["destinations", "routing_changes"]

destinations = Table(
    "destinations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("config", JSONB, nullable=False),
    Column("sources", ARRAY(Integer)),
    Column("filters", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("categories", ARRAY(Text)),
    Column("delivery", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("workspace_id", "name", name="destinations_workspace_id_name_key"),
)

# One row: a counter that triggers on ``destinations`` and ``pii_rules`` (and their truncation)
# raise with every change, in the changing transaction (migration 0032). The routing stage
# reads it in each batch's transaction and reloads what it routes by when it moved.
routing_changes = Table(
    "routing_changes",
    metadata,
    Column("id", Boolean, primary_key=True, server_default=text("true")),
    Column("version", BigInteger, nullable=False, server_default=text("0")),
    CheckConstraint("id", name="routing_changes_one_row"),
)
