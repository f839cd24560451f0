"""The journeys' tables: each journey with its draft, and its published versions (migration
0012); instances and their steps (migration 0014); webhook calls (migration 0015)."""

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
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.days import DayTable
from headwater.storage.tables import metadata

__all__ = [
    "STEP_DAYS",
    "journey_calls",
    "journey_instances",
    "journey_steps",
    "journey_versions",
    "journeys",
]

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

_RUNNING = column("state").in_(["active", "waiting"])

# A profile's way through a journey: the node it is at (since when), until when it waits
# (``wake_at``; the runner claims those due), the port a matched event chose, how many steps it
# took, and how it ended. ``trigger_id`` (the triggering messageId, or the start's id) makes a
# redelivered trigger enter nobody twice.
journey_instances = Table(
    "journey_instances",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("journey_id", Integer, ForeignKey("journeys.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("profile_id", Text(collation="C"), nullable=False),
    Column("instance_key", Text(collation="C"), nullable=False, server_default=text("''::text")),
    Column("trigger_id", Text(collation="C"), nullable=False),
    Column("state", Text, nullable=False),
    Column("node_id", Text(collation="C"), nullable=False),
    Column("node_since", DateTime(timezone=True), nullable=False),
    Column("wake_at", DateTime(timezone=True)),
    Column("port", Text(collation="C")),
    Column("step", Integer, nullable=False, server_default=text("0")),
    Column("context", JSONB, nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("goal_until", DateTime(timezone=True)),
    Column("converted_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_reason", Text),
    Column("error", Text),
    Column("note", Text),
    UniqueConstraint("journey_id", "trigger_id", name="journey_instances_trigger_key"),
    CheckConstraint(
        "state IN ('active', 'waiting', 'completed', 'exited', 'failed')",
        name="journey_instances_state_check",
    ),
    Index(
        "journey_instances_running",
        "journey_id",
        "profile_id",
        "instance_key",
        unique=True,
        postgresql_where=_RUNNING,
    ),
    Index(
        "journey_instances_due",
        "wake_at",
        postgresql_where=_RUNNING & column("wake_at").is_not(None),
    ),
    Index("journey_instances_profile", "profile_id", "journey_id"),
)

# Each node an instance passed, and the port it left by: written in the transaction that took
# the step (with its side effect), so a step is recorded exactly when it happened. Partitioned
# by UTC day of ``entered_at``, the instance's (migration 0025; retention drops the days): the
# insert copies it from the instance row, where it never changes, so the primary key
# ``(instance_id, step, entered_at)`` is unique exactly when ``(instance_id, step)`` is.
journey_steps = Table(
    "journey_steps",
    metadata,
    Column(
        "instance_id",
        BigInteger,
        ForeignKey("journey_instances.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("step", Integer, nullable=False),
    Column("journey_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("node_id", Text(collation="C"), nullable=False),
    Column("port", Text(collation="C")),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("detail", Text),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("instance_id", "step", "entered_at", name="journey_steps_pkey"),
    Index("journey_steps_node", "journey_id", "version", "node_id"),
    postgresql_partition_by="RANGE (entered_at)",
)

STEP_DAYS = DayTable("journey_steps", "entered_at", key="journey_id")
"""The journey steps' day partitions, grouped by journey (index ``journey_steps_node``)."""

# The webhook requests of journeys, an outbox: written with the step that makes the call, sent
# by the caller (leased by pushing ``next_at`` ahead, retried with backoff), deleted when the
# instance is woken with the answer.
journey_calls = Table(
    "journey_calls",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column(
        "instance_id",
        BigInteger,
        ForeignKey("journey_instances.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("step", Integer, nullable=False),
    Column("node_id", Text(collation="C"), nullable=False),
    Column("request", JSONB, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    UniqueConstraint("instance_id", "step", name="journey_calls_instance_id_step_key"),
    Index("journey_calls_due", "next_at"),
)
