"""Collection's tables: the dedup keys, the rejected messages, the recent duplicates, the
per-minute counts and the suppressions (hashed identifiers whose messages are refused)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.days import DayTable
from headwater.storage.tables import metadata

__all__ = [
    "REJECTION_DAYS",
    "dedup_keys",
    "duplicates",
    "event_counts",
    "rejections",
    "suppressions",
]

dedup_keys = Table(
    "dedup_keys",
    metadata,
    Column("workspace_id", Integer, primary_key=True),
    Column("message_id", Text(collation="C"), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("dedup_keys_received_at", "received_at"),
)

# Partitioned by UTC day of ``received_at`` (migration 0025; retention drops the days), so the
# primary key includes ``received_at``.
rejections = Table(
    "rejections",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), primary_key=True),
    Column("batch_index", Integer, nullable=False),
    Column("type", Text),
    Column("message_id", Text),
    Column("reason", Text, nullable=False),
    Column("payload", JSONB),
    Index("rejections_source_id", "source_id", "id"),
    postgresql_partition_by="RANGE (received_at)",
)

REJECTION_DAYS = DayTable("rejections", "received_at", key="source_id", workspace="workspace_id")
"""The rejections' day partitions, grouped by source (index ``rejections_source_id``)."""

# Each message dropped as a duplicate, kept a day (``DUPLICATES_KEPT``) for the live debugger.
duplicates = Table(
    "duplicates",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("type", Text, nullable=False),
    Column("name", Text),
    Column("message_id", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Index("duplicates_source_id", "source_id", "id"),
    Index("duplicates_received_at", "received_at"),
)

# Counts per source, minute, type and event name: accepted, duplicate, rejected and suppressed
# messages.
event_counts = Table(
    "event_counts",
    metadata,
    Column("source_id", Integer, primary_key=True),
    Column("bucket", DateTime(timezone=True), primary_key=True),
    Column("type", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("accepted", BigInteger, nullable=False, server_default=text("0")),
    Column("duplicates", BigInteger, nullable=False, server_default=text("0")),
    Column("rejected", BigInteger, nullable=False, server_default=text("0")),
    Column("suppressed", BigInteger, nullable=False, server_default=text("0")),
)

# Identifiers whose messages the tracking API refuses: HMAC-SHA256 digests under the
# workspace's identifier key (``workspaces.identifier_hash``), with their kind (``user_id`` or
# ``anonymous_id``: what a message is checked by), the digest of the subject whose person they
# belong to (``origin``: an UNSUPPRESS of that subject finds them after the person is erased)
# and the regulation that added each.
suppressions = Table(
    "suppressions",
    metadata,
    Column("workspace_id", Integer, primary_key=True),
    Column("identifier_hash", LargeBinary, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("origin", LargeBinary, nullable=False),
    Column("regulation_id", Text(collation="C"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("suppressions_regulation_id", "regulation_id"),
    Index("suppressions_origin", "workspace_id", "origin"),
)
