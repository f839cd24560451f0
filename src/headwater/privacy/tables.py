"""Privacy's tables: regulations, a row per subject (target) and per destination a deletion is
forwarded to (subjects are kept as digests, ``workspaces.identifier_hash``; the ids a pending
target needs for its work, ``work``, are wiped when it ends); subject access exports and their
files; the retention windows."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = [
    "privacy_export_parts",
    "privacy_exports",
    "regulation_destinations",
    "regulation_targets",
    "regulations",
    "retention_windows",
]

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


# One subject access export: who it is about, its state (queued, running, done, failed with the
# reason), the lease of the exporter building it, when its files expire, what each section
# holds, and how often it was downloaded.
privacy_exports = Table(
    "privacy_exports",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("subject_type", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=text("'queued'::text")),
    Column("reason", Text),
    Column("requested_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("lease_until", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("expires_at", DateTime(timezone=True)),
    Column("counts", JSONB),
    Column("json_bytes", BigInteger),
    Column("csv_bytes", BigInteger),
    Column("downloads", Integer, nullable=False, server_default=text("0")),
    Column("last_downloaded_at", DateTime(timezone=True)),
    CheckConstraint(
        "subject_type IN ('USER_ID', 'ANONYMOUS_ID')", name="privacy_exports_subject_type_check"
    ),
    CheckConstraint(
        "status IN ('queued', 'running', 'done', 'failed')", name="privacy_exports_status_check"
    ),
    Index("privacy_exports_workspace", "workspace_id", "id"),
    Index(
        "privacy_exports_waiting",
        "id",
        postgresql_where=column("status").in_(["queued", "running"]),
    ),
)

# A finished export's files, in parts of at most 1 MiB each (``n`` from 0): the JSON document
# and the ZIP of CSV files, written and read a part at a time.
privacy_export_parts = Table(
    "privacy_export_parts",
    metadata,
    Column(
        "export_id",
        BigInteger,
        ForeignKey("privacy_exports.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("format", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("export_id", "format", "n", name="privacy_export_parts_pkey"),
    CheckConstraint("format IN ('json', 'csv')", name="privacy_export_parts_format_check"),
)


# One window per workspace, store and source (``source_id`` 0: the workspace's window for the
# store, which its sources without a window of their own follow).
retention_windows = Table(
    "retention_windows",
    metadata,
    Column(
        "workspace_id",
        Integer,
        ForeignKey("workspaces.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("store", Text, nullable=False),
    Column("source_id", Integer, nullable=False, server_default=text("0")),
    Column("days", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("workspace_id", "store", "source_id", name="retention_windows_pkey"),
    CheckConstraint(
        "store IN ('events', 'rejections', 'quarantine', 'delivery_logs', 'journey_history')",
        name="retention_windows_store_check",
    ),
    CheckConstraint("days >= 1", name="retention_windows_days_check"),
)
