"""Every table, on one ``MetaData``. Migrations (``migrations/versions``) create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "access_tokens",
    "admin_tokens",
    "dedup_keys",
    "event_counts",
    "events",
    "log_leases",
    "log_offsets",
    "meta",
    "metadata",
    "rejections",
    "sources",
    "workspaces",
]

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("write_key", Text, nullable=False, unique=True),
    Column("kind", Text, nullable=False),
    Column("strict", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

admin_tokens = Table(
    "admin_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", Text, nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The event log (PostgreSQL implementation): ``seq`` is the offset, ordered per partition.
events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("partition", SmallInteger, nullable=False),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("name", Text),
    Column("user_id", Text),
    Column("anonymous_id", Text),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False),
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

dedup_keys = Table(
    "dedup_keys",
    metadata,
    Column("workspace_id", Integer, primary_key=True),
    Column("message_id", Text, primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

rejections = Table(
    "rejections",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("batch_index", Integer, nullable=False),
    Column("type", Text),
    Column("message_id", Text),
    Column("reason", Text, nullable=False),
    Column("payload", JSONB),
)

# Counts per source, minute, type and event name: accepted, duplicate and rejected messages.
event_counts = Table(
    "event_counts",
    metadata,
    Column("source_id", Integer, primary_key=True),
    Column("bucket", DateTime(timezone=True), primary_key=True),
    Column("type", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("accepted", BigInteger, nullable=False),
    Column("duplicates", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
)

# Profile API access tokens, one workspace each (Segment: one space each).
access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("token_sha256", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
