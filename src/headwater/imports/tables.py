"""File imports' table: one row per uploaded file, its mapping, its state and its counts."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, Integer, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = ["import_jobs"]

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_bytes", BigInteger, nullable=False),
    Column("rows_total", BigInteger, nullable=False),
    Column("columns", JSONB, nullable=False),
    Column("mapping", JSONB, nullable=False),
    # uploaded -> queued -> running -> done | failed
    Column("status", Text, nullable=False),
    # Rows committed so far: a resumed import starts after them.
    Column("checkpoint", BigInteger, nullable=False, server_default=text("0")),
    Column("imported", BigInteger, nullable=False, server_default=text("0")),
    Column("duplicates", BigInteger, nullable=False, server_default=text("0")),
    Column("rejected", BigInteger, nullable=False, server_default=text("0")),
    Column("errors", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("failure", Text),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Index("import_jobs_workspace", "workspace_id", "id"),
)
