"""The profile capability's tables: identity rules, profiles, identifiers and the events that
mentioned them, profile events, merges and account links."""

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
    Table,
    Text,
    column,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = [
    "account_links",
    "identifier_mentions",
    "identifiers",
    "identity_rules",
    "profile_events",
    "profile_merges",
    "profiles",
    "stray_mentions",
]

_C = "C"
"""Ids and identifiers compare bytewise (``COLLATE "C"``)."""

identity_rules = Table(
    "identity_rules",
    metadata,
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), primary_key=True),
    Column("rules", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", Text(collation=_C), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("merged_into", Text(collation=_C)),
    Column("merges", Integer, nullable=False, server_default=text("0")),
    Column("first_ts", DateTime(timezone=True), nullable=False),
    Column("first_message_id", Text(collation=_C), nullable=False),
    Column("first_source_id", Integer),
    Column("last_ts", DateTime(timezone=True), nullable=False),
    Column("last_message_id", Text(collation=_C), nullable=False),
    Column("last_source_id", Integer),
    Column("traits", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    # The newest consent preferences of the profile's events (migration 0017).
    Column("consent", JSONB),
    CheckConstraint("kind IN ('user', 'account')", name="profiles_kind_check"),
    Index(
        "profiles_live",
        "workspace_id",
        "kind",
        "id",
        postgresql_where=column("merged_into").is_(None),
    ),
    # The profiles merged into each (migration 0024): ``lookups.family`` walks it.
    Index(
        "profiles_merged_into",
        "merged_into",
        postgresql_where=column("merged_into").isnot(None),
    ),
    Index(
        "profiles_traits",
        "traits",
        postgresql_using="gin",
        postgresql_ops={"traits": "jsonb_path_ops"},
    ),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("workspace_id", Integer, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("type", Text(collation=_C), primary_key=True),
    Column("value", Text(collation=_C), primary_key=True),
    Column("profile_id", Text(collation=_C), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("message_id", Text(collation=_C), nullable=False),
    Column("source_id", Integer),
    Index("identifiers_profile", "profile_id"),
)

# The newest event that mentioned each identifier, dropped ones included: an event older
# than this must be resolved by rebuilding its component in canonical order.
identifier_mentions = Table(
    "identifier_mentions",
    metadata,
    Column("workspace_id", Integer, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("type", Text(collation=_C), primary_key=True),
    Column("value", Text(collation=_C), primary_key=True),
    Column("newest_ts", DateTime(timezone=True), nullable=False),
    Column("newest_message_id", Text(collation=_C), nullable=False),
)

profile_events = Table(
    "profile_events",
    metadata,
    Column("workspace_id", Integer, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("message_id", Text(collation=_C), primary_key=True),
    Column("profile_id", Text(collation=_C), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("type", Text, nullable=False),
    Column("name", Text),
    Column("mentions", JSONB, nullable=False),
    Column("previous_id", Text),
    Index("profile_events_profile", "profile_id", "timestamp", "message_id"),
    # Batch recomputes of audiences read a few names over a window, index-only; names longer
    # than an index row allows are left out (migration 0007).
    Index(
        "profile_events_activity",
        "workspace_id",
        "name",
        "timestamp",
        postgresql_include=["profile_id", "type", "seq"],
        postgresql_where=func.coalesce(func.octet_length(column("name")), 0) <= 2400,
    ),
)

profile_merges = Table(
    "profile_merges",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("survivor_id", Text(collation=_C), nullable=False),
    Column("merged_id", Text(collation=_C), nullable=False),
    Column("message_id", Text(collation=_C), nullable=False),
    Column("merged_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("profile_merges_survivor", "survivor_id"),
    Index("profile_merges_merged", "merged_id"),
)

account_links = Table(
    "account_links",
    metadata,
    Column("workspace_id", Integer, nullable=False),
    Column("user_profile_id", Text(collation=_C), primary_key=True),
    Column("account_profile_id", Text(collation=_C), primary_key=True),
    Column("message_id", Text(collation=_C), nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    Index("account_links_account", "account_profile_id"),
)

# Events that mention an identifier their profile does not own, so that rebuilding a
# component reaches every event connected to it. Few rows, never removed.
stray_mentions = Table(
    "stray_mentions",
    metadata,
    Column("workspace_id", Integer, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("type", Text(collation=_C), primary_key=True),
    Column("value", Text(collation=_C), primary_key=True),
    Column("message_id", Text(collation=_C), primary_key=True),
)
