"""The pipeline's table: processing failures, the log entries a processor stage failed on
alone, kept until a replay passes."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from headwater.storage.tables import metadata

__all__ = ["processing_failures"]

processing_failures = Table(
    "processing_failures",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("message_id", Text(collation="C"), nullable=False),
    Column("log_partition", SmallInteger, nullable=False),
    Column("log_offset", BigInteger, nullable=False),
    Column("stage", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("1")),
    Column(
        "first_failed_at", DateTime(timezone=True), nullable=False, server_default=text("now()")
    ),
    Column("failed_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("resolved_at", DateTime(timezone=True)),
    UniqueConstraint(
        "log_partition", "log_offset", name="processing_failures_log_partition_log_offset_key"
    ),
    CheckConstraint("status IN ('open', 'resolved')", name="processing_failures_status_check"),
    Index("processing_failures_list", "workspace_id", "status", "id"),
)
