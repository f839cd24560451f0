"""The delivery engine's tables: the queue, dead letters, errors, per-minute stats and which
destinations received each user's events.

The queue holds only undelivered rows, and is created ``WITH (autovacuum_vacuum_scale_factor =
0.02, autovacuum_vacuum_cost_delay = 0)`` (migration 0004): it churns, and must stay small."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from headwater.storage.days import DayTable
from headwater.storage.tables import metadata

__all__ = [
    "DEAD_LETTER_DAYS",
    "dead_letters",
    "delivered_users",
    "deliveries",
    "delivery_errors",
    "delivery_stats",
]

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("destination_id", Integer, nullable=False),
    Column("message_id", Text(collation="C"), nullable=False),
    Column("user_key", Text(collation="C")),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("enqueued_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column(
        "next_attempt_at", DateTime(timezone=True), nullable=False, server_default=text("now()")
    ),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
    Column("payload", JSONB, nullable=False),
    UniqueConstraint(
        "destination_id", "message_id", name="deliveries_destination_id_message_id_key"
    ),
    Index("deliveries_due", "destination_id", "next_attempt_at"),
)

# The delivery engine's dead letters: what failed for good or expired. Partitioned by UTC day of
# ``failed_at`` (migration 0025; retention drops the days), so the primary key includes it.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("destination_id", Integer, nullable=False),
    Column("message_id", Text(collation="C"), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("enqueued_at", DateTime(timezone=True), nullable=False),
    Column("failed_at", DateTime(timezone=True), primary_key=True, server_default=text("now()")),
    Column("attempts", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("exchange", JSONB),
    Column("payload", JSONB, nullable=False),
    CheckConstraint("reason IN ('failed', 'expired')", name="dead_letters_reason_check"),
    Index("dead_letters_destination", "destination_id", "id"),
    postgresql_partition_by="RANGE (failed_at)",
)

DEAD_LETTER_DAYS = DayTable("dead_letters", "failed_at", key="destination_id")
"""The dead letters' day partitions, grouped by destination (index ``dead_letters_destination``;
a destination's workspace is the destinations capability's to say)."""

# The delivery engine's latest errors per destination.
delivery_errors = Table(
    "delivery_errors",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("destination_id", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("outcome", Text, nullable=False),
    Column("events", Integer, nullable=False),
    Column("message_ids", ARRAY(Text), nullable=False),
    Column("error", Text, nullable=False),
    Column("exchange", JSONB),
    Index("delivery_errors_destination", "destination_id", "id"),
)

# The delivery engine's counts per destination and minute. latency_ms is a histogram over
# fixed bounds (destinations/model.py LATENCY_BOUNDS_MS, one more slot for anything above).
delivery_stats = Table(
    "delivery_stats",
    metadata,
    Column("destination_id", Integer, primary_key=True),
    Column("bucket", DateTime(timezone=True), primary_key=True),
    Column("enqueued", BigInteger, nullable=False, server_default=text("0")),
    Column("skipped_integrations", BigInteger, nullable=False, server_default=text("0")),
    Column("skipped_consent", BigInteger, nullable=False, server_default=text("0")),
    Column("skipped_filters", BigInteger, nullable=False, server_default=text("0")),
    Column("delivered", BigInteger, nullable=False, server_default=text("0")),
    Column("retried", BigInteger, nullable=False, server_default=text("0")),
    Column("failed", BigInteger, nullable=False, server_default=text("0")),
    Column("dead_lettered", BigInteger, nullable=False, server_default=text("0")),
    Column("latency_ms", ARRAY(BigInteger), nullable=False, server_default=text("'{}'::bigint[]")),
)


# Which destinations received a user's events (migration 0019): per ``user_key`` (the event's
# userId, else its anonymousId, as the queue keys it) and destination, how many were delivered
# and when first and last. Written when a delivered batch settles; read by subject access.
delivered_users = Table(
    "delivered_users",
    metadata,
    Column("user_key", Text(collation="C"), primary_key=True),
    Column("destination_id", Integer, primary_key=True),
    Column("events", BigInteger, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Index("delivered_users_destination", "destination_id"),
)
