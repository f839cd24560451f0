"""Privacy's tables: regulations, a row per subject (target) and per destination a deletion is
forwarded to. Subjects are kept as digests (``workspaces.identifier_hash``); the ids a pending
target needs for its work (``work``) are wiped when it ends."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = ["regulation_destinations", "regulation_targets", "regulations"]

regulations = Table(
    "regulations",
    metadata,
    Column("id", Text(collation="C"), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer),
    Column("regulation_type", Text, nullable=False),
    Column("subject_type", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("finished_at", DateTime(timezone=True)),
    Column("next_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("lease_owner", Text),
    Column("lease_until", DateTime(timezone=True)),
    Index("regulations_workspace_id", "workspace_id", "created_at"),
    Index(
        "regulations_due",
        "next_at",
        postgresql_where=text("status IN ('INITIALIZED', 'RUNNING')"),
    ),
)

# stage: resolve -> suppress/unsuppress -> erase -> forward -> done (each type skips what it
# does not do); work: {"subject": id, "identifiers": [[kind, value]...], "profiles": [...],
# "since": iso time} while pending, NULL once done; removed: rows removed per store.
regulation_targets = Table(
    "regulation_targets",
    metadata,
    Column(
        "regulation_id",
        Text(collation="C"),
        ForeignKey("regulations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("subject_hash", LargeBinary, nullable=False),
    Column("status", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("work", JSONB),
    Column("removed", JSONB),
    Column("error", Text),
    Column("finished_at", DateTime(timezone=True)),
    Index("regulation_targets_subject_hash", "subject_hash"),
)

regulation_destinations = Table(
    "regulation_destinations",
    metadata,
    Column("regulation_id", Text(collation="C"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("destination_id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("error", Text),
    Column("finished_at", DateTime(timezone=True)),
    ForeignKeyConstraint(
        ["regulation_id", "position"],
        ["regulation_targets.regulation_id", "regulation_targets.position"],
        ondelete="CASCADE",
    ),
)
