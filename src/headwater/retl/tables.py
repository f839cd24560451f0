"""Reverse ETL's tables (migration 0028): models, syncs, their runs, and each sync's state."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = ["retl_models", "retl_runs", "retl_state", "retl_syncs"]

# A model: a query on a customer's database. ``connection`` holds the SQLAlchemy URL sealed
# (``{"$secret": ...}``) beside the URL as shown (its password masked).
retl_models = Table(
    "retl_models",
    metadata,
    Column("id", Integer, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("connection", JSONB, nullable=False),
    Column("query", Text, nullable=False),
    Column("primary_key", Text, nullable=False),
    Column("cursor_column", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("workspace_id", "name", name="retl_models_name_key"),
)

# A sync: where a model's rows go, how, and when. ``lease_until`` is set while a process runs
# it (a run that outlives its lease was interrupted and is due again); ``cursor_mark`` is the
# cursor value the next run reads from.
retl_syncs = Table(
    "retl_syncs",
    metadata,
    Column("id", Integer, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("model_id", Integer, ForeignKey("retl_models.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("message_type", Text, nullable=False),
    Column("destination_id", Integer),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("mode", Text, nullable=False),
    Column("mapping", JSONB, nullable=False),
    Column("schedule", JSONB, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("next_run_at", DateTime(timezone=True)),
    Column("run_requested", Boolean, nullable=False, server_default=text("false")),
    Column("lease_until", DateTime(timezone=True)),
    Column("cursor_mark", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("workspace_id", "name", name="retl_syncs_name_key"),
    CheckConstraint(
        "target IN ('profiles', 'events', 'destination')", name="retl_syncs_target_check"
    ),
    CheckConstraint(
        "mode IN ('insert', 'update', 'upsert', 'mirror')", name="retl_syncs_mode_check"
    ),
    Index("retl_syncs_due", "next_run_at", postgresql_where=column("enabled")),
)

# One run of a sync: its counts and up to a few failures (key and reason).
retl_runs = Table(
    "retl_runs",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("sync_id", Integer, ForeignKey("retl_syncs.id", ondelete="CASCADE"), nullable=False),
    Column("status", Text, nullable=False, server_default=text("'running'::text")),
    Column("trigger", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("finished_at", DateTime(timezone=True)),
    Column("rows_read", BigInteger, nullable=False, server_default=text("0")),
    Column("added", BigInteger, nullable=False, server_default=text("0")),
    Column("changed", BigInteger, nullable=False, server_default=text("0")),
    Column("removed", BigInteger, nullable=False, server_default=text("0")),
    Column("failed", BigInteger, nullable=False, server_default=text("0")),
    Column("reason", Text),
    Column("failures", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    CheckConstraint(
        "status IN ('running', 'succeeded', 'failed', 'interrupted')",
        name="retl_runs_status_check",
    ),
    Index("retl_runs_sync", "sync_id", "id"),
)

# What each sync last sent for each key: the row's hash (null while the key was never sent),
# the error of its last failed attempt (retried on the next run), and, in mirror mode, the
# identifiers it was sent with (what a removal is sent to).
retl_state = Table(
    "retl_state",
    metadata,
    Column(
        "sync_id",
        Integer,
        ForeignKey("retl_syncs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", Text(collation="C"), primary_key=True),
    Column("hash", LargeBinary),
    Column("error", Text),
    Column("identity", JSONB),
)
