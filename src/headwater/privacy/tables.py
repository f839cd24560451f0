"""Privacy's tables: subject access exports and their files (migration 0019)."""

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
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = ["privacy_export_parts", "privacy_exports"]

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
