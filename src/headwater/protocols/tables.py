"""The tracking plans' tables: plans and their versions, their connections to sources, the
protocols stage's progress, violations (counts and samples), the quarantine, the recently
flagged messages, the observed schema, and the governed payloads behind the log's
``governed_events`` view.

Event names and property paths can be longer than a btree index row: the unique keys of the
counts, samples and observed schema index ``md5()`` of them (migration 0007)."""

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
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.days import DayTable
from headwater.storage.tables import metadata

__all__ = [
    "QUARANTINE_DAYS",
    "flagged",
    "governed_payloads",
    "observed_schema",
    "protocols_progress",
    "quarantine",
    "tracking_plan_sources",
    "tracking_plan_versions",
    "tracking_plans",
    "violation_counts",
    "violation_samples",
]

_C = "C"
"""Slugs, event names and paths compare bytewise (``COLLATE "C"``)."""

tracking_plans = Table(
    "tracking_plans",
    metadata,
    Column("id", Integer, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("slug", Text(collation=_C), nullable=False),
    Column("name", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("workspace_id", "slug", name="tracking_plans_workspace_id_slug_key"),
)

# Every version of a plan, never changed once written: the stage validates against the newest.
tracking_plan_versions = Table(
    "tracking_plan_versions",
    metadata,
    Column(
        "plan_id",
        Integer,
        ForeignKey("tracking_plans.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("document", JSONB, nullable=False),
    Column("note", Text, nullable=False, server_default=text("''::text")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# One plan per source, and a revision that grows with every change of the settings.
tracking_plan_sources = Table(
    "tracking_plan_sources",
    metadata,
    Column("source_id", Integer, ForeignKey("sources.id"), primary_key=True),
    Column(
        "plan_id",
        Integer,
        ForeignKey("tracking_plans.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("settings", JSONB, nullable=False),
    Column("revision", Integer, nullable=False, server_default=text("1")),
    Column("connected_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("tracking_plan_sources_plan", "plan_id"),
)

# The last log offset whose effects the protocols stage recorded, per partition.
protocols_progress = Table(
    "protocols_progress",
    metadata,
    Column("partition", SmallInteger, primary_key=True, autoincrement=False),
    Column("committed", BigInteger, nullable=False),
)

# Per log partition too, so that processors on different partitions never wait for each
# other's row locks; reads add the partitions up.
violation_counts = Table(
    "violation_counts",
    metadata,
    Column("source_id", Integer, nullable=False),
    Column("bucket", DateTime(timezone=True), nullable=False),
    Column("event_type", Text(collation=_C), nullable=False),
    Column("event_name", Text(collation=_C), nullable=False),
    Column("violation", Text(collation=_C), nullable=False),
    Column("path", Text(collation=_C), nullable=False),
    Column("partition", SmallInteger, nullable=False),
    Column("workspace_id", Integer, nullable=False),
    Column("count", BigInteger, nullable=False),
    Index("violation_counts_workspace", "workspace_id", "bucket"),
)
Index(
    "violation_counts_key",
    violation_counts.c.source_id,
    violation_counts.c.bucket,
    violation_counts.c.event_type,
    func.md5(violation_counts.c.event_name),
    violation_counts.c.violation,
    func.md5(violation_counts.c.path),
    violation_counts.c.partition,
    unique=True,
)

# The newest sample payloads (up to 5) of each kind of violation.
violation_samples = Table(
    "violation_samples",
    metadata,
    Column("source_id", Integer, nullable=False),
    Column("event_type", Text(collation=_C), nullable=False),
    Column("event_name", Text(collation=_C), nullable=False),
    Column("violation", Text(collation=_C), nullable=False),
    Column("path", Text(collation=_C), nullable=False),
    Column("workspace_id", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("samples", JSONB, nullable=False),
)
Index(
    "violation_samples_key",
    violation_samples.c.source_id,
    violation_samples.c.event_type,
    func.md5(violation_samples.c.event_name),
    violation_samples.c.violation,
    func.md5(violation_samples.c.path),
    unique=True,
)

# Partitioned by UTC day of ``first_blocked_at`` (migration 0025; retention drops the days), so
# the keys include it. A message's ``first_blocked_at`` never changes once its row exists, and
# ``records.quarantine`` takes it from that row (under an advisory lock per message), so
# ``(source_id, message_id, first_blocked_at)`` is unique exactly when ``(source_id,
# message_id)`` is. ``blocked_at`` (the last time) is updated when a replay is blocked again.
quarantine = Table(
    "quarantine",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("message_id", Text(collation=_C), nullable=False),
    Column("type", Text, nullable=False),
    Column("name", Text),
    Column("reason", Text, nullable=False),
    Column("violations", JSONB, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("1")),
    Column("plan_id", Integer),
    Column("plan_version", Integer),
    Column("log_partition", SmallInteger, nullable=False),
    Column("log_offset", BigInteger, nullable=False),
    Column(
        "first_blocked_at",
        DateTime(timezone=True),
        primary_key=True,
        server_default=text("now()"),
    ),
    Column("blocked_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("resolved_at", DateTime(timezone=True)),
    Column("forwarded_to", Integer),
    UniqueConstraint(
        "source_id", "message_id", "first_blocked_at", name="quarantine_source_id_message_id_key"
    ),
    CheckConstraint(
        "status IN ('quarantined', 'replayed', 'forwarded', 'released')",
        name="quarantine_status_check",
    ),
    Index("quarantine_list", "workspace_id", "status", "id"),
    postgresql_partition_by="RANGE (first_blocked_at)",
)

QUARANTINE_DAYS = DayTable(
    "quarantine", "first_blocked_at", key="source_id", workspace="workspace_id"
)
"""The quarantine's day partitions, grouped by source (its unique key leads with it)."""

# Each message a plan let through with violations (changed: flagged or trimmed), with the
# payload as governed, kept a day (``records.FLAGGED_KEPT``) for the live debugger.
flagged = Table(
    "flagged",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("type", Text, nullable=False),
    Column("name", Text),
    Column("message_id", Text, nullable=False),
    Column("violations", JSONB, nullable=False),
    Column("payload", JSONB, nullable=False),
    Index("flagged_source_id", "source_id", "id"),
    Index("flagged_received_at", "received_at"),
)

# Every event name and property path seen per source, with the JSON type seen; path '' with
# json_type 'event' counts the events themselves.
observed_schema = Table(
    "observed_schema",
    metadata,
    Column("source_id", Integer, nullable=False),
    Column("event_type", Text(collation=_C), nullable=False),
    Column("event_name", Text(collation=_C), nullable=False),
    Column("path", Text(collation=_C), nullable=False),
    Column("json_type", Text(collation=_C), nullable=False),
    Column("partition", SmallInteger, nullable=False),
    Column("workspace_id", Integer, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    # a built-in PII detector that found a value there (migration 0022); NULL while none has
    Column("detected", Text(collation=_C)),
)
Index(
    "observed_schema_key",
    observed_schema.c.source_id,
    observed_schema.c.event_type,
    func.md5(observed_schema.c.event_name),
    func.md5(observed_schema.c.path),
    observed_schema.c.json_type,
    observed_schema.c.partition,
    unique=True,
)

# One row per log entry a tracking plan changed (the payload as governed) or blocked (payload
# NULL), written by the protocols stage; read through the log's ``governed_events`` view.
governed_payloads = Table(
    "governed_payloads",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("workspace_id", Integer, nullable=False),
    Column("payload", JSONB),
)
