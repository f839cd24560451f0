"""The event log's tables (its PostgreSQL implementation): the entries, each consumer's
committed offsets and partition leases, and the ``governed_events`` view.

Only the log's own modules name them: every other reader goes through ``EventLog``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import VIEW, metadata

__all__ = ["events", "governed_events", "log_leases", "log_offsets"]

# ``seq`` is the offset, ordered per partition. The table is partitioned by UTC day of
# ``received_at`` (migration 0021; ``headwater.log.partitions`` creates and drops the days), so
# the primary key includes ``received_at``.
events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("partition", SmallInteger, nullable=False),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("message_id", Text(collation="C"), nullable=False),
    Column("type", Text, nullable=False),
    Column("name", Text),
    Column("user_id", Text),
    Column("anonymous_id", Text),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), primary_key=True),
    Column("payload", JSONB, nullable=False),
    Index("events_partition_seq", "partition", "seq"),
    Index("events_workspace_message", "workspace_id", "message_id"),
    Index("events_source_seq", "source_id", "seq"),
    postgresql_partition_by="RANGE (received_at)",
)

log_offsets = Table(
    "log_offsets",
    metadata,
    Column("consumer", Text, primary_key=True),
    Column("partition", SmallInteger, primary_key=True),
    Column("committed", BigInteger, nullable=False),
)

log_leases = Table(
    "log_leases",
    metadata,
    Column("consumer", Text, primary_key=True),
    Column("partition", SmallInteger, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# A view (migration 0008): the log as the tracking plans left it, the governed payload
# (``headwater.protocols.tables.governed_payloads``) where there is one and no blocked event.
governed_events = Table(
    "governed_events",
    metadata,
    Column("seq", BigInteger),
    Column("partition", SmallInteger),
    Column("workspace_id", Integer),
    Column("source_id", Integer),
    Column("message_id", Text(collation="C")),
    Column("type", Text),
    Column("name", Text),
    Column("user_id", Text),
    Column("anonymous_id", Text),
    Column("timestamp", DateTime(timezone=True)),
    Column("received_at", DateTime(timezone=True)),
    Column("payload", JSONB),
    info=VIEW,
)
