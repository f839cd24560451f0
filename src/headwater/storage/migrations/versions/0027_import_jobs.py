"""File imports: ``import_jobs``, one row per uploaded file with its mapping, state, checkpoint
(rows committed so far) and counts.

Revision ID: 0027
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
CREATE TABLE import_jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    source_id integer NOT NULL,
    kind text NOT NULL,
    format text NOT NULL,
    file_name text NOT NULL,
    file_bytes bigint NOT NULL,
    rows_total bigint NOT NULL,
    columns jsonb NOT NULL,
    mapping jsonb NOT NULL,
    status text NOT NULL,
    checkpoint bigint NOT NULL DEFAULT 0,
    imported bigint NOT NULL DEFAULT 0,
    duplicates bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    errors jsonb NOT NULL DEFAULT '[]'::jsonb,
    failure text,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX import_jobs_workspace ON import_jobs (workspace_id, id);
"""
    )


def downgrade() -> None:
    execute_script("DROP TABLE import_jobs;")
