"""Subject access: export jobs (one person's data, built in the background, kept 7 days) with
their files in parts, and the delivery engine's record of which destinations received each
user's events (what a subject access export lists under ``destinations``).

Revision ID: 0019
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE privacy_exports (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    subject_type text NOT NULL,
    subject_id text NOT NULL,
    status text NOT NULL DEFAULT 'queued',
    reason text,
    requested_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    lease_until timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    expires_at timestamptz,
    counts jsonb,
    json_bytes bigint,
    csv_bytes bigint,
    downloads integer NOT NULL DEFAULT 0,
    last_downloaded_at timestamptz,
    CONSTRAINT privacy_exports_subject_type_check
        CHECK (subject_type IN ('USER_ID', 'ANONYMOUS_ID')),
    CONSTRAINT privacy_exports_status_check
        CHECK (status IN ('queued', 'running', 'done', 'failed'))
);
CREATE INDEX privacy_exports_workspace ON privacy_exports (workspace_id, id);
CREATE INDEX privacy_exports_waiting ON privacy_exports (id)
    WHERE status IN ('queued', 'running');

CREATE TABLE privacy_export_parts (
    export_id bigint NOT NULL REFERENCES privacy_exports (id) ON DELETE CASCADE,
    format text NOT NULL,
    n integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (export_id, format, n),
    CONSTRAINT privacy_export_parts_format_check CHECK (format IN ('json', 'csv'))
);

CREATE TABLE delivered_users (
    user_key text COLLATE "C" NOT NULL,
    destination_id integer NOT NULL,
    events bigint NOT NULL,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    PRIMARY KEY (user_key, destination_id)
);
CREATE INDEX delivered_users_destination ON delivered_users (destination_id);
"""

_DOWN = """
DROP TABLE delivered_users;
DROP TABLE privacy_export_parts;
DROP TABLE privacy_exports;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
