"""Privacy's tables: the retention windows (migration 0021)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)

from headwater.storage.tables import metadata

__all__ = ["retention_windows"]

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
