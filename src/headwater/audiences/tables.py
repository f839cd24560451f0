"""The audience capability's tables: computations (audiences and computed traits), their
current values, and the change log that is activation's outbox."""

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
    Table,
    Text,
    UniqueConstraint,
    column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = ["audience_changes", "computations", "computed_values"]

computations = Table(
    "computations",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("key", Text(collation="C"), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''::text")),
    Column("subject", Text, nullable=False, server_default=text("'user'::text")),
    Column("definition", JSONB, nullable=False),
    Column("realtime", Boolean, nullable=False),
    Column("destinations", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("revision", Integer, nullable=False, server_default=text("1")),
    Column("next_run_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("computed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("workspace_id", "key", name="computations_workspace_id_key_key"),
    CheckConstraint("kind IN ('audience', 'trait')", name="computations_kind_check"),
    CheckConstraint("subject IN ('user', 'account')", name="computations_subject_check"),
    Index("computations_due", "next_run_at", postgresql_where=column("enabled")),
)

# Current values: an audience's members (value true), a computed trait's values.
computed_values = Table(
    "computed_values",
    metadata,
    Column(
        "computation_id",
        BigInteger,
        ForeignKey("computations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("profile_id", Text(collation="C"), primary_key=True),
    Column("value", JSONB, nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("computed_values_profile", "profile_id"),
)

# Every change, with its time and cause: the outbox of activation (it keeps the computation's
# kind and destinations, so a deleted audience's exits are still sent).
audience_changes = Table(
    "audience_changes",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("computation_id", BigInteger, nullable=False),
    Column("key", Text(collation="C"), nullable=False),
    Column("profile_id", Text(collation="C"), nullable=False),
    Column("change", Text, nullable=False),
    Column("value", JSONB),
    Column("previous", JSONB),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("cause", Text, nullable=False),
    Column("message_id", Text(collation="C")),
    Column("kind", Text, nullable=False),
    Column("destinations", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("delivered", Boolean, nullable=False, server_default=text("false")),
    Column("error", Text),
    CheckConstraint(
        "change IN ('entered', 'exited', 'updated')", name="audience_changes_change_check"
    ),
    Index("audience_changes_profile", "profile_id", "id"),
    Index("audience_changes_computation", "computation_id", "id"),
    Index("audience_changes_computation_at", "computation_id", "at"),
    Index("audience_changes_outbox", "id", postgresql_where=~column("delivered")),
    # a journey step's change to a list audience, by the step's message id (migration 0016)
    Index("audience_changes_journey", "message_id", postgresql_where=column("cause") == "journey"),
)
